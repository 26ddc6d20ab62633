//! # teleconf-billing
//!
//! The monthly invoice, as a Lambda on an EventBridge schedule (and on demand): each
//! account's closed CDR legs of the month priced with the plan in force
//! (`teleconf_domain::billing`), summed per conference, plus late legs of earlier
//! invoiced months as adjustment lines, the plan fee and taxes; the invoice item
//! written once (a conditional write), its CSV, CDR detail and PDF in S3 beside it,
//! and the finance export of the month across accounts. The invoice item's insertion
//! in the table's stream is what the mailer sends the invoice on, once
//! (`teleconf_mailer::invoice_notice`).
//!
//! ## Layout
//! - [`event`]: the scheduled and on-demand events, read into a [`BillingRequest`].
//! - [`run`]: the handler: every account (or one), then each month's export.
//! - [`issue`]: one account's month: files first, then the conditional item.
//! - [`export`]: the finance export CSV of a month.
//! - [`pdf`]: the invoice PDF (krilla, DejaVu Sans shipped in `assets/fonts`).
//! - [`config`]: the binary's settings; [`error`]: the crate's error type.

pub mod config;
pub mod error;
pub mod event;
pub mod export;
pub mod issue;
pub mod pdf;
pub mod run;

use std::sync::Arc;

use teleconf_adapters::blobs::BlobStore;
use teleconf_adapters::store::Store;
use teleconf_domain::messages::Branding;

pub use error::BillingError;
pub use event::BillingRequest;
pub use run::{Report, handle};

/// What the handler works with, built once in `main` (or by a test).
#[derive(Clone)]
pub struct Billing {
    /// CDRs, accounts, conferences, invoices.
    pub store: Arc<dyn Store>,
    /// Where the invoice files and the finance exports go.
    pub blobs: Arc<dyn BlobStore>,
    /// The provider's name and support line, printed on the PDF.
    pub branding: Branding,
}

impl std::fmt::Debug for Billing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Billing").finish_non_exhaustive()
    }
}
