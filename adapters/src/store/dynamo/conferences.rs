//! Conferences and their conference-number key items (`CONFNUM#<number>`), written
//! together in one transaction.

use async_trait::async_trait;
use teleconf_domain::{AccountId, Conference, ConferenceId, ConferenceNumber};

use super::item::{Item, key_item, to_item};
use super::{DynamoStore, Lookup};
use crate::error::Result;
use crate::store::ConferenceStore;
use crate::store::keys::{self, GSI1PK, GSI1SK};

fn conference_item(c: &Conference) -> Result<Item> {
    to_item(
        c,
        "conference",
        keys::conference(c.id),
        &[
            (GSI1PK, keys::by_account(c.account_id)),
            (GSI1SK, keys::conference_by_start(c.schedule.start(), c.id)),
        ],
    )
}

#[async_trait]
impl ConferenceStore for DynamoStore {
    async fn create_conference(&self, conference: &Conference) -> Result<()> {
        let number = key_item(
            "conference_number_key",
            keys::conference_number(&conference.number),
            "conference_id",
            conference.id.to_string(),
        );
        let ops = vec![
            self.put(number, Some("attribute_not_exists(pk)"))?,
            self.put(
                conference_item(conference)?,
                Some("attribute_not_exists(pk)"),
            )?,
        ];
        self.transact(ops, &["conference_number", "conference"])
            .await
    }

    async fn conference(&self, id: ConferenceId) -> Result<Option<Conference>> {
        self.get(keys::conference(id)).await
    }

    async fn conference_by_number(&self, number: &ConferenceNumber) -> Result<Option<Conference>> {
        let conference: Option<Conference> = self
            .get_through(
                keys::conference_number(number),
                "conference_id",
                keys::conference,
            )
            .await?;
        Ok(conference.filter(|c| &c.number == number))
    }

    async fn conferences(&self, account: AccountId) -> Result<Vec<Conference>> {
        self.query(Lookup::by_account(keys::by_account(account), "CONF#"))
            .await
    }

    async fn update_conference(&self, conference: &Conference) -> Result<()> {
        // The number is fixed at creation: its key item points at this conference.
        self.put_existing(
            conference_item(conference)?,
            &[("number", conference.number.as_str())],
            "conference",
        )
        .await
    }

    async fn delete_conference(&self, conference: &Conference) -> Result<()> {
        let Some(stored) = self.conference(conference.id).await? else {
            return Ok(());
        };
        let ops = vec![
            self.delete_op(keys::conference(stored.id), None)?,
            self.delete_op(keys::conference_number(&stored.number), None)?,
        ];
        self.transact(ops, &["conference", "conference_number"])
            .await
    }
}
