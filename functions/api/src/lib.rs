//! # teleconf-api
//!
//! The HTTPS API: one axum router that runs under `lambda_http` in AWS and on a
//! plain TCP listener locally. `main` mounts the customer portal (`teleconf-portal`)
//! onto it and chooses the entry point; there is no second implementation. This
//! library does not use the portal; its JSON views are `teleconf-views`, which the
//! portal reads back.
//!
//! ## Layout
//! - [`router`]: the routes and the OpenAPI document generated from them.
//! - [`routes`]: one module per resource (accounts, users, numbers, prompts,
//!   conferences, invitations, cdrs, recordings, invoices and the running estimate,
//!   finance exports, activity, me, health): each parses the request, calls one
//!   use case and maps its answer to a view or an error.
//! - [`usecases`]: what each operation does apart from HTTP (the permission check,
//!   the lifecycle rules, the store), on the narrow store traits it needs; the
//!   signed-in [`usecases::Caller`].
//! - [`download`]: CSV attachments.
//! - [`auth`]: login and logout, the failed-login throttle; [`tokens`]: signed
//!   expiring tokens.
//! - [`extract`]: JSON bodies that name the failing field, the signed-in caller
//!   from the bearer token, the client's address.
//! - [`error`]: the use cases' error, the HTTP error and the one mapping between
//!   them (status table there).
//! - [`state`]: what handlers share; [`config`]: the binary's settings.

pub mod auth;
pub mod config;
pub mod download;
pub mod error;
pub mod extract;
pub mod router;
pub mod routes;
pub mod state;
pub mod tokens;
pub mod usecases;

pub use router::router;
pub use state::AppState;
