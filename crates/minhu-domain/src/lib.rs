#![doc = include_str!("../README.md")]

pub mod action;
pub mod calendar;
pub mod enums;
pub mod knowledge;
pub mod lifecycle;
pub mod masking;
pub mod model;
pub mod permissions;
pub mod policy;
pub mod repeats;
pub mod warning;

pub use action::{Action, ActionContext, DomainError, Transition};
pub use calendar::Calendar;
pub use enums::*;
pub use model::*;
pub use policy::{Limits, PolicyRule, TimeLimit};
