//! One-time intro codes (`INTROCODE#<code>`), expiring through `ttl`.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use teleconf_domain::{IntroCode, IntroGrant};

use super::DynamoStore;
use super::item::to_item;
use crate::error::Result;
use crate::store::IntroCodeStore;
use crate::store::keys::{self};

#[async_trait]
impl IntroCodeStore for DynamoStore {
    async fn create_intro_grant(&self, grant: &IntroGrant) -> Result<()> {
        let mut item = to_item(grant, "intro_grant", keys::intro_code(&grant.code), &[])?;
        item.insert(
            keys::TTL.into(),
            AttributeValue::N(grant.expires_at.timestamp().to_string()),
        );
        self.put_new(item, "intro_code").await
    }

    async fn intro_grant(&self, code: &IntroCode) -> Result<Option<IntroGrant>> {
        self.get(keys::intro_code(code)).await
    }

    async fn spend_intro_grant(&self, code: &IntroCode) -> Result<()> {
        self.delete(keys::intro_code(code)).await
    }
}
