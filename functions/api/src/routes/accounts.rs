//! Accounts, plans, limits and rates (provider admin). Creating an account creates
//! its owner.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use teleconf_domain::account::validate_name;
use teleconf_domain::permissions::{Action, decide};
use teleconf_domain::{
    Account, AccountId, ActivityKind, Email, Language, Plan, Province, Role, Tax, User,
};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Caller, JsonBody};
use crate::routes::users::UserView;
use crate::routes::{double_option, local, record};
use crate::state::AppState;

/// A plan as the API shows it (money as decimal strings).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanView {
    /// Callers one conference may hold.
    pub participant_limit: u32,
    /// USD per participant-minute, e.g. "0.09".
    #[schema(value_type = String, example = "0.09")]
    pub rate_per_minute: Decimal,
    /// Each leg is rounded up to a multiple of this many seconds.
    pub increment_secs: u32,
    /// USD per month.
    #[schema(value_type = String, example = "0")]
    pub monthly_fee: Decimal,
    /// The plan's own taxes; null when it takes the defaults of the account's
    /// province (Québec: TPS/GST 5 %, TVQ/QST 9.975 %; elsewhere none).
    #[schema(value_type = Option<Vec<Object>>)]
    pub taxes: Option<Vec<Tax>>,
}

/// An account.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccountView {
    /// Identity.
    #[schema(value_type = String)]
    pub id: AccountId,
    /// Name.
    pub name: String,
    /// IANA zone times are shown in.
    #[schema(value_type = String, example = "America/Toronto")]
    pub time_zone: Tz,
    /// fr or en.
    #[schema(value_type = String, example = "fr")]
    pub language: Language,
    /// Billing plan.
    pub plan: PlanView,
    /// Where the account is billed (QC, ON…); gives the default taxes.
    #[schema(value_type = Option<String>, example = "QC")]
    pub province: Option<Province>,
    /// Created at, in the account's zone.
    pub created_at: DateTime<FixedOffset>,
}

impl From<&Account> for AccountView {
    fn from(a: &Account) -> Self {
        Self {
            id: a.id,
            name: a.name.clone(),
            time_zone: a.time_zone,
            language: a.language,
            plan: PlanView {
                participant_limit: a.plan.participant_limit(),
                rate_per_minute: a.plan.rate_per_minute(),
                increment_secs: a.plan.increment_secs(),
                monthly_fee: a.plan.monthly_fee(),
                taxes: a.plan.taxes().map(<[Tax]>::to_vec),
            },
            province: a.province,
            created_at: local(a.created_at, a.time_zone),
        }
    }
}

/// Plan fields to set; absent ones keep their value.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanPatch {
    /// Callers one conference may hold.
    pub participant_limit: Option<u32>,
    /// USD per participant-minute.
    #[schema(value_type = Option<String>)]
    pub rate_per_minute: Option<Decimal>,
    /// Billing increment in seconds.
    pub increment_secs: Option<u32>,
    /// USD per month.
    #[schema(value_type = Option<String>)]
    pub monthly_fee: Option<Decimal>,
    /// The plan's own taxes (`[{"name": "HST", "rate": "0.13"}]`; `[]` for none);
    /// null to take the province's defaults again.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub taxes: Option<Option<Vec<Tax>>>,
}

impl PlanPatch {
    fn apply(self, plan: &Plan) -> ApiResult<Plan> {
        Plan::new(
            self.participant_limit.unwrap_or(plan.participant_limit()),
            self.rate_per_minute.unwrap_or(plan.rate_per_minute()),
            self.increment_secs.unwrap_or(plan.increment_secs()),
            self.monthly_fee.unwrap_or(plan.monthly_fee()),
        )
        .and_then(|p| {
            p.with_taxes(
                self.taxes
                    .unwrap_or_else(|| plan.taxes().map(<[Tax]>::to_vec)),
            )
        })
        .map_err(|e| ApiError::from(e).in_field_prefix("plan"))
    }
}

/// The account's first owner.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOwner {
    /// Login.
    #[schema(value_type = String)]
    pub email: Email,
    /// Name.
    pub name: String,
    /// At least 10 characters.
    pub password: String,
}

/// `POST /v1/accounts` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    /// Name.
    pub name: String,
    /// IANA zone, America/Toronto by default.
    #[schema(value_type = Option<String>)]
    pub time_zone: Option<Tz>,
    /// fr (default) or en.
    #[schema(value_type = Option<String>)]
    pub language: Option<Language>,
    /// Where the account is billed (QC, ON…); none by default.
    #[schema(value_type = Option<String>)]
    pub province: Option<Province>,
    /// Plan parameters; the seed's plan by default.
    #[serde(default)]
    pub plan: PlanPatch,
    /// The owner to create.
    pub owner: NewOwner,
}

