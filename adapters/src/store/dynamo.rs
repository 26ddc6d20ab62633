//! The [`Store`](super::Store) on DynamoDB (the key design is in [`super`]).
//!
//! Uniqueness is enforced by conditional writes and transactions, never by reading
//! first; every SDK failure is classified: conditional failures become
//! [`Error::Conflict`], timeouts, unreachable endpoints and throttling become
//! [`Error::Unavailable`] (retryable), anything else [`Error::Store`].

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::keys::{self, GSI1, GSI1PK, GSI1SK, GSI2, GSI2PK, GSI2SK, KIND, Key, PK, SK};
use chrono::{DateTime, Utc};

use super::{
    AccountStore, ActivityStore, CdrStore, ConferenceStore, IntroCodeStore, InvitationStore,
    InvoiceStore, LiveStore, NumberStore, RecordingStore, ThrottleStore, UserStore,
};
use super::{DeliveryStore, IpPhoneStore, LifecycleStore, lifecycle, stream};
use crate::aws::classify;
use crate::error::{Error, Result};
use teleconf_domain::{
    Account, AccountId, Activity, Attempt, CallLeg, Conference, ConferenceId, ConferenceNumber,
    E164, Email, IntroCode, IntroGrant, Invitation, Invoice, LegId, Limit, LiveParticipant,
    PhoneNumber, Recording, RecordingId, User, UserId, YearMonth,
};
use teleconf_domain::{
    Claim, ConferenceStatus, DeliveryKey, IpPhone, IpPhoneSource, Lifecycle, Outcome, QueuedMail,
    QueuedMailKind,
};

type Item = HashMap<String, AttributeValue>;

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

    async fn put_new(&self, item: Item, what: &'static str) -> Result<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(|e| conflict_or("PutItem", e, what))?;
        Ok(())
    }

    /// Replaces an item that must exist and whose guarded attributes still have the
    /// values read; `NotFound(what)` otherwise.
    async fn put_existing(
        &self,
        item: Item,
        guards: &[Guard<'_>],
        what: &'static str,
    ) -> Result<()> {
        let (condition, names, values) = existing_condition(guards);
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
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_conditional_failure(&e) => Err(Error::NotFound(what)),
            Err(e) => Err(classify("PutItem", e)),
        }
    }

    async fn delete(&self, (pk, sk): Key) -> Result<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(pk))
            .key(SK, AttributeValue::S(sk))
            .send()
            .await
            .map_err(|e| classify("DeleteItem", e))?;
        Ok(())
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

