//! Accounts: `ACCOUNT#<id>` / `ACCOUNT`, listed through `gsi1pk = PROVIDER`.

use async_trait::async_trait;
use teleconf_domain::{Account, AccountId};

use super::item::{Item, to_item};
use super::{DynamoStore, Lookup};
use crate::error::Result;
use crate::store::AccountStore;
use crate::store::keys::{self, GSI1PK, GSI1SK};

fn account_item(account: &Account) -> Result<Item> {
    to_item(
        account,
        "account",
        keys::account(account.id),
        &[
            (GSI1PK, keys::PROVIDER.into()),
            (GSI1SK, keys::account(account.id).0),
        ],
    )
}

#[async_trait]
impl AccountStore for DynamoStore {
    async fn create_account(&self, account: &Account) -> Result<()> {
        self.put_new(account_item(account)?, "account").await
    }

    async fn account(&self, id: AccountId) -> Result<Option<Account>> {
        self.get(keys::account(id)).await
    }

    async fn accounts(&self) -> Result<Vec<Account>> {
        self.query(Lookup::by_account(keys::PROVIDER.into(), "ACCOUNT#"))
            .await
    }

    async fn update_account(&self, account: &Account) -> Result<()> {
        self.put_existing(account_item(account)?, &[], "account")
            .await
    }
}
