//! Issuing one account's invoice for one month, exactly once.
//!
//! The files first, then the item: the invoice CSV, the CDR detail CSV and the PDF
//! go to S3, then the invoice item is created with `attribute_not_exists` — the one
//! write that makes it issued, and whose insertion in the table's stream tells the
//! mailer to send it (so the PDF is already there when it does). A run that finds the
//! invoice issued writes its CSV and PDF again from the stored invoice (the same
//! bytes), never a second invoice; a run that loses a race to another does the same.

use teleconf_adapters::billing::statement::draft_invoice;
use teleconf_domain::BlobKey;
use teleconf_domain::billing::csv::cdr_detail_csv;
use teleconf_domain::billing::invoice::LATE_LEG_MONTHS;
use teleconf_domain::invoice::csv::invoice_csv;
use teleconf_domain::{Account, CallLeg, Invoice, YearMonth};

use crate::error::BillingError;
use crate::{Billing, pdf};

/// What issuing did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The invoice was issued by this run (its mail goes out once, now).
    Issued(Invoice),
    /// The invoice had been issued before; its files were written again, unchanged.
    AlreadyIssued(Invoice),
    /// Nothing to bill: no usage, no late legs and no plan fee.
    NothingToBill,
}

/// The MIME types of the files.
const CSV: &str = "text/csv; charset=utf-8";
const PDF: &str = "application/pdf";

/// Issues `account`'s invoice for `month`, as of `now`.
pub async fn issue(
    deps: &Billing,
    account: &Account,
    month: YearMonth,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Outcome, BillingError> {
    BillingError::unless_over(month, account.time_zone, now)?;
    if let Some(stored) = deps.store.invoice(account.id, month).await? {
        write_files(deps, &stored, None).await?;
        return Ok(Outcome::AlreadyIssued(stored));
    }
    let (invoice, legs) =
        draft_invoice(deps.store.as_ref(), account, month, now, LATE_LEG_MONTHS).await?;
    if invoice.lines.is_empty() && invoice.plan_fee.is_zero() {
        return Ok(Outcome::NothingToBill);
    }
    write_files(deps, &invoice, Some((account, &legs))).await?;
    match deps.store.create_invoice(&invoice).await {
        Ok(()) => {
            tracing::info!(
                account = %account.id, %month, number = %invoice.number,
                lines = invoice.lines.len(), total = %invoice.total, "invoice issued"
            );
            Ok(Outcome::Issued(invoice))
        }
        Err(teleconf_adapters::Error::Conflict(_)) => {
            // Another run issued it between our read and our write: theirs stands.
            let stored = deps
                .store
                .invoice(account.id, month)
                .await?
                .ok_or(teleconf_adapters::Error::NotFound("invoice"))?;
            write_files(deps, &stored, Some((account, &legs))).await?;
            Ok(Outcome::AlreadyIssued(stored))
        }
        Err(e) => Err(e.into()),
    }
}

/// Writes the invoice's CSV and PDF, and its CDR detail when `detail` is given (an
/// issued invoice's detail is kept as written when it was issued: a leg that came
/// late since is billed by a later invoice, as an adjustment).
async fn write_files(
    deps: &Billing,
    invoice: &Invoice,
    detail: Option<(&Account, &[CallLeg])>,
) -> Result<(), BillingError> {
    let month = invoice.month;
    let account_id = invoice.account_id;
    deps.blobs
        .put(
            &BlobKey::invoice_csv(account_id, month),
            invoice_csv(invoice)?,
            CSV,
        )
        .await?;
    deps.blobs
        .put(
            &BlobKey::invoice_pdf(account_id, month),
            pdf::render(invoice, &deps.branding)?,
            PDF,
        )
        .await?;
    if let Some((account, legs)) = detail {
        deps.blobs
            .put(
                &BlobKey::invoice_cdrs(account.id, month),
                cdr_detail_csv(account, legs)?,
                CSV,
            )
            .await?;
    }
    Ok(())
}