/// Serializes an entity and adds its keys.
fn to_item<T: Serialize>(
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
fn key_item(kind: &str, key: Key, pointer_attr: &str, pointer: String) -> Item {
    HashMap::from([
        (PK.to_string(), AttributeValue::S(key.0)),
        (SK.to_string(), AttributeValue::S(key.1)),
        (KIND.to_string(), AttributeValue::S(kind.to_string())),
        (pointer_attr.to_string(), AttributeValue::S(pointer)),
    ])
}

fn from_item<T: DeserializeOwned>(item: Item) -> Result<T> {
    serde_dynamo::from_item(item).map_err(|e| Error::Store(format!("unreadable item: {e}")))
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

#[async_trait]
impl AccountStore for DynamoStore {
    async fn create_account(&self, account: &Account) -> Result<()> {
        let item = to_item(
            account,
            "account",
            keys::account(account.id),
            &[
                (GSI1PK, keys::PROVIDER.into()),
                (GSI1SK, keys::account(account.id).0),
            ],
        )?;
        self.put_new(item, "account").await
    }

    async fn account(&self, id: AccountId) -> Result<Option<Account>> {
        self.get(keys::account(id)).await
    }

    async fn accounts(&self) -> Result<Vec<Account>> {
        self.query(Lookup::by_account(keys::PROVIDER.into(), "ACCOUNT#"))
            .await
    }

    async fn update_account(&self, account: &Account) -> Result<()> {
        let item = to_item(
            account,
            "account",
            keys::account(account.id),
            &[
                (GSI1PK, keys::PROVIDER.into()),
                (GSI1SK, keys::account(account.id).0),
            ],
        )?;
        self.put_existing(item, &[], "account").await
    }
}

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

fn leg_item(leg: &CallLeg) -> Result<Item> {
    to_item(
        leg,
        "leg",
        keys::leg(leg.conference_id, leg.id),
        &[
            (GSI2PK, keys::legs_of_month(leg.account_id, leg.month)),
            (GSI2SK, keys::leg_by_join(leg.joined_at, leg.id)),
        ],
    )
}

#[cfg(any(test, feature = "testkit"))]
impl DynamoStore {
    /// Writes many new legs fast, 25 to a BatchWriteItem with 8 batches in flight,
    /// retrying what DynamoDB leaves unprocessed. For seeding benchmarks and test
    /// fixtures only: a batch write cannot carry `put_leg`'s condition, so it must
    /// never replay legs that may already be closed in the table.
    pub async fn import_legs(&self, legs: &[CallLeg]) -> Result<()> {
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
        let item = leg_item(leg)?;
        // Writes until the leg is closed; after that the first close stands.
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(left_at)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_conditional_failure(&e) => Ok(()),
            Err(e) => Err(classify("PutItem", e)),
        }
    }

    async fn legs_of_conference(&self, conference: ConferenceId) -> Result<Vec<CallLeg>> {
        self.query(Lookup::partition(keys::conference(conference).0, "LEG#"))
            .await
    }

    async fn legs_of_month(&self, account: AccountId, month: YearMonth) -> Result<Vec<CallLeg>> {
        self.query(Lookup::by_month(keys::legs_of_month(account, month)))
            .await
    }
}

#[async_trait]
impl ActivityStore for DynamoStore {
    async fn record_activity(&self, activity: &Activity) -> Result<()> {
        let item = to_item(
            activity,
            "activity",
            keys::activity(activity.account_id, activity.id),
            &[],
        )?;
        self.put_new(item, "activity").await
    }

    async fn recent_activity(&self, account: AccountId, limit: usize) -> Result<Vec<Activity>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        self.query(Lookup::partition(keys::by_account(account), "ACTIVITY#").newest(limit))
            .await
    }
}

/// How long a live caller's item outlives its last update (a node that died
/// without closing it): a day.
const LIVE_TTL: chrono::TimeDelta = chrono::TimeDelta::days(1);

impl DynamoStore {
    /// Puts `item` (overwriting), to be deleted by the table's TTL after `expires`.
    async fn put_expiring(&self, mut item: Item, expires: DateTime<Utc>) -> Result<()> {
        let expires = expires.timestamp().to_string();
        item.insert(keys::TTL.to_string(), AttributeValue::N(expires));
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

#[async_trait]
impl LiveStore for DynamoStore {
    async fn put_live(&self, participant: &LiveParticipant) -> Result<()> {
        let item = to_item(
            participant,
            "live",
            keys::live(participant.conference_id, participant.leg_id),
            &[],
        )?;
        self.put_expiring(item, Utc::now() + LIVE_TTL).await
    }

    async fn remove_live(&self, conference: ConferenceId, leg: LegId) -> Result<()> {
        self.delete(keys::live(conference, leg)).await
    }

    async fn live_participants(&self, conference: ConferenceId) -> Result<Vec<LiveParticipant>> {
        let mut live: Vec<LiveParticipant> = self
            .query(Lookup::partition(keys::conference(conference).0, "LIVE#"))
            .await?;
        live.sort_by_key(|p| (p.joined_at, p.leg_id));
        Ok(live)
    }
}

#[async_trait]
impl super::ControlStore for DynamoStore {
    async fn queue_control(&self, control: &teleconf_domain::ConferenceControl) -> Result<()> {
        let item = to_item(
            control,
            "control",
            keys::control(control.conference_id, control.id),
            &[],
        )?;
        self.put_expiring(item, control.issued_at + super::CONTROL_TTL)
            .await
    }

    async fn pending_controls(
        &self,
        conference: ConferenceId,
    ) -> Result<Vec<teleconf_domain::ConferenceControl>> {
        // Ascending sort keys: UUIDv7 ids, so in the order the commands were given.
        self.query(Lookup::partition(
            keys::conference(conference).0,
            "CONTROL#",
        ))
        .await
    }

    async fn ack_control(
        &self,
        conference: ConferenceId,
        id: teleconf_domain::ControlId,
    ) -> Result<()> {
        self.delete(keys::control(conference, id)).await
    }
}

fn recording_item(r: &Recording) -> Result<Item> {
    to_item(
        r,
        "recording",
        keys::recording(r.id),
        &[
            (GSI1PK, keys::by_account(r.account_id)),
            (GSI1SK, keys::recording_by_conference(r.conference_id, r.id)),
        ],
    )
}

#[async_trait]
impl RecordingStore for DynamoStore {
    async fn put_recording(&self, recording: &Recording) -> Result<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(recording_item(recording)?))
            .send()
            .await
            .map_err(|e| classify("PutItem", e))?;
        Ok(())
    }

