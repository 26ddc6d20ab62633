//! Accounts (the provider's customers) and the plan they are billed on.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use rust_decimal::dec;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::{AccountId, Province, Tax};

/// The languages the product speaks (prompts, mail, portal).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// French, the default (the seed is written for Québec).
    #[default]
    Fr,
    /// English.
    En,
}

impl Language {
    /// ISO 639-1 code.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Fr => "fr",
            Language::En => "en",
        }
    }
}

impl std::str::FromStr for Language {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "fr" => Ok(Language::Fr),
            "en" => Ok(Language::En),
            _ => Err(Error::invalid("language", "language is \"fr\" or \"en\"")),
        }
    }
}

/// The plan an account is billed on (« Téléconférence autogérée – Forfait CONF002 »).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "PlanRaw", into = "PlanRaw")]
pub struct Plan {
    participant_limit: u32,
    rate_per_minute: Decimal,
    increment_secs: u32,
    monthly_fee: Decimal,
    taxes: Option<Vec<Tax>>,
}

impl Plan {
    /// Callers a conference holds by default (the seed: 25, raisable).
    pub const DEFAULT_PARTICIPANT_LIMIT: u32 = 25;
    /// Largest participant limit one conference may be given.
    pub const MAX_PARTICIPANT_LIMIT: u32 = 1_000;
    /// Longest billing increment accepted (one hour).
    pub const MAX_INCREMENT_SECS: u32 = 3_600;
    /// Most taxes one plan may list.
    pub const MAX_TAXES: usize = 4;

    /// A plan; refuses a zero or huge participant limit, a negative rate or fee, or an
    /// increment outside 1 s – 1 h.
    pub fn new(
        participant_limit: u32,
        rate_per_minute: Decimal,
        increment_secs: u32,
        monthly_fee: Decimal,
    ) -> Result<Self, Error> {
        if !(1..=Self::MAX_PARTICIPANT_LIMIT).contains(&participant_limit) {
            return Err(Error::invalid(
                "participant_limit",
                format!(
                    "the participant limit is 1 to {}",
                    Self::MAX_PARTICIPANT_LIMIT
                ),
            ));
        }
        if rate_per_minute.is_sign_negative() {
            return Err(Error::invalid(
                "rate_per_minute",
                "the rate cannot be negative",
            ));
        }
        if !(1..=Self::MAX_INCREMENT_SECS).contains(&increment_secs) {
            return Err(Error::invalid(
                "increment_secs",
                "the billing increment is 1 to 3600 seconds",
            ));
        }
        if monthly_fee.is_sign_negative() {
            return Err(Error::invalid(
                "monthly_fee",
                "the monthly fee cannot be negative",
            ));
        }
        Ok(Self {
            participant_limit,
            rate_per_minute,
            increment_secs,
            monthly_fee,
            taxes: None,
        })
    }

    /// The same plan with its own taxes (`None`: the defaults of the account's
    /// province); refuses more than [`Plan::MAX_TAXES`] or two of one name.
    pub fn with_taxes(mut self, taxes: Option<Vec<Tax>>) -> Result<Self, Error> {
        if let Some(list) = &taxes {
            if list.len() > Self::MAX_TAXES {
                return Err(Error::invalid(
                    "taxes",
                    format!("at most {} taxes", Self::MAX_TAXES),
                ));
            }
            for (i, t) in list.iter().enumerate() {
                if list[..i].iter().any(|u| u.name() == t.name()) {
                    return Err(Error::invalid("taxes", "two taxes have the same name"));
                }
            }
        }
        self.taxes = taxes;
        Ok(self)
    }

    /// The most callers one conference of the account may hold.
    pub fn participant_limit(&self) -> u32 {
        self.participant_limit
    }
    /// USD per participant-minute.
    pub fn rate_per_minute(&self) -> Decimal {
        self.rate_per_minute
    }
    /// Each leg's duration is rounded up to a multiple of this.
    pub fn increment_secs(&self) -> u32 {
        self.increment_secs
    }
    /// USD billed every month whatever the usage.
    pub fn monthly_fee(&self) -> Decimal {
        self.monthly_fee
    }
    /// The plan's own taxes; `None` when it takes the province's defaults.
    pub fn taxes(&self) -> Option<&[Tax]> {
        self.taxes.as_deref()
    }
}

