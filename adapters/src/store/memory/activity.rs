//! The activity feed in memory, newest first.

use async_trait::async_trait;
use teleconf_domain::{AccountId, Activity};

use super::MemoryStore;
use crate::error::Result;
use crate::store::ActivityStore;

#[async_trait]
impl ActivityStore for MemoryStore {
    async fn record_activity(&self, activity: &Activity) -> Result<()> {
        self.state()?.activity.insert(activity.id, activity.clone());
        Ok(())
    }

    async fn recent_activity(&self, account: AccountId, limit: usize) -> Result<Vec<Activity>> {
        Ok(self
            .state()?
            .activity
            .values()
            .rev()
            .filter(|a| a.account_id == account)
            .take(limit)
            .cloned()
            .collect())
    }
}
