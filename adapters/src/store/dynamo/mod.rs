//! The [`Store`](super::Store) on DynamoDB (the key design is in [`super`]).
//!
//! Uniqueness is enforced by conditional writes and transactions, never by reading
//! first; every SDK failure is classified: conditional failures become
//! [`Error::Conflict`], timeouts, unreachable endpoints and throttling become
//! [`Error::Unavailable`] (retryable), anything else [`Error::Store`].
//!
//! ## Layout
//! - this module: the [`DynamoStore`] and the operations every aggregate uses (get,
//!   query, conditional put, transaction), the query shapes, the conditions of a
//!   replace, and the classification of SDK failures.
//! - `item`: the shared marshalling: an entity to an item with its keys and back,
//!   key items that reserve a unique value.
//! - one file per store trait, each with its items' keys and conditions:
//!   `accounts`, `users` (with the owner counter), `numbers`, `conferences`, `cdrs`,
//!   `activity`, `live`, `controls`, `recordings`, `invoices`, `invitations`,
//!   `intro_codes`, `throttle`, `lifecycle`, `deliveries`, `ip_phones`, `nodes`,
//!   `rooms`.

mod accounts;
mod activity;
mod cdrs;
mod conferences;
mod controls;
mod deliveries;
mod intro_codes;
mod invitations;
mod invoices;
mod ip_phones;
mod item;
mod lifecycle;
mod live;
mod nodes;
mod numbers;
mod recordings;
mod rooms;
mod throttle;
mod users;

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::delete_item::builders::DeleteItemFluentBuilder;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;

use self::item::{Item, from_item};
use crate::aws::classify;
use crate::error::{Error, Result};
use crate::store::keys::{self, GSI1, GSI1PK, GSI1SK, GSI2, GSI2PK, GSI2SK, Key, PK, SK};

