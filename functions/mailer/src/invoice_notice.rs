//! The mails once an invoice is issued: the invoice item appears once in the table
//! (created with a condition, never rewritten), and for it [`invoice_mails`] reads
//! the invoice, the account's owners and the PDF stored beside it, and renders one
//! mail per owner (`teleconf_domain::invoice::mail`).

use teleconf_domain::invoice;
use teleconf_domain::mail::OutgoingMail;
use teleconf_domain::messages::Branding;
use teleconf_domain::{AccountId, BlobKey, YearMonth};

use teleconf_adapters::blobs::BlobStore;
use teleconf_adapters::store::{InvoiceStore, UserStore};
use teleconf_adapters::{Error, Result};

/// The mails announcing `account`'s invoice for `month`, one per owner, each with
/// the invoice PDF attached. `NotFound` until the invoice and its PDF are stored.
pub async fn invoice_mails<S>(
    store: &S,
    blobs: &dyn BlobStore,
    branding: &Branding,
    account: AccountId,
    month: YearMonth,
) -> Result<Vec<OutgoingMail>>
where
    S: InvoiceStore + UserStore + ?Sized,
{
    let invoice = store
        .invoice(account, month)
        .await?
        .ok_or(Error::NotFound("invoice"))?;
    let pdf = blobs
        .get(&BlobKey::invoice_pdf(account, month))
        .await?
        .ok_or(Error::NotFound("invoice PDF"))?;
    let users = store.users(account).await?;
    Ok(invoice::mail::invoice_mails(
        &invoice, &users, &pdf, branding,
    ))
}
