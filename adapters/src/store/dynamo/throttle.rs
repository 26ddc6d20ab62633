//! Failure counters per attempt and window (`THROTTLE#<attempt>`), and locks that
//! are only ever lengthened.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use teleconf_domain::{Attempt, Limit};

use super::DynamoStore;
use super::item::Item;
use crate::aws::classify;
use crate::error::Result;
use crate::store::ThrottleStore;
use crate::store::keys::{self, KIND, PK, SK};

#[async_trait]
impl ThrottleStore for DynamoStore {
    async fn record_failure(
        &self,
        attempt: &Attempt,
        limit: &Limit,
        now: DateTime<Utc>,
    ) -> Result<u32> {
        let (pk, sk) = keys::throttle(attempt, limit.window_start(now));
        let expires = limit.window_end(now).timestamp().to_string();
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(pk))
            .key(SK, AttributeValue::S(sk))
            .update_expression("ADD failures :one SET #ttl = :ttl, #kind = :kind")
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_names("#kind", KIND)
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":ttl", AttributeValue::N(expires))
            .expression_attribute_values(":kind", AttributeValue::S("failure_counter".into()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| classify("UpdateItem", e))?;
        Ok(failure_count(out.attributes.as_ref()))
    }

    async fn failures(&self, attempt: &Attempt, limit: &Limit, now: DateTime<Utc>) -> Result<u32> {
        Ok(failure_count(
            self.get_raw(keys::throttle(attempt, limit.window_start(now)))
                .await?
                .as_ref(),
        ))
    }

    async fn lock(&self, attempt: &Attempt, until: DateTime<Utc>) -> Result<()> {
        let (pk, sk) = keys::throttle_lock(attempt);
        // Only ever lengthened: two nodes locking at once keep the later end.
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(pk))
            .key(SK, AttributeValue::S(sk))
            .update_expression("SET #until = :until, #ttl = :until, #kind = :kind")
            .condition_expression("attribute_not_exists(#until) OR #until < :until")
            .expression_attribute_names("#until", "until")
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_names("#kind", KIND)
            .expression_attribute_values(":until", AttributeValue::N(until.timestamp().to_string()))
            .expression_attribute_values(":kind", AttributeValue::S("throttle_lock".into()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(classify("UpdateItem", e)),
        }
    }

    async fn locked_until(
        &self,
        attempt: &Attempt,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>> {
        // TTL deletion lags by up to days: the item's own time decides.
        let until = match self.get_raw(keys::throttle_lock(attempt)).await? {
            Some(item) => match item.get("until") {
                Some(AttributeValue::N(n)) => {
                    n.parse().ok().and_then(|s| DateTime::from_timestamp(s, 0))
                }
                _ => None,
            },
            None => None,
        };
        Ok(until.filter(|until| *until > now))
    }
}

fn failure_count(item: Option<&Item>) -> u32 {
    match item.and_then(|i| i.get("failures")) {
        Some(AttributeValue::N(n)) => n.parse().unwrap_or(u32::MAX),
        _ => 0,
    }
}
