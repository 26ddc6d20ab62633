//! The activity feed (`ACCOUNT#<account>` / `ACTIVITY#<id>`), newest first.

use async_trait::async_trait;
use teleconf_domain::{AccountId, Activity};

use super::item::to_item;
use super::{DynamoStore, Lookup};
use crate::error::Result;
use crate::store::ActivityStore;
use crate::store::keys::{self};

#[async_trait]
impl ActivityStore for DynamoStore {
    async fn record_activity(&self, activity: &Activity) -> Result<()> {
        let item = to_item(
            activity,
            "activity",
            keys::activity(activity.account_id, activity.id),
            &[],
        )?;
        self.put_new(item, "activity").await
    }

    async fn recent_activity(&self, account: AccountId, limit: usize) -> Result<Vec<Activity>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        self.query(Lookup::partition(keys::by_account(account), "ACTIVITY#").newest(limit))
            .await
    }
}
