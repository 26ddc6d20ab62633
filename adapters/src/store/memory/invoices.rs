//! Issued invoices in memory, one per account and month.

use async_trait::async_trait;
use teleconf_domain::{AccountId, Invoice, YearMonth};

use super::MemoryStore;
use crate::error::{Error, Result};
use crate::store::InvoiceStore;

#[async_trait]
impl InvoiceStore for MemoryStore {
    async fn create_invoice(&self, invoice: &Invoice) -> Result<()> {
        let mut s = self.state()?;
        let key = (invoice.account_id, invoice.month);
        if s.invoices.contains_key(&key) {
            return Err(Error::Conflict("invoice"));
        }
        s.invoices.insert(key, invoice.clone());
        Ok(())
    }

    async fn invoice(&self, account: AccountId, month: YearMonth) -> Result<Option<Invoice>> {
        Ok(self.state()?.invoices.get(&(account, month)).cloned())
    }

    async fn invoices(&self, account: AccountId) -> Result<Vec<Invoice>> {
        Ok(self
            .state()?
            .invoices
            .values()
            .rev()
            .filter(|i| i.account_id == account)
            .cloned()
            .collect())
    }
}
