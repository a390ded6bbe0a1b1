//! Préau: the school server in one binary.
//!
//! The command line (`cli`) loads the configuration (`config`), asks the
//! modules (`modules`) for a plan of typed changes (`engine`) that the host
//! layer (`host`) performs; state lives in SQLite (`store`); `server` is
//! the HTTPS daemon (transport) and `web` the application it serves. docs/ARCHITECTURE.md follows a configuration and a
//! request through these files.

pub mod auth;
pub mod backup;
pub mod booking;
pub mod cli;
pub mod config;
pub mod directory;
pub mod engine;
pub mod host;
pub mod logging;
pub mod modules;
pub mod net;
pub mod server;
pub mod sso;
pub mod status;
pub mod store;
pub mod tls;
pub mod web;
