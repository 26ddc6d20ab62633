//! Issued invoices (`ACCOUNT#<account>` / `INVOICE#<YYYY-MM>`), each written once.

use async_trait::async_trait;
use teleconf_domain::{AccountId, Invoice, YearMonth};

use super::item::to_item;
use super::{DynamoStore, Lookup};
use crate::error::Result;
use crate::store::InvoiceStore;
use crate::store::keys::{self};

#[async_trait]
impl InvoiceStore for DynamoStore {
    async fn create_invoice(&self, invoice: &Invoice) -> Result<()> {
        self.put_new(
            to_item(
                invoice,
                "invoice",
                keys::invoice(invoice.account_id, invoice.month),
                &[],
            )?,
            "invoice",
        )
        .await
    }

    async fn invoice(&self, account: AccountId, month: YearMonth) -> Result<Option<Invoice>> {
        self.get(keys::invoice(account, month)).await
    }

    async fn invoices(&self, account: AccountId) -> Result<Vec<Invoice>> {
        self.query(Lookup::partition(keys::by_account(account), "INVOICE#").newest(usize::MAX))
            .await
    }
}
