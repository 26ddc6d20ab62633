//! # teleconf-api
//!
//! The HTTPS API (and, from issue #8, the portal's pages): one axum [`Router`] that
//! runs under `lambda_http` in AWS and on a plain TCP listener locally. No second
//! implementation: `main` only chooses the entry point.
//!
//! ## Layout
//! - [`router`]: the routes and the shared state handlers receive.
//! - [`config`]: the binary's typed configuration, read from the environment once.

pub mod config;
pub mod router;

pub use router::{AppState, router};
