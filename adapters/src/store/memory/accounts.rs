//! Accounts in memory.

use async_trait::async_trait;
use teleconf_domain::{Account, AccountId};

use super::MemoryStore;
use crate::error::{Error, Result};
use crate::store::AccountStore;

#[async_trait]
impl AccountStore for MemoryStore {
    async fn create_account(&self, account: &Account) -> Result<()> {
        let mut s = self.state()?;
        if s.accounts.contains_key(&account.id) {
            return Err(Error::Conflict("account"));
        }
        s.accounts.insert(account.id, account.clone());
        Ok(())
    }

    async fn account(&self, id: AccountId) -> Result<Option<Account>> {
        Ok(self.state()?.accounts.get(&id).cloned())
    }

    async fn accounts(&self) -> Result<Vec<Account>> {
        Ok(self.state()?.accounts.values().cloned().collect())
    }

    async fn update_account(&self, account: &Account) -> Result<()> {
        let mut s = self.state()?;
        let slot = s
            .accounts
            .get_mut(&account.id)
            .ok_or(Error::NotFound("account"))?;
        *slot = account.clone();
        Ok(())
    }
}