/// `PATCH /v1/accounts/{id}` body.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountPatch {
    /// Name.
    pub name: Option<String>,
    /// IANA zone.
    #[schema(value_type = Option<String>)]
    pub time_zone: Option<Tz>,
    /// fr or en.
    #[schema(value_type = Option<String>)]
    pub language: Option<Language>,
    /// Where the account is billed; null for nowhere.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub province: Option<Option<Province>>,
    /// Plan parameters (a change is in force from now; earlier calls keep the
    /// plan they were made under).
    #[serde(default)]
    pub plan: PlanPatch,
}

/// A created account and its owner.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedAccount {
    /// The account.
    pub account: AccountView,
    /// Its owner.
    pub owner: UserView,
}

/// 403 unless the caller is the provider's administrator.
pub(crate) fn provider_only(caller: &Caller) -> ApiResult<()> {
    ApiError::check(decide(&caller.actor(), Action::ManageAccounts), "account")
}

/// Creates an account and its owner (provider admin).
#[utoipa::path(post, path = "/v1/accounts", tag = "accounts", request_body = NewAccount,
    responses((status = 201, body = CreatedAccount), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_account(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<NewAccount>,
) -> ApiResult<(StatusCode, Json<CreatedAccount>)> {
    provider_only(&caller)?;
    let now = state.now();
    let mut account = Account::new(&body.name, now)?;
    account.time_zone = body.time_zone.unwrap_or(account.time_zone);
    account.language = body.language.unwrap_or(account.language);
    account.province = body.province;
    account.plan = body.plan.apply(&account.plan)?;
    let owner = User::new(
        account.id,
        body.owner.email,
        &body.owner.name,
        Role::Owner,
        &body.owner.password,
        now,
    )
    .map_err(|e| ApiError::from(e).in_field_prefix("owner"))?;
    // The owner first: its e-mail is the write that can be refused, and an
    // account without an owner would be unreachable.
    state
        .store
        .create_user(&owner)
        .await
        .map_err(|e| ApiError::from(e).in_field_prefix("owner"))?;
    state.store.create_account(&account).await?;
    record(
        &state,
        &caller,
        ActivityKind::AccountChanged,
        None,
        format!("account {} created", account.name),
    )
    .await;
    Ok((
        StatusCode::CREATED,
        Json(CreatedAccount {
            account: AccountView::from(&account),
            owner: UserView::new(&owner, account.time_zone),
        }),
    ))
}

/// Lists accounts (provider admin).
#[utoipa::path(get, path = "/v1/accounts", tag = "accounts", responses((status = 200, body = [AccountView]), (status = 403, body = ErrorBody)))]
pub async fn list_accounts(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<AccountView>>> {
    provider_only(&caller)?;
    Ok(Json(
        state
            .store
            .accounts()
            .await?
            .iter()
            .map(AccountView::from)
            .collect(),
    ))
}

/// The account `id`; 404 when there is none.
pub(crate) async fn account(state: &AppState, id: &str) -> ApiResult<Account> {
    let id: AccountId = id.parse().map_err(|_| ApiError::not_found("account"))?;
    state
        .store
        .account(id)
        .await?
        .ok_or_else(|| ApiError::not_found("account"))
}

/// One account (provider admin).
#[utoipa::path(get, path = "/v1/accounts/{id}", tag = "accounts", params(("id" = String, Path)), responses((status = 200, body = AccountView), (status = 404, body = ErrorBody)))]
pub async fn get_account(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<AccountView>> {
    provider_only(&caller)?;
    Ok(Json(AccountView::from(&account(&state, &id).await?)))
}

/// Changes an account's name, zone, language or plan (provider admin).
#[utoipa::path(patch, path = "/v1/accounts/{id}", tag = "accounts", params(("id" = String, Path)), request_body = AccountPatch,
    responses((status = 200, body = AccountView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn patch_account(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<AccountPatch>,
) -> ApiResult<Json<AccountView>> {
    provider_only(&caller)?;
    let mut account = account(&state, &id).await?;
    if let Some(name) = patch.name {
        account.name = validate_name("name", &name, 200)?;
    }
    account.time_zone = patch.time_zone.unwrap_or(account.time_zone);
    account.language = patch.language.unwrap_or(account.language);
    if let Some(province) = patch.province {
        account.province = province;
    }
    let plan = patch.plan.apply(&account.plan)?;
    account.change_plan(plan, state.now());
    state.store.update_account(&account).await?;
    record(
        &state,
        &caller,
        ActivityKind::AccountChanged,
        None,
        format!("account {} changed", account.name),
    )
    .await;
    Ok(Json(AccountView::from(&account)))
}