    async fn recording(&self, id: RecordingId) -> Result<Option<Recording>> {
        self.get(keys::recording(id)).await
    }

    async fn recordings(
        &self,
        account: AccountId,
        conference: Option<ConferenceId>,
    ) -> Result<Vec<Recording>> {
        let prefix = match conference {
            None => "REC#".to_string(),
            Some(c) => format!("REC#{c}#"),
        };
        self.query(Lookup::by_account(keys::by_account(account), prefix))
            .await
    }
}

#[async_trait]
impl InvoiceStore for DynamoStore {
    async fn create_invoice(&self, invoice: &Invoice) -> Result<()> {
        self.put_new(
            to_item(
                invoice,
                "invoice",
                keys::invoice(invoice.account_id, invoice.month),
                &[],
            )?,
            "invoice",
        )
        .await
    }

    async fn invoice(&self, account: AccountId, month: YearMonth) -> Result<Option<Invoice>> {
        self.get(keys::invoice(account, month)).await
    }

    async fn invoices(&self, account: AccountId) -> Result<Vec<Invoice>> {
        self.query(Lookup::partition(keys::by_account(account), "INVOICE#").newest(usize::MAX))
            .await
    }
}

#[async_trait]
impl InvitationStore for DynamoStore {
    async fn queue_invitations(&self, invitations: &[Invitation]) -> Result<()> {
        // A transaction holds at most 100 writes: the API caps a request below that.
        for chunk in invitations.chunks(100) {
            let ops = chunk
                .iter()
                .map(|i| {
                    self.put(
                        to_item(
                            i,
                            "invitation",
                            keys::invitation(i.conference_id, i.id),
                            &[],
                        )?,
                        Some("attribute_not_exists(pk)"),
                    )
                })
                .collect::<Result<Vec<_>>>()?;
            self.transact(ops, &["invitation"]).await?;
        }
        Ok(())
    }

    async fn invitations(&self, conference: ConferenceId) -> Result<Vec<Invitation>> {
        self.query(Lookup::partition(keys::conference(conference).0, "INVITE#"))
            .await
    }
}

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

