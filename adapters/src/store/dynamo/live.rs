//! Callers on the line of a running conference (`CONF#<conference>` / `LIVE#<leg>`),
//! expiring through `ttl` a day after their last update.

use async_trait::async_trait;
use chrono::Utc;
use teleconf_domain::{ConferenceId, LegId, LiveParticipant};

use super::item::to_item;
use super::{DynamoStore, Lookup};
use crate::error::Result;
use crate::store::LiveStore;
use crate::store::keys::{self};

/// How long a live caller's item outlives its last update (a node that died
/// without closing it): a day.
const LIVE_TTL: chrono::TimeDelta = chrono::TimeDelta::days(1);

#[async_trait]
impl LiveStore for DynamoStore {
    async fn put_live(&self, participant: &LiveParticipant) -> Result<()> {
        let item = to_item(
            participant,
            "live",
            keys::live(participant.conference_id, participant.leg_id),
            &[],
        )?;
        self.put_expiring(item, Utc::now() + LIVE_TTL).await
    }

    async fn remove_live(&self, conference: ConferenceId, leg: LegId) -> Result<()> {
        self.delete(keys::live(conference, leg)).await
    }

    async fn live_participants(&self, conference: ConferenceId) -> Result<Vec<LiveParticipant>> {
        let mut live: Vec<LiveParticipant> = self
            .query(Lookup::partition(keys::conference(conference).0, "LIVE#"))
            .await?;
        live.sort_by_key(|p| (p.joined_at, p.leg_id));
        Ok(live)
    }
}