impl Default for Plan {
    /// The seed's plan: 25 callers, $0.09 per participant-minute billed by the whole
    /// minute, no monthly fee until the provider sets one.
    fn default() -> Self {
        Plan::new(
            Self::DEFAULT_PARTICIPANT_LIMIT,
            dec!(0.09),
            60,
            Decimal::ZERO,
        )
        .expect("the default plan is valid")
    }
}

#[derive(Serialize, Deserialize)]
struct PlanRaw {
    participant_limit: u32,
    rate_per_minute: Decimal,
    increment_secs: u32,
    monthly_fee: Decimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    taxes: Option<Vec<Tax>>,
}

impl TryFrom<PlanRaw> for Plan {
    type Error = Error;
    fn try_from(r: PlanRaw) -> Result<Self, Error> {
        Plan::new(
            r.participant_limit,
            r.rate_per_minute,
            r.increment_secs,
            r.monthly_fee,
        )?
        .with_taxes(r.taxes)
    }
}

impl From<Plan> for PlanRaw {
    fn from(p: Plan) -> Self {
        PlanRaw {
            participant_limit: p.participant_limit,
            rate_per_minute: p.rate_per_minute,
            increment_secs: p.increment_secs,
            monthly_fee: p.monthly_fee,
            taxes: p.taxes,
        }
    }
}

/// A plan the account was billed on before, until an instant (its successor was
/// in force from then on).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PastPlan {
    /// The plan.
    pub plan: Plan,
    /// When it stopped being in force.
    pub until: DateTime<Utc>,
}

/// The time zone accounts are in unless they say otherwise.
pub const DEFAULT_TIME_ZONE: Tz = chrono_tz::America::Toronto;

/// A business customer of the provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    /// Identity.
    pub id: AccountId,
    /// The business's name.
    pub name: String,
    /// Where times are shown (stored times are UTC).
    pub time_zone: Tz,
    /// Language of mail, prompts and portal by default.
    pub language: Language,
    /// What the account pays.
    pub plan: Plan,
    /// When the provider created it.
    pub created_at: DateTime<Utc>,
    /// Where the account is billed; gives the taxes of a plan that lists none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub province: Option<Province>,
    /// The plans in force before [`Account::plan`], oldest first (usage is priced
    /// with the plan in force when the leg started).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plan_history: Vec<PastPlan>,
}

impl Account {
    /// A new account with the default zone, language and plan.
    pub fn new(name: &str, now: DateTime<Utc>) -> Result<Self, Error> {
        Ok(Self {
            id: AccountId::new(),
            name: validate_name("name", name, 200)?,
            time_zone: DEFAULT_TIME_ZONE,
            language: Language::default(),
            plan: Plan::default(),
            created_at: now,
            province: None,
            plan_history: Vec::new(),
        })
    }

    /// Puts `plan` in force from `now`, keeping the one it replaces in the history
    /// (nothing changes when the plan is the same).
    pub fn change_plan(&mut self, plan: Plan, now: DateTime<Utc>) {
        if plan != self.plan {
            let old = std::mem::replace(&mut self.plan, plan);
            self.plan_history.push(PastPlan {
                plan: old,
                until: now,
            });
        }
    }

    /// The plan in force at `at`.
    pub fn plan_at(&self, at: DateTime<Utc>) -> &Plan {
        self.plan_history
            .iter()
            .find(|p| at < p.until)
            .map_or(&self.plan, |p| &p.plan)
    }

    /// The taxes `plan` charges this account: its own, or the province's defaults.
    pub fn taxes_under(&self, plan: &Plan) -> Vec<Tax> {
        match plan.taxes() {
            Some(own) => own.to_vec(),
            None => self
                .province
                .map(Province::default_taxes)
                .unwrap_or_default(),
        }
    }
}

