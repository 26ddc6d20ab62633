//! Access numbers (the seed's « Numéros de téléphones » form). The provider's
//! administrator assigns them to an account (`/v1/accounts/{id}/numbers`), so no
//! customer can take a number that is another's; the owner configures those the
//! account was given; every role of the account sees them (they are in every
//! confirmation).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use teleconf_domain::BlobKey;
use teleconf_domain::permissions::{Action, decide};
use teleconf_domain::{
    Account, AccountId, ActivityKind, ConferencePrompts, E164, Language, NumberAction, NumberKind,
    PhoneNumber, PromptId,
};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Caller, JsonBody};
use crate::routes::accounts::{account, provider_only};
use crate::routes::{local, record, record_in};
use crate::state::AppState;

/// The three messages of the conference action, as prompt ids (null: the default).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromptsBody {
    /// « Msg d'accueil général ».
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub greeting: Option<PromptId>,
    /// « Msg téléconférence désirée ».
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub conference_number: Option<PromptId>,
    /// « Msg code d'accès ».
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub access_code: Option<PromptId>,
}

/// What a call to the number does.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ActionBody {
    /// « Accéder Téléconférences ».
    ConferenceAccess {
        /// Custom prompts.
        #[serde(default)]
        prompts: PromptsBody,
    },
    /// Not routed to conferences.
    None,
}

impl From<ActionBody> for NumberAction {
    fn from(a: ActionBody) -> Self {
        match a {
            ActionBody::ConferenceAccess { prompts } => NumberAction::ConferenceAccess {
                prompts: ConferencePrompts {
                    greeting: prompts.greeting,
                    conference_number: prompts.conference_number,
                    access_code: prompts.access_code,
                },
            },
            ActionBody::None => NumberAction::None,
        }
    }
}

impl From<&NumberAction> for ActionBody {
    fn from(a: &NumberAction) -> Self {
        match a {
            NumberAction::ConferenceAccess { prompts } => ActionBody::ConferenceAccess {
                prompts: PromptsBody {
                    greeting: prompts.greeting,
                    conference_number: prompts.conference_number,
                    access_code: prompts.access_code,
                },
            },
            NumberAction::None => ActionBody::None,
        }
    }
}

/// An access number.
#[derive(Debug, Serialize, ToSchema)]
pub struct NumberView {
    /// E.164.
    #[schema(value_type = String, example = "+18883806331")]
    pub number: E164,
    /// As people read it: (888) 380-6331.
    pub national: String,
    /// Its account.
    #[schema(value_type = String)]
    pub account_id: AccountId,
    /// local or toll_free.
    #[schema(value_type = String)]
    pub kind: NumberKind,
    /// fr or en.
    #[schema(value_type = String)]
    pub greeting_language: Language,
    /// « Filtrer ».
    pub filter: bool,
    /// « Numéro de Callthru? ».
    pub callthru: bool,
    /// Notes.
    pub notes: String,
    /// « Service 911 » address.
    pub e911_address: String,
    /// « Action ».
    pub action: ActionBody,
    /// « Nom affiché ».
    pub display_name: String,
    /// « Confidentiel ».
    pub confidential: bool,
    /// Configured at, in the account's zone.
    pub created_at: DateTime<FixedOffset>,
}

impl NumberView {
    /// The view of `n`, times on the wall clock of `tz`.
    pub fn new(n: &PhoneNumber, tz: Tz) -> Self {
        Self {
            number: n.number.clone(),
            national: n.number.national(),
            account_id: n.account_id,
            kind: n.kind,
            greeting_language: n.greeting_language,
            filter: n.filter,
            callthru: n.callthru,
            notes: n.notes.clone(),
            e911_address: n.e911_address.clone(),
            action: ActionBody::from(&n.action),
            display_name: n.display_name.clone(),
            confidential: n.confidential,
            created_at: local(n.created_at, tz),
        }
    }
}

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
async fn validated(state: &AppState, number: PhoneNumber) -> ApiResult<PhoneNumber> {
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
                ensure_prompt(state, number.account_id, id, field).await?;
            }
        }
    }
    Ok(number)
}

/// 400 on `field` unless prompt `id` was uploaded to `account`.
pub async fn ensure_prompt(
    state: &AppState,
    account: AccountId,
    id: PromptId,
    field: &'static str,
) -> ApiResult<()> {
    if state
        .blobs
        .get(&BlobKey::prompt(account, id))
        .await?
        .is_none()
    {
        return Err(ApiError::invalid(
            field,
            "no such prompt in this account: upload it with POST /v1/prompts",
        ));
    }
    Ok(())
}

async fn number_of(
    state: &AppState,
    caller: &Caller,
    e164: &str,
    action: Action,
) -> ApiResult<PhoneNumber> {
    ApiError::check(decide(&caller.actor(), action), "number")?;
    let e164: E164 = e164.parse().map_err(|_| ApiError::not_found("number"))?;
    match state.store.number(&e164).await? {
        Some(n) if n.account_id == caller.account.id => Ok(n),
        _ => Err(ApiError::not_found("number")),
    }
}

