//! The rooms' leases (`ROOM#<conference id>` / `ROOM`). The condition compares
//! `lease_until`, the expiry in epoch milliseconds (a number: the entity's
//! `expires_at` text does not sort reliably), with the claim's `now`.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use teleconf_domain::{ConferenceId, NodeId, RoomLease};

use super::item::to_item;
use super::{DynamoStore, is_conditional_failure};
use crate::aws::classify;
use crate::error::{Error, Result};
use crate::store::keys;
use crate::store::rooms::{Claim, ROOM_TTL, RoomStore};

/// The item's expiry, as a number the condition compares.
const LEASE_UNTIL: &str = "lease_until";

/// A claim that finds the lease gone or expired between its write and its read
/// tries again, this many times at most.
const CLAIM_TRIES: usize = 3;

#[async_trait]
impl RoomStore for DynamoStore {
    async fn claim_room(&self, lease: &RoomLease, now: DateTime<Utc>) -> Result<Claim> {
        let mut item = to_item(lease, "room_lease", keys::room(lease.conference_id), &[])?;
        item.insert(
            LEASE_UNTIL.into(),
            AttributeValue::N(lease.expires_at.timestamp_millis().to_string()),
        );
        item.insert(
            keys::TTL.into(),
            AttributeValue::N((lease.expires_at + ROOM_TTL).timestamp().to_string()),
        );
        for _ in 0..CLAIM_TRIES {
            let result = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item.clone()))
                .condition_expression("attribute_not_exists(pk) OR #until <= :now OR #owner = :me")
                .expression_attribute_names("#until", LEASE_UNTIL)
                .expression_attribute_names("#owner", "owner")
                .expression_attribute_values(
                    ":now",
                    AttributeValue::N(now.timestamp_millis().to_string()),
                )
                .expression_attribute_values(":me", AttributeValue::S(lease.owner.to_string()))
                .send()
                .await;
            match result {
                Ok(_) => return Ok(Claim::Mine),
                Err(e) if is_conditional_failure(&e) => {
                    match self.room_lease(lease.conference_id).await? {
                        Some(held) if held.is_live(now) && held.owner != lease.owner => {
                            return Ok(Claim::Held(held));
                        }
                        // Released or expired since the write: claim again.
                        _ => continue,
                    }
                }
                Err(e) => return Err(classify("PutItem", e)),
            }
        }
        Err(Error::Unavailable(format!(
            "the lease of room {} changed hands {CLAIM_TRIES} times during a claim",
            lease.conference_id
        )))
    }

    async fn release_room(&self, conference: ConferenceId, owner: &NodeId) -> Result<()> {
        // Another node's lease (this one expired and was taken) stays.
        let mine = (
            "#owner = :me".into(),
            Some(HashMap::from([("#owner".into(), "owner".into())])),
            Some(HashMap::from([(
                ":me".into(),
                AttributeValue::S(owner.to_string()),
            )])),
        );
        self.delete_if(keys::room(conference), mine).await?;
        Ok(())
    }

    async fn room_lease(&self, conference: ConferenceId) -> Result<Option<RoomLease>> {
        self.get(keys::room(conference)).await
    }
}
