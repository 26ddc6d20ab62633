//! Billing's reads of the store; the arithmetic is the domain's
//! (`teleconf_domain::billing`).
//!
//! The invoice mails' reads (the invoice, its owners, its PDF) are the mailer's
//! (`functions/mailer/src/invoice_notice.rs`).
//!
//! ## Layout
//! - [`statement`]: reads a month out of the store and drafts its invoice (issued by
//!   functions/billing, shown as the running estimate by the API).

pub mod statement;
