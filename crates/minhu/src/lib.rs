//! minhu (民呼): the work-order platform of a 12345 government service hotline.
//!
//! Layers, from the inside out: `minhu_domain` (pure rules) → [`storage`] (one interface, one
//! implementation per backend) → [`service`] (use cases: gather facts, decide, store, audit) →
//! [`http`] (thin JSON handlers) and [`cli`].

pub mod bench;
pub mod cli;
pub mod config;
pub mod demo;
pub mod generate;
pub mod http;
pub mod service;
pub mod storage;
pub mod web;