#[async_trait]
impl ThrottleStore for DynamoStore {
    async fn record_failure(
        &self,
        attempt: &Attempt,
        limit: &Limit,
        now: DateTime<Utc>,
    ) -> Result<u32> {
        let (pk, sk) = keys::throttle(attempt, limit.window_start(now));
        let expires = limit.window_end(now).timestamp().to_string();
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(pk))
            .key(SK, AttributeValue::S(sk))
            .update_expression("ADD failures :one SET #ttl = :ttl, #kind = :kind")
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_names("#kind", KIND)
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":ttl", AttributeValue::N(expires))
            .expression_attribute_values(":kind", AttributeValue::S("failure_counter".into()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| classify("UpdateItem", e))?;
        Ok(failure_count(out.attributes.as_ref()))
    }

    async fn failures(&self, attempt: &Attempt, limit: &Limit, now: DateTime<Utc>) -> Result<u32> {
        Ok(failure_count(
            self.get_raw(keys::throttle(attempt, limit.window_start(now)))
                .await?
                .as_ref(),
        ))
    }

    async fn lock(&self, attempt: &Attempt, until: DateTime<Utc>) -> Result<()> {
        let (pk, sk) = keys::throttle_lock(attempt);
        // Only ever lengthened: two nodes locking at once keep the later end.
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(pk))
            .key(SK, AttributeValue::S(sk))
            .update_expression("SET #until = :until, #ttl = :until, #kind = :kind")
            .condition_expression("attribute_not_exists(#until) OR #until < :until")
            .expression_attribute_names("#until", "until")
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_names("#kind", KIND)
            .expression_attribute_values(":until", AttributeValue::N(until.timestamp().to_string()))
            .expression_attribute_values(":kind", AttributeValue::S("throttle_lock".into()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(classify("UpdateItem", e)),
        }
    }

    async fn locked_until(
        &self,
        attempt: &Attempt,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>> {
        // TTL deletion lags by up to days: the item's own time decides.
        let until = match self.get_raw(keys::throttle_lock(attempt)).await? {
            Some(item) => match item.get("until") {
                Some(AttributeValue::N(n)) => {
                    n.parse().ok().and_then(|s| DateTime::from_timestamp(s, 0))
                }
                _ => None,
            },
            None => None,
        };
        Ok(until.filter(|until| *until > now))
    }
}

fn failure_count(item: Option<&Item>) -> u32 {
    match item.and_then(|i| i.get("failures")) {
        Some(AttributeValue::N(n)) => n.parse().unwrap_or(u32::MAX),
        _ => 0,
    }
}

