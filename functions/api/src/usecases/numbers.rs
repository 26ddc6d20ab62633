//! Access numbers: the provider assigns them to an account and takes them back; the
//! account's owner configures them (language, routing, messages, « 911 »).

use chrono::{DateTime, Utc};
use serde::Deserialize;
use teleconf_adapters::blobs::BlobStore;
use teleconf_adapters::store::{AccountStore, ActivityStore, NumberStore};
use teleconf_domain::permissions::{Action, decide};
use teleconf_domain::{
    Account, ActivityKind, E164, Language, NumberAction, NumberKind, PhoneNumber,
};
use teleconf_views::numbers::ActionBody;
use utoipa::ToSchema;

use super::Caller;
use super::accounts;
use super::activity::{record, record_in};
use super::prompts::ensure_prompt;
use crate::error::Error;

/// `POST /v1/accounts/{id}/numbers` body: a number of the provider's trunk for
/// the account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignedNumber {
    /// The number; E.164 or NANP as people type it.
    #[schema(value_type = String)]
    pub number: E164,
    /// local or toll_free.
    #[schema(value_type = String)]
    pub kind: NumberKind,
}

/// `PATCH /v1/numbers/{e164}` body.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NumberPatch {
    /// local or toll_free.
    #[schema(value_type = Option<String>)]
    pub kind: Option<NumberKind>,
    /// fr or en.
    #[schema(value_type = Option<String>)]
    pub greeting_language: Option<Language>,
    /// « Filtrer ».
    pub filter: Option<bool>,
    /// « Numéro de Callthru? ».
    pub callthru: Option<bool>,
    /// Notes.
    pub notes: Option<String>,
    /// « Service 911 ».
    pub e911_address: Option<String>,
    /// « Action ».
    pub action: Option<ActionBody>,
    /// « Nom affiché ».
    pub display_name: Option<String>,
    /// « Confidentiel ».
    pub confidential: Option<bool>,
}

/// Checks the rules of the form and that every prompt named exists in the account.
async fn validated(blobs: &dyn BlobStore, number: PhoneNumber) -> Result<PhoneNumber, Error> {
    number.validate()?;
    if let Some(prompts) = number.conference_prompts() {
        for (field, prompt) in [
            ("action.prompts.greeting", prompts.greeting),
            (
                "action.prompts.conference_number",
                prompts.conference_number,
            ),
            ("action.prompts.access_code", prompts.access_code),
        ] {
            if let Some(id) = prompt {
                ensure_prompt(blobs, number.account_id, id, field).await?;
            }
        }
    }
    Ok(number)
}

/// The number `e164` of `account`, or not found.
async fn number_in<S: NumberStore + ?Sized>(
    store: &S,
    account: &Account,
    e164: &str,
) -> Result<PhoneNumber, Error> {
    let e164: E164 = e164.parse().map_err(|_| Error::NotFound("number"))?;
    match store.number(&e164).await? {
        Some(n) if n.account_id == account.id => Ok(n),
        _ => Err(Error::NotFound("number")),
    }
}

/// The caller's account's access numbers.
pub async fn list<S: NumberStore + ?Sized>(
    store: &S,
    caller: &Caller,
) -> Result<Vec<PhoneNumber>, Error> {
    Error::check(
        decide(&caller.actor(), Action::ViewNumbers(caller.account.id)),
        "number",
    )?;
    Ok(store.numbers(caller.account.id).await?)
}

/// One access number of the caller's account.
pub async fn get<S: NumberStore + ?Sized>(
    store: &S,
    caller: &Caller,
    e164: &str,
) -> Result<PhoneNumber, Error> {
    Error::check(
        decide(&caller.actor(), Action::ViewNumbers(caller.account.id)),
        "number",
    )?;
    number_in(store, &caller.account, e164).await
}

/// Changes an access number (owner).
pub async fn patch<S: NumberStore + ActivityStore + ?Sized>(
    store: &S,
    blobs: &dyn BlobStore,
    now: DateTime<Utc>,
    caller: &Caller,
    e164: &str,
    p: NumberPatch,
) -> Result<PhoneNumber, Error> {
    Error::check(
        decide(&caller.actor(), Action::ManageNumbers(caller.account.id)),
        "number",
    )?;
    let mut n = number_in(store, &caller.account, e164).await?;
    n.kind = p.kind.unwrap_or(n.kind);
    n.greeting_language = p.greeting_language.unwrap_or(n.greeting_language);
    n.filter = p.filter.unwrap_or(n.filter);
    n.callthru = p.callthru.unwrap_or(n.callthru);
    n.notes = p.notes.unwrap_or(n.notes);
    n.e911_address = p.e911_address.unwrap_or(n.e911_address);
    n.action = p.action.map(NumberAction::from).unwrap_or(n.action);
    n.display_name = p.display_name.unwrap_or(n.display_name);
    n.confidential = p.confidential.unwrap_or(n.confidential);
    let n = validated(blobs, n).await?;
    store.update_number(&n).await?;
    record(
        store,
        now,
        caller,
        ActivityKind::NumberUpdated,
        None,
        n.number.national(),
    )
    .await;
    Ok(n)
}

/// An account's access numbers (provider admin), and the account.
pub async fn list_of_account<S: AccountStore + NumberStore + ?Sized>(
    store: &S,
    caller: &Caller,
    id: &str,
) -> Result<(Account, Vec<PhoneNumber>), Error> {
    let account = accounts::get(store, caller, id).await?;
    let numbers = store.numbers(account.id).await?;
    Ok((account, numbers))
}

/// Assigns a number to an account (provider admin): routed to its conferences, in
/// its language, filtered; its owner configures the rest. A conflict when the
/// number is assigned already, to this account or another.
pub async fn assign<S: AccountStore + NumberStore + ActivityStore + ?Sized>(
    store: &S,
    now: DateTime<Utc>,
    caller: &Caller,
    id: &str,
    body: AssignedNumber,
) -> Result<(Account, PhoneNumber), Error> {
    let account = accounts::get(store, caller, id).await?;
    let number = PhoneNumber::assigned(body.number, account.id, body.kind, account.language, now);
    store.create_number(&number).await?;
    record_in(
        store,
        now,
        account.id,
        caller,
        ActivityKind::NumberCreated,
        None,
        number.number.national(),
    )
    .await;
    Ok((account, number))
}

/// Takes a number back from an account (provider admin): callers of the number
/// reach no conference of it any more.
pub async fn unassign<S: AccountStore + NumberStore + ActivityStore + ?Sized>(
    store: &S,
    now: DateTime<Utc>,
    caller: &Caller,
    id: &str,
    e164: &str,
) -> Result<(), Error> {
    let account = accounts::get(store, caller, id).await?;
    let number = number_in(store, &account, e164).await?;
    store.delete_number(&number).await?;
    record_in(
        store,
        now,
        account.id,
        caller,
        ActivityKind::NumberDeleted,
        None,
        number.number.national(),
    )
    .await;
    Ok(())
}
