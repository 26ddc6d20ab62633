//! The mailer's ledger in memory.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use teleconf_domain::{Claim, DeliveryKey, Outcome};

use super::{Delivery, MemoryStore};
use crate::error::{Error, Result};
use crate::store::DeliveryStore;

#[async_trait]
impl DeliveryStore for MemoryStore {
    async fn claim_delivery(
        &self,
        key: &DeliveryKey,
        now: DateTime<Utc>,
        lease: chrono::Duration,
    ) -> Result<Claim> {
        let mut s = self.state()?;
        let attempts = match s.deliveries.get(key) {
            None => 0,
            Some(Delivery::Failed { attempts }) => *attempts,
            Some(Delivery::Sending {
                attempts,
                claimed_at,
            }) if *claimed_at < now - lease => *attempts,
            Some(Delivery::Sending { .. }) => return Ok(Claim::Busy),
            Some(Delivery::Settled) => return Ok(Claim::Settled),
        };
        let attempt = attempts + 1;
        s.deliveries.insert(
            key.clone(),
            Delivery::Sending {
                attempts: attempt,
                claimed_at: now,
            },
        );
        Ok(Claim::Mine { attempt })
    }

    async fn settle_delivery(&self, key: &DeliveryKey, outcome: &Outcome) -> Result<()> {
        let mut s = self.state()?;
        let entry = s
            .deliveries
            .get_mut(key)
            .ok_or(Error::NotFound("delivery"))?;
        *entry = match (outcome, &*entry) {
            (Outcome::Failed { .. }, Delivery::Sending { attempts, .. }) => Delivery::Failed {
                attempts: *attempts,
            },
            (Outcome::Failed { .. }, other) => other.clone(),
            (Outcome::Sent { .. } | Outcome::DeadLettered { .. }, _) => Delivery::Settled,
        };
        Ok(())
    }
}