/// A required, trimmed, bounded free-text field.
pub fn validate_name(field: &'static str, value: &str, max_chars: usize) -> Result<String, Error> {
    let v = value.trim();
    if v.is_empty() {
        return Err(Error::invalid(field, "required"));
    }
    if v.chars().count() > max_chars {
        return Err(Error::invalid(
            field,
            format!("at most {max_chars} characters"),
        ));
    }
    if v.chars().any(char::is_control) {
        return Err(Error::invalid(field, "control characters are not allowed"));
    }
    Ok(v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_plan_is_the_seeds() {
        let p = Plan::default();
        assert_eq!(p.participant_limit(), 25);
        assert_eq!(p.rate_per_minute(), dec!(0.09));
        assert_eq!(p.increment_secs(), 60);
    }

    #[test]
    fn a_plan_refuses_nonsense() {
        assert!(Plan::new(0, dec!(0.09), 60, dec!(0)).is_err());
        assert!(Plan::new(25, dec!(-0.01), 60, dec!(0)).is_err());
        assert!(Plan::new(25, dec!(0.09), 0, dec!(0)).is_err());
        assert!(Plan::new(25, dec!(0.09), 3601, dec!(0)).is_err());
        assert!(Plan::new(25, dec!(0.09), 60, dec!(-1)).is_err());
        assert!(Plan::new(100, dec!(0.05), 6, dec!(29.95)).is_ok());
    }

    #[test]
    fn a_plan_read_back_is_validated() {
        let bad = r#"{"participant_limit":0,"rate_per_minute":"0.09","increment_secs":60,"monthly_fee":"0"}"#;
        assert!(serde_json::from_str::<Plan>(bad).is_err());
        let good = serde_json::to_string(&Plan::default()).unwrap();
        assert_eq!(
            serde_json::from_str::<Plan>(&good).unwrap(),
            Plan::default()
        );
    }

    #[test]
    fn a_plan_lists_its_own_taxes_or_takes_the_provinces() {
        let mut a = Account::new("Omnivigil", Utc::now()).unwrap();
        assert!(a.taxes_under(&a.plan).is_empty());
        a.province = Some(Province::Qc);
        assert_eq!(a.taxes_under(&a.plan), vec![Tax::gst(), Tax::qst()]);
        let hst = Plan::default()
            .with_taxes(Some(vec![Tax::new("HST", dec!(0.13)).unwrap()]))
            .unwrap();
        assert_eq!(a.taxes_under(&hst)[0].name(), "HST");
        let none = Plan::default().with_taxes(Some(vec![])).unwrap();
        assert!(a.taxes_under(&none).is_empty());
        assert!(
            Plan::default()
                .with_taxes(Some(vec![Tax::gst(), Tax::gst()]))
                .is_err()
        );
        let json = serde_json::to_string(&hst).unwrap();
        assert_eq!(serde_json::from_str::<Plan>(&json).unwrap(), hst);
    }

    #[test]
    fn the_plan_in_force_follows_the_changes() {
        let t0 = Utc::now();
        let mut a = Account::new("Omnivigil", t0).unwrap();
        let dearer = Plan::new(25, dec!(0.12), 60, Decimal::ZERO).unwrap();
        let change = t0 + chrono::Duration::days(10);
        a.change_plan(dearer.clone(), change);
        a.change_plan(dearer.clone(), change + chrono::Duration::days(1)); // same plan: no entry
        assert_eq!(a.plan_history.len(), 1);
        assert_eq!(a.plan_at(t0).rate_per_minute(), dec!(0.09));
        assert_eq!(a.plan_at(change).rate_per_minute(), dec!(0.12));
        let back: Account = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        assert_eq!(back, a);
    }

    #[test]
    fn accounts_default_to_toronto_and_french() {
        let a = Account::new("  Omnivigil Solutions ", Utc::now()).unwrap();
        assert_eq!(a.name, "Omnivigil Solutions");
        assert_eq!(a.time_zone, chrono_tz::America::Toronto);
        assert_eq!(a.language, Language::Fr);
        assert!(Account::new("   ", Utc::now()).is_err());
    }
}
