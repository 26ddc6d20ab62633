//! Invoices: the issued ones (written by the billing function) and the running,
//! not yet issued, estimate of the current month (owner).

use std::time::Duration;

use chrono::{DateTime, Utc};
use teleconf_adapters::billing::statement::draft_invoice;
use teleconf_adapters::blobs::BlobStore;
use teleconf_adapters::store::{CdrStore, ConferenceStore, InvoiceStore};
use teleconf_domain::billing::invoice::ESTIMATE_LATE_LEG_MONTHS;
use teleconf_domain::permissions::{Action, decide};
use teleconf_domain::{BlobKey, Invoice, YearMonth};
use teleconf_views::invoices::InvoiceStatus;

use super::Caller;
use crate::error::Error;

/// How long an invoice PDF link works.
const PDF_LINK_TTL: Duration = Duration::from_secs(15 * 60);

/// An invoice as the owner sees it: issued (with a link to its PDF) or the running
/// estimate.
#[derive(Debug)]
pub struct Shown {
    /// The invoice.
    pub invoice: Invoice,
    /// Issued or estimate.
    pub status: InvoiceStatus,
    /// A link to the PDF valid 15 minutes; none on an estimate, nor when only the
    /// CSV was asked for.
    pub pdf_url: Option<String>,
}

/// The current month on the caller's account's wall clock.
fn current_month(now: DateTime<Utc>, caller: &Caller) -> YearMonth {
    YearMonth::of(now, caller.account.time_zone)
}

fn may_view(caller: &Caller) -> Result<(), Error> {
    Error::check(
        decide(&caller.actor(), Action::ViewInvoices(caller.account.id)),
        "invoice",
    )
}

/// The running estimate of the current month (late legs looked for in last month only).
async fn estimate<S: CdrStore + ConferenceStore + InvoiceStore + ?Sized>(
    store: &S,
    now: DateTime<Utc>,
    caller: &Caller,
) -> Result<Shown, Error> {
    let (invoice, _) = draft_invoice(
        store,
        &caller.account,
        current_month(now, caller),
        now,
        ESTIMATE_LATE_LEG_MONTHS,
    )
    .await?;
    Ok(Shown {
        invoice,
        status: InvoiceStatus::Estimate,
        pdf_url: None,
    })
}

/// An issued invoice, with its PDF link.
async fn issued(blobs: &dyn BlobStore, invoice: Invoice) -> Result<Shown, Error> {
    let url = blobs
        .download_url(
            &BlobKey::invoice_pdf(invoice.account_id, invoice.month),
            PDF_LINK_TTL,
        )
        .await?;
    Ok(Shown {
        invoice,
        status: InvoiceStatus::Issued,
        pdf_url: Some(url),
    })
}

/// The current month's running estimate (unless issued already), then the issued
/// invoices, newest first.
pub async fn list<S: CdrStore + ConferenceStore + InvoiceStore + ?Sized>(
    store: &S,
    blobs: &dyn BlobStore,
    now: DateTime<Utc>,
    caller: &Caller,
) -> Result<Vec<Shown>, Error> {
    may_view(caller)?;
    let all = store.invoices(caller.account.id).await?;
    let mut out = Vec::with_capacity(all.len() + 1);
    if !all.iter().any(|i| i.month == current_month(now, caller)) {
        out.push(estimate(store, now, caller).await?);
    }
    for invoice in all {
        out.push(issued(blobs, invoice).await?);
    }
    Ok(out)
}

/// The invoice of `month` (YYYY-MM; the current month: its running estimate), with
/// its PDF link when `with_pdf_link`.
pub async fn get<S: CdrStore + ConferenceStore + InvoiceStore + ?Sized>(
    store: &S,
    blobs: &dyn BlobStore,
    now: DateTime<Utc>,
    caller: &Caller,
    month: &str,
    with_pdf_link: bool,
) -> Result<Shown, Error> {
    may_view(caller)?;
    let month: YearMonth = month.parse().map_err(|_| Error::NotFound("invoice"))?;
    match store.invoice(caller.account.id, month).await? {
        Some(invoice) if with_pdf_link => issued(blobs, invoice).await,
        Some(invoice) => Ok(Shown {
            invoice,
            status: InvoiceStatus::Issued,
            pdf_url: None,
        }),
        None if month == current_month(now, caller) => estimate(store, now, caller).await,
        None => Err(Error::NotFound("invoice")),
    }
}
