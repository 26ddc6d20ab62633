//! Accounts, plans, limits and rates (provider admin). Creating an account creates
//! its owner.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::Deserialize;
use teleconf_adapters::store::{AccountStore, ActivityStore, UserStore};
use teleconf_domain::account::validate_name;
use teleconf_domain::permissions::{Action, decide};
use teleconf_domain::{
    Account, AccountId, ActivityKind, Email, Language, Plan, Province, Role, Tax, User,
};
use utoipa::ToSchema;

use super::Caller;
use super::activity::record;
use super::double_option;
use crate::error::Error;

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
    fn apply(self, plan: &Plan) -> Result<Plan, Error> {
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
        .map_err(|e| Error::from(e).within("plan"))
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

/// Refused unless the caller is the provider's administrator.
pub fn provider_only(caller: &Caller) -> Result<(), Error> {
    Error::check(decide(&caller.actor(), Action::ManageAccounts), "account")
}

/// The account `id` for the provider's administrator (not found when there is none).
pub async fn get<S: AccountStore + ?Sized>(
    store: &S,
    caller: &Caller,
    id: &str,
) -> Result<Account, Error> {
    provider_only(caller)?;
    let id: AccountId = id.parse().map_err(|_| Error::NotFound("account"))?;
    store.account(id).await?.ok_or(Error::NotFound("account"))
}

/// Every account.
pub async fn list<S: AccountStore + ?Sized>(
    store: &S,
    caller: &Caller,
) -> Result<Vec<Account>, Error> {
    provider_only(caller)?;
    Ok(store.accounts().await?)
}

/// Creates an account and its owner.
pub async fn create<S: AccountStore + UserStore + ActivityStore + ?Sized>(
    store: &S,
    now: DateTime<Utc>,
    caller: &Caller,
    body: NewAccount,
) -> Result<(Account, User), Error> {
    provider_only(caller)?;
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
    .map_err(|e| Error::from(e).within("owner"))?;
    // The owner first: its e-mail is the write that can be refused, and an
    // account without an owner would be unreachable.
    store
        .create_user(&owner)
        .await
        .map_err(|e| Error::from(e).within("owner"))?;
    store.create_account(&account).await?;
    record(
        store,
        now,
        caller,
        ActivityKind::AccountChanged,
        None,
        format!("account {} created", account.name),
    )
    .await;
    Ok((account, owner))
}

/// Changes an account's name, zone, language or plan.
pub async fn patch<S: AccountStore + ActivityStore + ?Sized>(
    store: &S,
    now: DateTime<Utc>,
    caller: &Caller,
    id: &str,
    patch: AccountPatch,
) -> Result<Account, Error> {
    let mut account = get(store, caller, id).await?;
    if let Some(name) = patch.name {
        account.name = validate_name("name", &name, 200)?;
    }
    account.time_zone = patch.time_zone.unwrap_or(account.time_zone);
    account.language = patch.language.unwrap_or(account.language);
    if let Some(province) = patch.province {
        account.province = province;
    }
    let plan = patch.plan.apply(&account.plan)?;
    account.change_plan(plan, now);
    store.update_account(&account).await?;
    record(
        store,
        now,
        caller,
        ActivityKind::AccountChanged,
        None,
        format!("account {} changed", account.name),
    )
    .await;
    Ok(account)
}