/// Lists the account's access numbers.
#[utoipa::path(get, path = "/v1/numbers", tag = "numbers", responses((status = 200, body = [NumberView])))]
pub async fn list_numbers(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<NumberView>>> {
    ApiError::check(
        decide(&caller.actor(), Action::ViewNumbers(caller.account.id)),
        "number",
    )?;
    Ok(Json(
        state
            .store
            .numbers(caller.account.id)
            .await?
            .iter()
            .map(|n| NumberView::new(n, caller.account.time_zone))
            .collect(),
    ))
}

/// One access number.
#[utoipa::path(get, path = "/v1/numbers/{e164}", tag = "numbers", params(("e164" = String, Path)), responses((status = 200, body = NumberView), (status = 404, body = ErrorBody)))]
pub async fn get_number(
    State(state): State<AppState>,
    caller: Caller,
    Path(e164): Path<String>,
) -> ApiResult<Json<NumberView>> {
    let n = number_of(
        &state,
        &caller,
        &e164,
        Action::ViewNumbers(caller.account.id),
    )
    .await?;
    Ok(Json(NumberView::new(&n, caller.account.time_zone)))
}

/// Changes an access number (owner).
#[utoipa::path(patch, path = "/v1/numbers/{e164}", tag = "numbers", params(("e164" = String, Path)), request_body = NumberPatch,
    responses((status = 200, body = NumberView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn patch_number(
    State(state): State<AppState>,
    caller: Caller,
    Path(e164): Path<String>,
    JsonBody(p): JsonBody<NumberPatch>,
) -> ApiResult<Json<NumberView>> {
    let mut n = number_of(
        &state,
        &caller,
        &e164,
        Action::ManageNumbers(caller.account.id),
    )
    .await?;
    n.kind = p.kind.unwrap_or(n.kind);
    n.greeting_language = p.greeting_language.unwrap_or(n.greeting_language);
    n.filter = p.filter.unwrap_or(n.filter);
    n.callthru = p.callthru.unwrap_or(n.callthru);
    n.notes = p.notes.unwrap_or(n.notes);
    n.e911_address = p.e911_address.unwrap_or(n.e911_address);
    n.action = p.action.map(NumberAction::from).unwrap_or(n.action);
    n.display_name = p.display_name.unwrap_or(n.display_name);
    n.confidential = p.confidential.unwrap_or(n.confidential);
    let n = validated(&state, n).await?;
    state.store.update_number(&n).await?;
    record(
        &state,
        &caller,
        ActivityKind::NumberUpdated,
        None,
        n.number.national(),
    )
    .await;
    Ok(Json(NumberView::new(&n, caller.account.time_zone)))
}

/// The account `id` for the provider's administrator (403 for anyone else).
async fn provider_account(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Account> {
    provider_only(caller)?;
    account(state, id).await
}

/// An account's access numbers (provider admin).
#[utoipa::path(get, path = "/v1/accounts/{id}/numbers", tag = "numbers", params(("id" = String, Path)),
    responses((status = 200, body = [NumberView]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_account_numbers(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<NumberView>>> {
    let account = provider_account(&state, &caller, &id).await?;
    Ok(Json(
        state
            .store
            .numbers(account.id)
            .await?
            .iter()
            .map(|n| NumberView::new(n, account.time_zone))
            .collect(),
    ))
}

/// Assigns a number to an account (provider admin): routed to its conferences, in
/// its language, filtered; its owner configures the rest. 409 when the number is
/// assigned already, to this account or another.
#[utoipa::path(post, path = "/v1/accounts/{id}/numbers", tag = "numbers", params(("id" = String, Path)), request_body = AssignedNumber,
    responses((status = 201, body = NumberView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn assign_number(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<AssignedNumber>,
) -> ApiResult<(StatusCode, Json<NumberView>)> {
    let account = provider_account(&state, &caller, &id).await?;
    let number = PhoneNumber::assigned(
        body.number,
        account.id,
        body.kind,
        account.language,
        state.now(),
    );
    state.store.create_number(&number).await?;
    record_in(
        &state,
        account.id,
        &caller,
        ActivityKind::NumberCreated,
        None,
        number.number.national(),
    )
    .await;
    Ok((
        StatusCode::CREATED,
        Json(NumberView::new(&number, account.time_zone)),
    ))
}

/// Takes a number back from an account (provider admin): callers of the number
/// reach no conference of it any more.
#[utoipa::path(delete, path = "/v1/accounts/{id}/numbers/{e164}", tag = "numbers", params(("id" = String, Path), ("e164" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn unassign_number(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, e164)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let account = provider_account(&state, &caller, &id).await?;
    let e164: E164 = e164.parse().map_err(|_| ApiError::not_found("number"))?;
    let number = match state.store.number(&e164).await? {
        Some(n) if n.account_id == account.id => n,
        _ => return Err(ApiError::not_found("number")),
    };
    state.store.delete_number(&number).await?;
    record_in(
        &state,
        account.id,
        &caller,
        ActivityKind::NumberDeleted,
        None,
        number.number.national(),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}