/// The DynamoDB store: a client and the table name.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    /// A store on `table` through `client`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    async fn get<T: DeserializeOwned>(&self, key: Key) -> Result<Option<T>> {
        self.get_raw(key).await?.map(from_item).transpose()
    }

    async fn get_raw(&self, (pk, sk): Key) -> Result<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(pk))
            .key(SK, AttributeValue::S(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify("GetItem", e))?;
        Ok(out.item)
    }

    /// The entity a key item (`EMAIL#…`, `CONFNUM#…`) points at: reads the id in
    /// the key item's `pointer` attribute, then the entity at `entity(id)`.
    async fn get_through<T, Id>(
        &self,
        key: Key,
        pointer: &str,
        entity: impl FnOnce(Id) -> Key,
    ) -> Result<Option<T>>
    where
        T: DeserializeOwned,
        Id: std::str::FromStr<Err = teleconf_domain::Error>,
    {
        let id = self
            .get_raw(key)
            .await?
            .and_then(|mut item| match item.remove(pointer) {
                Some(AttributeValue::S(s)) => Some(s),
                _ => None,
            });
        match id {
            Some(id) => self.get(entity(id.parse()?)).await,
            None => Ok(None),
        }
    }

    /// Every item a lookup finds (up to its limit), following pagination.
    async fn query<T: DeserializeOwned>(&self, lookup: Lookup) -> Result<Vec<T>> {
        let (pk_attr, sk_attr) = match lookup.index {
            None => (PK, SK),
            Some(GSI1) => (GSI1PK, GSI1SK),
            Some(_) => (GSI2PK, GSI2SK),
        };
        let mut condition = String::from("#pk = :pk");
        let mut req = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(lookup.index.map(str::to_string))
            .expression_attribute_names("#pk", pk_attr)
            .expression_attribute_values(":pk", AttributeValue::S(lookup.partition))
            .scan_index_forward(!lookup.newest_first);
        if let Some((low, high)) = lookup.sk_between {
            condition.push_str(" AND #sk BETWEEN :low AND :high");
            req = req
                .expression_attribute_names("#sk", sk_attr)
                .expression_attribute_values(":low", AttributeValue::S(low))
                .expression_attribute_values(":high", AttributeValue::S(high));
        } else if let Some(prefix) = lookup.sk_prefix {
            condition.push_str(" AND begins_with(#sk, :sk)");
            req = req
                .expression_attribute_names("#sk", sk_attr)
                .expression_attribute_values(":sk", AttributeValue::S(prefix));
        }
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let remaining = lookup
                .limit
                .map(|l| i32::try_from(l - out.len()).unwrap_or(i32::MAX));
            let page = req
                .clone()
                .key_condition_expression(&condition)
                .set_exclusive_start_key(start)
                .set_limit(remaining)
                .send()
                .await
                .map_err(|e| classify("Query", e))?;
            for item in page.items.unwrap_or_default() {
                out.push(from_item(item)?);
            }
            start = page.last_evaluated_key;
            if start.is_none() || lookup.limit.is_some_and(|l| out.len() >= l) {
                return Ok(out);
            }
        }
    }

    /// Creates `item`, which must not exist yet: `Conflict(what)` if it does.
    ///
    /// The item carries a random [`WRITE_ID`] so that a put the SDK retried after
    /// its first attempt was applied (the answer lost, or too late) knows its own
    /// item and succeeds; a second create asked for again still conflicts.
    /// (Transactions need no such mark: the SDK gives each one a
    /// `ClientRequestToken` that DynamoDB honours across the retries.)
    async fn put_new(&self, mut item: Item, what: &'static str) -> Result<()> {
        let write = u64::from_be_bytes(teleconf_domain::random::bytes());
        let write = AttributeValue::S(format!("{write:016x}"));
        item.insert(WRITE_ID.into(), write.clone());
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if written_by(&err, &write) => Ok(()),
            Err(err) => Err(conflict_or("PutItem", err, what)),
        }
    }

    /// Replaces an item that must exist and whose guarded attributes still have the
    /// values read; `NotFound(what)` otherwise.
    async fn put_existing(
        &self,
        item: Item,
        guards: &[Guard<'_>],
        what: &'static str,
    ) -> Result<()> {
        if self.put_if(item, existing_condition(guards)).await? {
            Ok(())
        } else {
            Err(Error::NotFound(what))
        }
    }

    /// Puts `item` only if `condition` holds on the stored item: true if it was
    /// written, false if the condition failed (a write that lost a race, or came
    /// second, changes nothing).
    async fn put_if(&self, item: Item, (condition, names, values): Condition) -> Result<bool> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .send()
            .await;
        held("PutItem", result)
    }

    /// Deletes the item at `key` only if `condition` holds on it: true if it was
    /// deleted, false if the condition failed.
    async fn delete_if(&self, key: Key, (condition, names, values): Condition) -> Result<bool> {
        let result = self
            .delete_request(key)
            .condition_expression(condition)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .send()
            .await;
        held("DeleteItem", result)
    }

    async fn delete(&self, key: Key) -> Result<()> {
        self.delete_request(key)
            .send()
            .await
            .map_err(|e| classify("DeleteItem", e))?;
        Ok(())
    }

    /// A DeleteItem of the item at `key`, in this table.
    fn delete_request(&self, (pk, sk): Key) -> DeleteItemFluentBuilder {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(pk))
            .key(SK, AttributeValue::S(sk))
    }

    /// Runs a transaction; a cancelled one becomes `Conflict(names[i])` for the first
    /// item `i` whose condition failed.
    async fn transact(&self, items: Vec<TransactWriteItem>, names: &[&'static str]) -> Result<()> {
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => Err(transaction_error(e, names)),
        }
    }

    fn put(&self, item: Item, condition: Option<&str>) -> Result<TransactWriteItem> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .set_condition_expression(condition.map(str::to_string))
            .build()
            .map_err(|e| Error::Store(e.to_string()))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// A replace in a transaction, on `condition` (see [`existing_condition`]).
    fn put_existing_op(&self, item: Item, condition: Condition) -> Result<TransactWriteItem> {
        let (condition, names, values) = condition;
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .build()
            .map_err(|e| Error::Store(e.to_string()))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    fn delete_op(&self, (pk, sk): Key, condition: Option<&str>) -> Result<TransactWriteItem> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(pk))
            .key(SK, AttributeValue::S(sk))
            .set_condition_expression(condition.map(str::to_string))
            .build()
            .map_err(|e| Error::Store(e.to_string()))?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// Puts `item` (overwriting), to be deleted by the table's TTL after `expires`.
    async fn put_expiring(&self, mut item: Item, expires: DateTime<Utc>) -> Result<()> {
        expire(&mut item, expires);
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| classify("PutItem", e))?;
        Ok(())
    }
}

/// Sets `item`'s time to live: the table's TTL deletes it after `expires`.
fn expire(item: &mut Item, expires: DateTime<Utc>) {
    let expires = expires.timestamp().to_string();
    item.insert(keys::TTL.to_string(), AttributeValue::N(expires));
}

/// One of the design's three query shapes: a table partition, the by-account index,
/// or the by-month index; optionally a sort-key prefix, newest first, a limit.
#[derive(Debug)]
struct Lookup {
    index: Option<&'static str>,
    partition: String,
    sk_prefix: Option<String>,
    /// A sort-key range instead of a prefix (`BETWEEN`, both ends included).
    sk_between: Option<(String, String)>,
    newest_first: bool,
    limit: Option<usize>,
}

