//! # teleconf-api
//!
//! The HTTPS API (and, from issue #8, the portal's pages): one axum router that runs
//! under `lambda_http` in AWS and on a plain TCP listener locally. `main` only
//! chooses the entry point; there is no second implementation.
//!
//! ## Layout
//! - [`router`]: the routes and the OpenAPI document generated from them.
//! - [`routes`]: one module per resource (accounts, users, numbers, prompts,
//!   conferences, invitations, cdrs, recordings, invoices and the running estimate,
//!   finance exports, activity, me, health).
//! - [`auth`]: login, signed expiring tokens, the failed-login throttle.
//! - [`extract`]: JSON bodies that name the failing field, the signed-in caller.
//! - [`error`]: the error type and its one mapping to HTTP (status table there).
//! - [`state`]: what handlers share; [`config`]: the binary's settings.

pub mod auth;
pub mod config;
pub mod error;
pub mod extract;
pub mod router;
pub mod routes;
pub mod state;

pub use router::router;
pub use state::AppState;
