//! The finance team's export of a month: one CSV across every account's invoice for
//! that month, rewritten whole after each run (from the stored invoices, so the
//! same invoices give the same bytes). `GET /v1/exports/{YYYY-MM}` serves it.

use teleconf_domain::BlobKey;
use teleconf_domain::billing::csv::finance_export_csv;
use teleconf_domain::{Invoice, YearMonth};

use crate::Billing;
use crate::error::BillingError;

/// Writes the export of `month`; returns its key and how many invoices it lists.
pub async fn write_finance_export(
    deps: &Billing,
    month: YearMonth,
) -> Result<(BlobKey, usize), BillingError> {
    let mut invoices: Vec<Invoice> = Vec::new();
    for account in deps.store.accounts().await? {
        if let Some(invoice) = deps.store.invoice(account.id, month).await? {
            invoices.push(invoice);
        }
    }
    let key = BlobKey::finance_export(month);
    deps.blobs
        .put(
            &key,
            finance_export_csv(&invoices)?,
            "text/csv; charset=utf-8",
        )
        .await?;
    tracing::info!(%month, invoices = invoices.len(), key = key.as_str(), "finance export written");
    Ok((key, invoices.len()))
}
