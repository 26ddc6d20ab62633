//! # teleconf-billing (not built yet: issue #7)
//!
//! Will own the monthly invoice as a Lambda on an EventBridge schedule (and on
//! demand): every closed CDR leg of the month priced with the plan in force
//! (`teleconf_core::billing`), summed per conference, plus the plan fee and taxes;
//! the invoice item, its CSV and PDF in S3, and the finance export across accounts,
//! each written once.
//!
//! Until then this crate is only this description: no binary, so nothing pretends
//! to bill.
