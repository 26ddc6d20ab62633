//! Billing's reads of the store; the arithmetic is the domain's
//! (`teleconf_domain::billing`).
//!
//! ## Layout
//! - [`statement`]: reads a month out of the store and drafts its invoice (issued by
//!   functions/billing, shown as the running estimate by the API).
//! - [`notice`]: the invoice mails a stream-driven mailer sends once an invoice is
//!   issued (one per owner, the PDF attached).

pub mod notice;
pub mod statement;
