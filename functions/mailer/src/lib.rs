//! # teleconf-mailer
//!
//! Outgoing conference mail as a Lambda on the table's DynamoDB stream: every change
//! that calls for a mail becomes one message per recipient, sent through SES exactly
//! once, in the conference's (or the invitee's) language, signed with the provider's
//! branding, with a calendar invitation where there is an event to add.
//!
//! | stream record | mail |
//! |---|---|
//! | conference INSERT | confirmation to the creator (every code) |
//! | conference MODIFY (description, times, codes, recording or language changed) | update to the creator and every invitee |
//! | conference REMOVE | cancellation to the creator and every invitee |
//! | invitation INSERT | invitation with only the invitee's code |
//! | recording INSERT | recording ready, with a link to the portal |
//! | queued mail INSERT (the scheduler, at the end) | attendance report to the creator |
//!
//! **Exactly once.** Each mail has an idempotency key naming what it is
//! (`invitation#<id>`, `update#<conference>#<stream sequence>#<recipient>`) claimed by a
//! conditional write before sending ([`teleconf_adapters::store::DeliveryStore`]): a record
//! delivered twice finds its mails settled. A failed send marks the attempt failed and
//! reports the record as a batch item failure, so Lambda retries it; the attempt that
//! reaches [`Config::max_attempts`] (or an error no retry can fix) dead-letters the mail:
//! the ledger keeps the error and the account's activity feed shows a
//! `delivery_failed` entry. Nothing is dropped silently.
//!
//! ## Layout
//! - [`config`]: the typed configuration, read once in `main`.
//! - [`change`]: a stream record as the change it describes.
//! - [`compose`]: the mails a change calls for, rendered with `teleconf_domain::messages`.
//! - [`deliver`]: one mail sent exactly once, or dead-lettered.
//! - [`deps`]: what they share (the store, SES, the bucket, the branding), built
//!   once in `main`.
//! - [`invoice_notice`]: an issued invoice's mails, read from the store and the bucket.
//! - [`handler`]: the Lambda handler: a stream batch in, batch item failures out.
//! - [`stream`]: the local loop's reader of the table's stream (DynamoDB Streams API),
//!   feeding the same handler the same event shape Lambda does.
//! - [`error`]: the crate's error type.
//! - `main.rs`: Lambda runtime, or `--local` for the loop `make run` starts.

pub mod change;
pub mod compose;
pub mod config;
pub mod deliver;
pub mod deps;
pub mod error;
pub mod handler;
pub mod invoice_notice;
pub mod stream;

pub use config::Config;
pub use deps::{Deps, MailerStore};
pub use error::MailerError;
pub use handler::handle;
