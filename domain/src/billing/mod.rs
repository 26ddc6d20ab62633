//! Billing: CDR legs into money, exactly (decimal, never floating point) and once.
//! Reading the legs out of the store and issuing the invoice are the adapters' and
//! the billing function's; everything here is arithmetic on values.
//!
//! ## Layout
//! - [`pricing`]: one leg's billable seconds (rounded up to the plan's increment),
//!   money to the cent, a group's [`Usage`].
//! - [`usage`]: the hot path, a pure function over a stream of legs: per conference,
//!   legs and billable seconds under the plan in force, priced once per group.
//! - [`invoice`]: a month made into an [`Invoice`](crate::Invoice): lines,
//!   late-leg adjustments, plan fee, taxes, total, due date.
//! - [`csv`]: the CDR detail behind an invoice and the finance export as CSV (the
//!   invoice's own CSV is [`crate::invoice::csv`]).

pub mod csv;
pub mod invoice;
pub mod pricing;
pub mod usage;

pub use pricing::{Usage, billable_seconds, price, to_cents};
