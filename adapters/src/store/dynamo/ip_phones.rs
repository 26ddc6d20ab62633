//! IP phones (`IPPHONE#<source>`): by account through `gsi1`, every account's
//! through `gsi2pk = IPPHONES`.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use teleconf_domain::{AccountId, IpPhone, IpPhoneSource};

use super::item::{Item, to_item};
use super::{DynamoStore, Lookup, is_conditional_failure};
use crate::aws::classify;
use crate::error::{Error, Result};
use crate::store::IpPhoneStore;
use crate::store::keys::{self, GSI1PK, GSI1SK, GSI2PK, GSI2SK, PK, SK};

fn ip_phone_item(phone: &IpPhone) -> Result<Item> {
    let (pk, sk) = keys::ip_phone(&phone.source);
    to_item(
        phone,
        "ip_phone",
        (pk.clone(), sk),
        &[
            (GSI1PK, keys::by_account(phone.account_id)),
            (GSI1SK, pk),
            (GSI2PK, keys::IP_PHONES.into()),
            (GSI2SK, phone.source.to_string()),
        ],
    )
}

#[async_trait]
impl IpPhoneStore for DynamoStore {
    async fn add_ip_phone(&self, phone: &IpPhone) -> Result<()> {
        self.put_new(ip_phone_item(phone)?, "source").await
    }

    async fn ip_phones(&self, account: AccountId) -> Result<Vec<IpPhone>> {
        self.query(Lookup::by_account(keys::by_account(account), "IPPHONE#"))
            .await
    }

    async fn remove_ip_phone(&self, account: AccountId, source: &IpPhoneSource) -> Result<()> {
        let (pk, sk) = keys::ip_phone(source);
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(pk))
            .key(SK, AttributeValue::S(sk))
            .condition_expression("account_id = :account")
            .expression_attribute_values(":account", AttributeValue::S(account.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_conditional_failure(&e) => Err(Error::NotFound("ip_phone")),
            Err(e) => Err(classify("DeleteItem", e)),
        }
    }

    async fn all_ip_phones(&self) -> Result<Vec<IpPhone>> {
        self.query(Lookup::across_accounts(keys::IP_PHONES)).await
    }
}
