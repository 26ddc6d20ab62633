//! An account and its plan.

use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use teleconf_domain::{Account, AccountId, Language, Province, Tax};
use utoipa::ToSchema;

use crate::local;
use crate::users::UserView;

/// A plan as the API shows it (money as decimal strings).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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

/// A created account and its owner.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedAccount {
    /// The account.
    pub account: AccountView,
    /// Its owner.
    pub owner: UserView,
}
