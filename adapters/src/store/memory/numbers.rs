//! Access numbers in memory, each assigned once.

use async_trait::async_trait;
use teleconf_domain::{AccountId, E164, PhoneNumber};

use super::MemoryStore;
use crate::error::{Error, Result};
use crate::store::NumberStore;

#[async_trait]
impl NumberStore for MemoryStore {
    async fn create_number(&self, number: &PhoneNumber) -> Result<()> {
        let mut s = self.state()?;
        if s.numbers.contains_key(&number.number) {
            return Err(Error::Conflict("number"));
        }
        s.numbers.insert(number.number.clone(), number.clone());
        Ok(())
    }

    async fn number(&self, e164: &E164) -> Result<Option<PhoneNumber>> {
        Ok(self.state()?.numbers.get(e164).cloned())
    }

    async fn numbers(&self, account: AccountId) -> Result<Vec<PhoneNumber>> {
        Ok(self
            .state()?
            .numbers
            .values()
            .filter(|n| n.account_id == account)
            .cloned()
            .collect())
    }

    async fn update_number(&self, number: &PhoneNumber) -> Result<()> {
        let mut s = self.state()?;
        match s.numbers.get_mut(&number.number) {
            Some(slot) if slot.account_id == number.account_id => {
                *slot = number.clone();
                Ok(())
            }
            _ => Err(Error::NotFound("number")),
        }
    }

    async fn delete_number(&self, number: &PhoneNumber) -> Result<()> {
        self.state()?.numbers.remove(&number.number);
        Ok(())
    }
}
