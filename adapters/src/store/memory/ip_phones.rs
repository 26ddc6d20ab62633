//! IP phones in memory, each source belonging to one account.

use async_trait::async_trait;
use teleconf_domain::{AccountId, IpPhone, IpPhoneSource};

use super::MemoryStore;
use crate::error::{Error, Result};
use crate::store::IpPhoneStore;

#[async_trait]
impl IpPhoneStore for MemoryStore {
    async fn add_ip_phone(&self, phone: &IpPhone) -> Result<()> {
        let mut s = self.state()?;
        if s.ip_phones.contains_key(&phone.source) {
            return Err(Error::Conflict("source"));
        }
        s.ip_phones.insert(phone.source.clone(), phone.clone());
        Ok(())
    }

    async fn ip_phones(&self, account: AccountId) -> Result<Vec<IpPhone>> {
        Ok(self
            .state()?
            .ip_phones
            .values()
            .filter(|p| p.account_id == account)
            .cloned()
            .collect())
    }

    async fn remove_ip_phone(&self, account: AccountId, source: &IpPhoneSource) -> Result<()> {
        let mut s = self.state()?;
        match s.ip_phones.get(source) {
            Some(phone) if phone.account_id == account => {
                s.ip_phones.remove(source);
                Ok(())
            }
            _ => Err(Error::NotFound("ip_phone")),
        }
    }

    async fn all_ip_phones(&self) -> Result<Vec<IpPhone>> {
        Ok(self.state()?.ip_phones.values().cloned().collect())
    }
}
