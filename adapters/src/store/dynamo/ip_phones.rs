//! IP phones (`IPPHONE#<source>`): by account through `gsi1`, every account's
//! through `gsi2pk = IPPHONES`.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use teleconf_domain::{AccountId, IpPhone, IpPhoneSource};

use super::item::{Item, to_item};
use super::{DynamoStore, Lookup};
use crate::error::{Error, Result};
use crate::store::IpPhoneStore;
use crate::store::keys::{self, GSI1PK, GSI1SK, GSI2PK, GSI2SK};

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
        let of_the_account = (
            "account_id = :account".into(),
            None,
            Some(HashMap::from([(
                ":account".into(),
                AttributeValue::S(account.to_string()),
            )])),
        );
        if self
            .delete_if(keys::ip_phone(source), of_the_account)
            .await?
        {
            Ok(())
        } else {
            Err(Error::NotFound("ip_phone"))
        }
    }

    async fn all_ip_phones(&self) -> Result<Vec<IpPhone>> {
        self.query(Lookup::across_accounts(keys::IP_PHONES)).await
    }
}
