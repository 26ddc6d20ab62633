//! The mailer's exactly-once ledger (`DELIVERY#<key>`): claims with a lease, then
//! the outcome.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use teleconf_domain::{Claim, DeliveryKey, Outcome};

use super::{DynamoStore, conflict_or, is_conditional_failure};
use crate::aws::classify;
use crate::error::{Error, Result};
use crate::store::keys::{self, KIND, PK, SK};
use crate::store::{DeliveryStore, lifecycle};

/// The ledger's states, as stored.
const SENDING: &str = "sending";
const FAILED: &str = "failed";
const SENT: &str = "sent";
const DEAD_LETTER: &str = "dead_letter";

#[async_trait]
impl DeliveryStore for DynamoStore {
    async fn claim_delivery(
        &self,
        key: &DeliveryKey,
        now: DateTime<Utc>,
        lease: chrono::Duration,
    ) -> Result<Claim> {
        let (pk, sk) = keys::delivery(key);
        let expires = (now + lifecycle::DELIVERY_RETENTION)
            .timestamp()
            .to_string();
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(pk))
            .key(SK, AttributeValue::S(sk))
            .update_expression(
                "SET #state = :sending, claimed_at = :now, #kind = :kind, #ttl = :ttl \
                 ADD attempts :one",
            )
            .condition_expression(
                "attribute_not_exists(pk) OR #state = :failed \
                 OR (#state = :sending AND claimed_at < :stale)",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#kind", KIND)
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_values(":sending", AttributeValue::S(SENDING.into()))
            .expression_attribute_values(":failed", AttributeValue::S(FAILED.into()))
            .expression_attribute_values(":now", AttributeValue::S(keys::instant(now)))
            .expression_attribute_values(":stale", AttributeValue::S(keys::instant(now - lease)))
            .expression_attribute_values(":kind", AttributeValue::S("delivery".into()))
            .expression_attribute_values(":ttl", AttributeValue::N(expires))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => {
                let attempt = match out.attributes.as_ref().and_then(|a| a.get("attempts")) {
                    Some(AttributeValue::N(n)) => n.parse().unwrap_or(1),
                    _ => 1,
                };
                Ok(Claim::Mine { attempt })
            }
            Err(e) if is_conditional_failure(&e) => {
                let state =
                    self.get_raw(keys::delivery(key))
                        .await?
                        .and_then(|mut item| match item.remove("state") {
                            Some(AttributeValue::S(s)) => Some(s),
                            _ => None,
                        });
                Ok(match state.as_deref() {
                    Some(SENT | DEAD_LETTER) => Claim::Settled,
                    _ => Claim::Busy,
                })
            }
            Err(e) => Err(classify("UpdateItem", e)),
        }
    }

    async fn settle_delivery(&self, key: &DeliveryKey, outcome: &Outcome) -> Result<()> {
        let (pk, sk) = keys::delivery(key);
        let (state, detail_name, detail) = match outcome {
            Outcome::Sent { message_id, .. } => (SENT, "message_id", message_id.as_str()),
            Outcome::Failed { error } => (FAILED, "error", error.as_str()),
            Outcome::DeadLettered { error, .. } => (DEAD_LETTER, "error", error.as_str()),
        };
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(pk))
            .key(SK, AttributeValue::S(sk))
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#detail", detail_name)
            .expression_attribute_values(":state", AttributeValue::S(state.into()))
            .expression_attribute_values(":detail", AttributeValue::S(detail.into()));
        update = match outcome {
            Outcome::Sent { at, .. } | Outcome::DeadLettered { at, .. } => update
                .update_expression("SET #state = :state, #detail = :detail, settled_at = :at")
                .expression_attribute_values(":at", AttributeValue::S(keys::instant(*at))),
            Outcome::Failed { .. } => {
                update.update_expression("SET #state = :state, #detail = :detail")
            }
        };
        update
            .send()
            .await
            .map_err(|e| conflict_or("UpdateItem", e, "delivery"))
            .map_err(|e| match e {
                Error::Conflict(_) => Error::NotFound("delivery"),
                e => e,
            })?;
        Ok(())
    }
}
