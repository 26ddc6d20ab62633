//! Users, their e-mail key items (`EMAIL#<email>`), and the owner counter that
//! keeps every account an owner, moved in the same transaction as the user.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use teleconf_domain::{AccountId, Email, User, UserId};

use super::item::{Item, key_item, to_item};
use super::{DynamoStore, Lookup, existing_condition};
use crate::error::{Error, Result};
use crate::store::UserStore;
use crate::store::keys::{self, GSI1PK, GSI1SK, KIND, PK, SK};

fn user_item(user: &User) -> Result<Item> {
    to_item(
        user,
        "user",
        keys::user(user.id),
        &[
            (GSI1PK, keys::by_account(user.account_id)),
            (GSI1SK, keys::user(user.id).0),
        ],
    )
}

#[async_trait]
impl UserStore for DynamoStore {
    async fn create_user(&self, user: &User) -> Result<()> {
        let email = key_item(
            "email_key",
            keys::email(&user.email),
            "user_id",
            user.id.to_string(),
        );
        let mut ops = vec![
            self.put(email, Some("attribute_not_exists(pk)"))?,
            self.put(user_item(user)?, Some("attribute_not_exists(pk)"))?,
        ];
        if user.role.manages_users() {
            ops.push(self.owner_count(user.account_id, 1)?);
        }
        self.transact(ops, &["email", "user", "user"]).await
    }

    async fn user(&self, id: UserId) -> Result<Option<User>> {
        self.get(keys::user(id)).await
    }

    async fn user_by_email(&self, email: &Email) -> Result<Option<User>> {
        let user: Option<User> = self
            .get_through(keys::email(email), "user_id", keys::user)
            .await?;
        // Strict: a key item outliving its owner's change finds nobody.
        Ok(user.filter(|u| &u.email == email))
    }

    async fn users(&self, account: AccountId) -> Result<Vec<User>> {
        self.query(Lookup::by_account(keys::by_account(account), "USER#"))
            .await
    }

    async fn update_user(&self, user: &User) -> Result<()> {
        let Some(stored) = self.user(user.id).await? else {
            return Err(Error::NotFound("user"));
        };
        // The user, on the condition that the e-mail and role read are still stored
        // (a concurrent change conflicts instead of being overwritten).
        let guards = [
            ("email", stored.email.as_str()),
            ("role", stored.role.as_str()),
        ];
        // …and that it never lowers the token version: a stale copy written back
        // after a sign-out would revive the tokens the sign-out ended.
        let (mut condition, mut names, mut values) = existing_condition(&guards);
        condition.push_str(" AND (attribute_not_exists(#tv) OR #tv <= :tv)");
        names
            .get_or_insert_with(HashMap::new)
            .insert("#tv".into(), "token_version".into());
        values.get_or_insert_with(HashMap::new).insert(
            ":tv".into(),
            AttributeValue::N(user.token_version.to_string()),
        );
        let mut ops = vec![self.put_existing_op(user_item(user)?, (condition, names, values))?];
        let mut names = vec!["user"];
        if stored.email != user.email {
            let key = key_item(
                "email_key",
                keys::email(&user.email),
                "user_id",
                user.id.to_string(),
            );
            ops.push(self.put(key, Some("attribute_not_exists(pk)"))?);
            ops.push(self.delete_op(keys::email(&stored.email), Some("attribute_exists(pk)"))?);
            names.extend(["email", "user"]);
        }
        match (stored.role.manages_users(), user.role.manages_users()) {
            (true, false) => {
                ops.push(self.owner_count(user.account_id, -1)?);
                names.push("last_owner");
            }
            (false, true) => {
                ops.push(self.owner_count(user.account_id, 1)?);
                names.push("user");
            }
            _ => {}
        }
        self.transact(ops, &names).await
    }

    async fn delete_user(&self, user: &User) -> Result<()> {
        let Some(stored) = self.user(user.id).await? else {
            return Ok(());
        };
        let mut ops = vec![
            self.delete_op(keys::user(stored.id), Some("attribute_exists(pk)"))?,
            self.delete_op(keys::email(&stored.email), None)?,
        ];
        if stored.role.manages_users() {
            ops.push(self.owner_count(stored.account_id, -1)?);
        }
        self.transact(ops, &["user", "email", "last_owner"]).await
    }
}

impl DynamoStore {
    /// Moves the account's owner count by `delta` in a transaction. A decrement only
    /// succeeds while more than one owner remains, so two owners removing each
    /// other at once cannot leave the account without one.
    fn owner_count(&self, account: AccountId, delta: i32) -> Result<TransactWriteItem> {
        let (pk, sk) = keys::owners(account);
        let mut update = Update::builder()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(pk))
            .key(SK, AttributeValue::S(sk))
            .update_expression("SET #kind = :kind ADD #count :delta")
            .expression_attribute_names("#kind", KIND)
            .expression_attribute_names("#count", "owners")
            .expression_attribute_values(":kind", AttributeValue::S("owner_count".into()))
            .expression_attribute_values(":delta", AttributeValue::N(delta.to_string()));
        if delta < 0 {
            update = update
                .condition_expression("#count > :one")
                .expression_attribute_values(":one", AttributeValue::N("1".into()));
        }
        let update = update.build().map_err(|e| Error::Store(e.to_string()))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }
}