impl Lookup {
    /// Items of a table partition whose sort key starts with `prefix`.
    fn partition(pk: String, prefix: impl Into<String>) -> Self {
        Self {
            index: None,
            partition: pk,
            sk_prefix: Some(prefix.into()),
            sk_between: None,
            newest_first: false,
            limit: None,
        }
    }

    /// An account's items of one kind, through the by-account index.
    fn by_account(gsi1pk: String, prefix: impl Into<String>) -> Self {
        Self {
            index: Some(GSI1),
            ..Self::partition(gsi1pk, prefix)
        }
    }

    /// An account's CDR legs of a month, through the by-month index.
    fn by_month(gsi2pk: String) -> Self {
        Self {
            index: Some(GSI2),
            sk_prefix: None,
            ..Self::partition(gsi2pk, "")
        }
    }

    /// Every item of a `gsi2` partition that is not a month of CDRs (the IP phones).
    fn across_accounts(gsi2pk: &str) -> Self {
        Self::by_month(gsi2pk.to_string())
    }

    /// The newest `limit` first.
    fn newest(self, limit: usize) -> Self {
        Self {
            newest_first: true,
            limit: Some(limit),
            ..self
        }
    }
}

/// "The stored item's `attribute` still equals `value`."
type Guard<'a> = (&'a str, &'a str);

/// A condition expression with its attribute names and values.
type Condition = (String, Option<HashMap<String, String>>, Option<Item>);

/// The condition of a replace: the item exists and each guarded attribute still has
/// the value read. Attribute names go through placeholders (`number` is a DynamoDB
/// reserved word).
fn existing_condition(guards: &[Guard<'_>]) -> Condition {
    if guards.is_empty() {
        return ("attribute_exists(pk)".into(), None, None);
    }
    let mut condition = String::from("attribute_exists(pk)");
    let mut names = HashMap::new();
    let mut values = HashMap::new();
    for (i, (attribute, value)) in guards.iter().enumerate() {
        condition.push_str(&format!(" AND #g{i} = :g{i}"));
        names.insert(format!("#g{i}"), attribute.to_string());
        values.insert(format!(":g{i}"), AttributeValue::S(value.to_string()));
    }
    (condition, Some(names), Some(values))
}

/// The attribute a created item carries to tell its own create's retry from
/// another create ([`DynamoStore::put_new`]).
const WRITE_ID: &str = "write_id";

/// Whether a create failed only because the item its write `write` put is there.
fn written_by(err: &SdkError<PutItemError, HttpResponse>, write: &AttributeValue) -> bool {
    matches!(
        err.as_service_error(),
        Some(PutItemError::ConditionalCheckFailedException(failed))
            if failed.item().and_then(|old| old.get(WRITE_ID)) == Some(write)
    )
}

/// A conditional write's outcome: true if written, false if its condition
/// failed on the stored item; any other failure classified.
fn held<T, E>(op: &str, result: std::result::Result<T, SdkError<E, HttpResponse>>) -> Result<bool>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(e) if is_conditional_failure(&e) => Ok(false),
        Err(e) => Err(classify(op, e)),
    }
}

fn is_conditional_failure<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    err.code() == Some("ConditionalCheckFailedException")
}

fn conflict_or<E>(op: &str, err: SdkError<E, HttpResponse>, what: &'static str) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if is_conditional_failure(&err) {
        Error::Conflict(what)
    } else {
        classify(op, err)
    }
}

fn transaction_error(
    err: SdkError<TransactWriteItemsError, HttpResponse>,
    names: &[&'static str],
) -> Error {
    if let Some(TransactWriteItemsError::TransactionCanceledException(cancel)) =
        err.as_service_error()
    {
        let failed = cancel
            .cancellation_reasons()
            .iter()
            .position(|r| r.code() == Some("ConditionalCheckFailed"));
        let reasons: Vec<_> = cancel
            .cancellation_reasons()
            .iter()
            .filter_map(|r| r.code())
            .collect();
        let throttled = reasons.iter().any(|c| {
            matches!(
                *c,
                "ThrottlingError" | "ProvisionedThroughputExceeded" | "TransactionConflict"
            )
        });
        return match (failed, throttled) {
            (Some(i), _) => Error::Conflict(names.get(i).copied().unwrap_or("item")),
            (None, true) => Error::Unavailable(format!("transaction cancelled: {reasons:?}")),
            // Some emulators give no reasons: the first named item is the unique one.
            (None, false) => Error::Conflict(names.first().copied().unwrap_or("item")),
        };
    }
    classify("TransactWriteItems", err)
}
