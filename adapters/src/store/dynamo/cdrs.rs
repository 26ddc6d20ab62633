//! CDR legs (`CONF#<conference>` / `LEG#<leg>`), by conference and through `gsi2` by
//! account-month; a closed leg is never rewritten.

use async_trait::async_trait;
use teleconf_domain::{AccountId, CallLeg, ConferenceId, NodeId, YearMonth};

use super::item::{Item, to_item};
use super::{DynamoStore, Lookup};
use crate::error::Result;
use crate::store::CdrStore;
use crate::store::keys::{self, GSI1PK, GSI1SK, GSI2PK, GSI2SK};

/// The leg's item; while it is open and names its node, it is also among that
/// node's open legs in `gsi1` (a closed leg's item, written whole, leaves it).
fn leg_item(leg: &CallLeg) -> Result<Item> {
    let by_join = keys::leg_by_join(leg.joined_at, leg.id);
    let mut index = vec![
        (GSI2PK, keys::legs_of_month(leg.account_id, leg.month)),
        (GSI2SK, by_join.clone()),
    ];
    if let (None, Some(node)) = (leg.left_at, &leg.node) {
        index.push((GSI1PK, keys::open_legs_of_node(node)));
        index.push((GSI1SK, by_join));
    }
    to_item(leg, "leg", keys::leg(leg.conference_id, leg.id), &index)
}

#[cfg(any(test, feature = "testkit"))]
impl DynamoStore {
    /// Writes many new legs fast, 25 to a BatchWriteItem with 8 batches in flight,
    /// retrying what DynamoDB leaves unprocessed. For seeding benchmarks and test
    /// fixtures only: a batch write cannot carry `put_leg`'s condition, so it must
    /// never replay legs that may already be closed in the table.
    pub async fn import_legs(&self, legs: &[CallLeg]) -> Result<()> {
        use crate::aws::classify;
        use crate::error::Error;
        use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
        let mut batches = Vec::new();
        for chunk in legs.chunks(25) {
            let mut batch = Vec::with_capacity(chunk.len());
            for leg in chunk {
                let put = PutRequest::builder()
                    .set_item(Some(leg_item(leg)?))
                    .build()
                    .map_err(|e| Error::Store(e.to_string()))?;
                batch.push(WriteRequest::builder().put_request(put).build());
            }
            batches.push(batch);
        }
        let mut in_flight = tokio::task::JoinSet::new();
        for batch in batches {
            if in_flight.len() == 8
                && let Some(done) = in_flight.join_next().await
            {
                done.map_err(|e| Error::Store(e.to_string()))??;
            }
            let (client, table) = (self.client.clone(), self.table.clone());
            in_flight.spawn(async move {
                let mut pending = batch;
                while !pending.is_empty() {
                    let out = client
                        .batch_write_item()
                        .request_items(&table, pending)
                        .send()
                        .await
                        .map_err(|e| classify("BatchWriteItem", e))?;
                    pending = out
                        .unprocessed_items
                        .and_then(|mut u| u.remove(&table))
                        .unwrap_or_default();
                }
                Ok::<(), Error>(())
            });
        }
        while let Some(done) = in_flight.join_next().await {
            done.map_err(|e| Error::Store(e.to_string()))??;
        }
        Ok(())
    }
}

#[async_trait]
impl CdrStore for DynamoStore {
    async fn put_leg(&self, leg: &CallLeg) -> Result<()> {
        // Writes until the leg is closed; after that the first close stands.
        let condition = ("attribute_not_exists(left_at)".into(), None, None);
        self.put_if(leg_item(leg)?, condition).await?;
        Ok(())
    }

    async fn legs_of_conference(&self, conference: ConferenceId) -> Result<Vec<CallLeg>> {
        self.query(Lookup::partition(keys::conference(conference).0, "LEG#"))
            .await
    }

    async fn legs_of_month(&self, account: AccountId, month: YearMonth) -> Result<Vec<CallLeg>> {
        self.query(Lookup::by_month(keys::legs_of_month(account, month)))
            .await
    }

    async fn open_legs_of_node(&self, node: &NodeId) -> Result<Vec<CallLeg>> {
        // The whole partition: an empty sort-key prefix is refused by DynamoDB.
        let lookup = Lookup {
            sk_prefix: None,
            ..Lookup::by_account(keys::open_legs_of_node(node), "")
        };
        self.query(lookup).await
    }

    async fn close_open_leg(&self, leg: &CallLeg) -> Result<bool> {
        let condition = (
            "attribute_exists(pk) AND attribute_not_exists(left_at)".into(),
            None,
            None,
        );
        self.put_if(leg_item(leg)?, condition).await
    }
}
