//! One-time intro codes in memory.

use async_trait::async_trait;
use teleconf_domain::{IntroCode, IntroGrant};

use super::MemoryStore;
use crate::error::{Error, Result};
use crate::store::IntroCodeStore;

#[async_trait]
impl IntroCodeStore for MemoryStore {
    async fn create_intro_grant(&self, grant: &IntroGrant) -> Result<()> {
        let mut s = self.state()?;
        if s.intro_grants.contains_key(&grant.code) {
            return Err(Error::Conflict("intro_code"));
        }
        s.intro_grants.insert(grant.code.clone(), grant.clone());
        Ok(())
    }

    async fn intro_grant(&self, code: &IntroCode) -> Result<Option<IntroGrant>> {
        Ok(self.state()?.intro_grants.get(code).cloned())
    }

    async fn spend_intro_grant(&self, code: &IntroCode) -> Result<()> {
        self.state()?.intro_grants.remove(code);
        Ok(())
    }
}
