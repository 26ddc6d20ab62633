//! Billing: CDR legs into money, exactly (decimal, never floating point) and once.
//!
//! ## Layout
//! - [`pricing`]: one leg's billable seconds (rounded up to the plan's increment),
//!   money to the cent, a group's [`Usage`].
//! - [`usage`]: the hot path, a pure function over a stream of legs: per conference,
//!   legs and billable seconds under the plan in force, priced once per group.
//! - [`invoice`]: a month made into an [`Invoice`](crate::domain::Invoice): lines,
//!   late-leg adjustments, plan fee, taxes, total, due date.
//! - [`statement`]: reads a month out of the store and drafts its invoice (issued by
//!   functions/billing, shown as the running estimate by the API).
//! - [`csv`]: the invoice, its CDR detail and the finance export as CSV.
//! - [`notice`]: the invoice mails a stream-driven mailer sends once an invoice is
//!   issued (one per owner, the PDF attached).

pub mod csv;
pub mod invoice;
pub mod notice;
pub mod pricing;
pub mod statement;
pub mod usage;

pub use pricing::{Usage, billable_seconds, price, to_cents};
