//! Shared test support: real databases (SQLite in a temporary folder, PostgreSQL in a fresh
//! database per test) and a running app.
#![allow(dead_code)]

pub mod app;
pub mod builders;
pub mod db;