#[async_trait]
impl LifecycleStore for DynamoStore {
    async fn conferences_starting(
        &self,
        account: AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Conference>> {
        // `~` sorts after every character of an id: the range takes every conference
        // starting at `to` whatever its id.
        let lookup = Lookup {
            sk_between: Some((
                format!("CONF#{}", keys::instant(from)),
                format!("CONF#{}~", keys::instant(to)),
            )),
            ..Lookup::by_account(keys::by_account(account), "CONF#")
        };
        self.query(lookup).await
    }

    async fn lifecycle(&self, conference: ConferenceId) -> Result<Option<Lifecycle>> {
        self.get(keys::lifecycle(conference)).await
    }

    async fn queued_mail(
        &self,
        conference: ConferenceId,
        kind: QueuedMailKind,
    ) -> Result<Option<QueuedMail>> {
        self.get(keys::queued_mail(conference, kind)).await
    }

    async fn advance_lifecycle(
        &self,
        from: ConferenceStatus,
        next: &Lifecycle,
        mail: Option<&QueuedMail>,
    ) -> Result<bool> {
        let item = to_item(
            next,
            stream::LIFECYCLE,
            keys::lifecycle(next.conference_id),
            &[],
        )?;
        let from_value = serde_dynamo::to_attribute_value(from)
            .map_err(|e| Error::Store(format!("cannot store a status: {e}")))?;
        let mut put = Put::builder().table_name(&self.table).set_item(Some(item));
        put = if from == ConferenceStatus::Scheduled {
            put.condition_expression("attribute_not_exists(pk)")
        } else {
            put.condition_expression("#status = :from")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":from", from_value)
        };
        let put = put.build().map_err(|e| Error::Store(e.to_string()))?;
        let mut ops = vec![TransactWriteItem::builder().put(put).build()];
        if let Some(mail) = mail {
            let item = to_item(
                mail,
                stream::QUEUED_MAIL,
                keys::queued_mail(mail.conference_id, mail.kind),
                &[],
            )?;
            ops.push(self.put(item, Some("attribute_not_exists(pk)"))?);
        }
        match self.transact(ops, &["lifecycle", "queued_mail"]).await {
            Ok(()) => Ok(true),
            Err(Error::Conflict(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// The ledger's states, as stored.
const SENDING: &str = "sending";
const FAILED: &str = "failed";
const SENT: &str = "sent";
const DEAD_LETTER: &str = "dead_letter";

#[async_trait]
impl DeliveryStore for DynamoStore {
    async fn claim_delivery(
        &self,
        key: &DeliveryKey,
        now: DateTime<Utc>,
        lease: chrono::Duration,
    ) -> Result<Claim> {
        let (pk, sk) = keys::delivery(key);
        let expires = (now + lifecycle::DELIVERY_RETENTION)
            .timestamp()
            .to_string();
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(pk))
            .key(SK, AttributeValue::S(sk))
            .update_expression(
                "SET #state = :sending, claimed_at = :now, #kind = :kind, #ttl = :ttl \
                 ADD attempts :one",
            )
            .condition_expression(
                "attribute_not_exists(pk) OR #state = :failed \
                 OR (#state = :sending AND claimed_at < :stale)",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#kind", KIND)
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_values(":sending", AttributeValue::S(SENDING.into()))
            .expression_attribute_values(":failed", AttributeValue::S(FAILED.into()))
            .expression_attribute_values(":now", AttributeValue::S(keys::instant(now)))
            .expression_attribute_values(":stale", AttributeValue::S(keys::instant(now - lease)))
            .expression_attribute_values(":kind", AttributeValue::S("delivery".into()))
            .expression_attribute_values(":ttl", AttributeValue::N(expires))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => {
                let attempt = match out.attributes.as_ref().and_then(|a| a.get("attempts")) {
                    Some(AttributeValue::N(n)) => n.parse().unwrap_or(1),
                    _ => 1,
                };
                Ok(Claim::Mine { attempt })
            }
            Err(e) if is_conditional_failure(&e) => {
                let state =
                    self.get_raw(keys::delivery(key))
                        .await?
                        .and_then(|mut item| match item.remove("state") {
                            Some(AttributeValue::S(s)) => Some(s),
                            _ => None,
                        });
                Ok(match state.as_deref() {
                    Some(SENT | DEAD_LETTER) => Claim::Settled,
                    _ => Claim::Busy,
                })
            }
            Err(e) => Err(classify("UpdateItem", e)),
        }
    }

    async fn settle_delivery(&self, key: &DeliveryKey, outcome: &Outcome) -> Result<()> {
        let (pk, sk) = keys::delivery(key);
        let (state, detail_name, detail) = match outcome {
            Outcome::Sent { message_id, .. } => (SENT, "message_id", message_id.as_str()),
            Outcome::Failed { error } => (FAILED, "error", error.as_str()),
            Outcome::DeadLettered { error, .. } => (DEAD_LETTER, "error", error.as_str()),
        };
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(pk))
            .key(SK, AttributeValue::S(sk))
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#detail", detail_name)
            .expression_attribute_values(":state", AttributeValue::S(state.into()))
            .expression_attribute_values(":detail", AttributeValue::S(detail.into()));
        update = match outcome {
            Outcome::Sent { at, .. } | Outcome::DeadLettered { at, .. } => update
                .update_expression("SET #state = :state, #detail = :detail, settled_at = :at")
                .expression_attribute_values(":at", AttributeValue::S(keys::instant(*at))),
            Outcome::Failed { .. } => {
                update.update_expression("SET #state = :state, #detail = :detail")
            }
        };
        update
            .send()
            .await
            .map_err(|e| conflict_or("UpdateItem", e, "delivery"))
            .map_err(|e| match e {
                Error::Conflict(_) => Error::NotFound("delivery"),
                e => e,
            })?;
        Ok(())
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

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
