//! Access numbers: the number is the key (`NUMBER#<e164>`), so it is assigned once.

use async_trait::async_trait;
use teleconf_domain::{AccountId, E164, PhoneNumber};

use super::item::{Item, to_item};
use super::{DynamoStore, Lookup};
use crate::error::Result;
use crate::store::NumberStore;
use crate::store::keys::{self, GSI1PK, GSI1SK};

fn number_item(n: &PhoneNumber) -> Result<Item> {
    to_item(
        n,
        "number",
        keys::number(&n.number),
        &[
            (GSI1PK, keys::by_account(n.account_id)),
            (GSI1SK, keys::number(&n.number).0),
        ],
    )
}

#[async_trait]
impl NumberStore for DynamoStore {
    async fn create_number(&self, number: &PhoneNumber) -> Result<()> {
        self.put_new(number_item(number)?, "number").await
    }

    async fn number(&self, e164: &E164) -> Result<Option<PhoneNumber>> {
        self.get(keys::number(e164)).await
    }

    async fn numbers(&self, account: AccountId) -> Result<Vec<PhoneNumber>> {
        self.query(Lookup::by_account(keys::by_account(account), "NUMBER#"))
            .await
    }

    async fn update_number(&self, number: &PhoneNumber) -> Result<()> {
        let account = number.account_id.to_string();
        self.put_existing(number_item(number)?, &[("account_id", &account)], "number")
            .await
    }

    async fn delete_number(&self, number: &PhoneNumber) -> Result<()> {
        self.delete(keys::number(&number.number)).await
    }
}
