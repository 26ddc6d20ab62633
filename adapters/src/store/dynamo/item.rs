//! The one place entities become DynamoDB items and back: an entity serialized with
//! its keys and `item_kind`, a key item that reserves a unique value, and an item
//! read back into an entity.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::store::keys::{self, KIND, Key, PK, SK};

/// An item as the SDK reads and writes it.
pub(super) type Item = HashMap<String, AttributeValue>;

/// Serializes an entity and adds its keys.
pub(super) fn to_item<T: Serialize>(
    value: &T,
    kind: &str,
    (pk, sk): Key,
    index: &[(&str, String)],
) -> Result<Item> {
    let mut item: Item = serde_dynamo::to_item(value)
        .map_err(|e| Error::Store(format!("cannot store {kind}: {e}")))?;
    if let Some(clash) = keys::RESERVED.iter().find(|r| item.contains_key(**r)) {
        return Err(Error::Store(format!(
            "a {kind} field is named {clash}, which the store reserves"
        )));
    }
    item.insert(PK.into(), AttributeValue::S(pk));
    item.insert(SK.into(), AttributeValue::S(sk));
    item.insert(KIND.into(), AttributeValue::S(kind.into()));
    for (name, value) in index {
        item.insert((*name).into(), AttributeValue::S(value.clone()));
    }
    Ok(item)
}

/// A key item: reserves a unique value and points at its owner.
pub(super) fn key_item(kind: &str, key: Key, pointer_attr: &str, pointer: String) -> Item {
    HashMap::from([
        (PK.to_string(), AttributeValue::S(key.0)),
        (SK.to_string(), AttributeValue::S(key.1)),
        (KIND.to_string(), AttributeValue::S(kind.to_string())),
        (pointer_attr.to_string(), AttributeValue::S(pointer)),
    ])
}

pub(super) fn from_item<T: DeserializeOwned>(item: Item) -> Result<T> {
    serde_dynamo::from_item(item).map_err(|e| Error::Store(format!("unreadable item: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::keys::GSI1PK;
    use teleconf_domain::Account;

    #[derive(Serialize)]
    struct Clashing {
        pk: String,
    }

    #[test]
    fn an_entity_may_not_shadow_a_key_attribute() {
        let err = to_item(
            &Clashing { pk: "x".into() },
            "clash",
            ("p".into(), "s".into()),
            &[],
        )
        .unwrap_err();
        assert!(err.to_string().contains("reserves"), "{err}");
    }

    #[test]
    fn entities_become_items_with_their_keys() {
        let account = Account::new("Omnivigil", chrono::Utc::now()).unwrap();
        let item = to_item(
            &account,
            "account",
            keys::account(account.id),
            &[(GSI1PK, keys::PROVIDER.into())],
        )
        .unwrap();
        assert_eq!(
            item[PK],
            AttributeValue::S(format!("ACCOUNT#{}", account.id))
        );
        assert_eq!(item[KIND], AttributeValue::S("account".into()));
        assert_eq!(from_item::<Account>(item).unwrap(), account);
    }
}
