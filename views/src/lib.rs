//! # teleconf-views
//!
//! The API's answers: the JSON `functions/api` writes (with their OpenAPI schemas)
//! and the portal reads back, declared once. Each view is built from the domain's
//! types (its `new` or `From`), times shown on the account's wall clock ([`local`]).
//! No I/O and no HTTP here: the API's routes decide which view to answer, the
//! portal's pages how to show it.
//!
//! ## Layout
//! - [`accounts`]: an account, its plan, the account created with its owner.
//! - [`users`]: a user; [`me`]: the signed-in user and their account;
//!   [`auth`]: a signed-in session.
//! - [`conferences`]: a conference, its codes and access numbers, the one-time code
//!   to record its intro by phone.
//! - [`participants`]: a caller on the line; [`controls`]: a live control queued;
//!   [`invitations`]: invitations queued.
//! - [`numbers`]: an access number and what a call to it does; [`ip_phones`]: an
//!   IP phone of the account; [`prompts`]: a stored prompt.
//! - [`cdrs`]: call detail records; [`recordings`]: a recording.
//! - [`invoices`]: an invoice, issued or the month's running estimate.
//! - [`activity`]: an entry of the account's feed.

pub mod accounts;
pub mod activity;
pub mod auth;
pub mod cdrs;
pub mod conferences;
pub mod controls;
pub mod invitations;
pub mod invoices;
pub mod ip_phones;
pub mod me;
pub mod numbers;
pub mod participants;
pub mod prompts;
pub mod recordings;
pub mod users;

use chrono::{DateTime, FixedOffset, Utc};
use chrono_tz::Tz;

/// An instant on the account's wall clock, printed RFC 3339 with its offset.
pub fn local(t: DateTime<Utc>, tz: Tz) -> DateTime<FixedOffset> {
    t.with_timezone(&tz).fixed_offset()
}
