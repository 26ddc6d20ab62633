//! Reading a process's settings from its environment, once, in `main`; and the
//! settings the binaries share beyond AWS's ([`crate::aws::AwsSettings`]): the
//! provider's [`Branding`].
//!
//! Every binary reads its variables through [`Env`], so each follows the same rules
//! and says the same thing about a bad value:
//! - a variable unset or blank is absent (a default applies, or it is missing);
//! - a required variable absent: `NAME is not set`;
//! - a value that does not parse or breaks a rule: `NAME="value": why`.
//!
//! Readers take the lookup as a function (`from_vars`): [`process_env`] in `main`,
//! a list of pairs ([`lookup_in`]) in tests.

use std::fmt::Display;
use std::str::FromStr;

use teleconf_domain::messages::Branding;

use crate::error::{Error, Result};

/// The process environment as a lookup: what `from_env` passes to `from_vars`.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// A lookup answering from `pairs` (the last pair of a name wins), for tests.
pub fn lookup_in(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| {
        pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

/// Settings read through a lookup, with the rules above.
#[derive(Debug, Clone, Copy)]
pub struct Env<F> {
    /// Answers a variable's value, if it is set.
    lookup: F,
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    /// Settings read through `lookup`.
    pub fn new(lookup: F) -> Self {
        Self { lookup }
    }

    /// The value of `name` as set; `None` when it is unset or blank.
    pub fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|v| !v.trim().is_empty())
    }

    /// The value of `name`; [`Error::Config`] when it is absent.
    pub fn required(&self, name: &str) -> Result<String> {
        self.get(name).ok_or_else(|| missing(name))
    }

    /// The value of `name` read as a `T` (blanks around it ignored); `None` when absent.
    pub fn parse<T>(&self, name: &str) -> Result<Option<T>>
    where
        T: FromStr,
        T::Err: Display,
    {
        self.get(name)
            .map(|value| value.trim().parse().map_err(|e| invalid(name, &value, e)))
            .transpose()
    }

    /// The value of `name` read as a `T`, or `default` when absent.
    pub fn parse_or<T>(&self, name: &str, default: T) -> Result<T>
    where
        T: FromStr,
        T::Err: Display,
    {
        Ok(self.parse(name)?.unwrap_or(default))
    }

    /// The value of `name` read as a `T`; [`Error::Config`] when it is absent.
    pub fn parse_required<T>(&self, name: &str) -> Result<T>
    where
        T: FromStr,
        T::Err: Display,
    {
        self.parse(name)?.ok_or_else(|| missing(name))
    }
}

/// `NAME is not set`.
pub fn missing(name: &str) -> Error {
    Error::Config(format!("{name} is not set"))
}

/// `NAME="value": why`: the value of `name` does not parse or breaks a rule.
pub fn invalid(name: &str, value: &str, why: impl Display) -> Error {
    Error::Config(format!("{name}={value:?}: {why}"))
}

/// The provider's branding from `TELECONF_PROVIDER_NAME`, `TELECONF_SUPPORT_PHONE`
/// and `TELECONF_SUPPORT_EMAIL` read through `var`; the seed's for each one unset.
pub fn branding(var: impl Fn(&str) -> Option<String>) -> Result<Branding> {
    let env = Env::new(var);
    let seed = Branding::default();
    Ok(Branding {
        provider_name: env
            .get("TELECONF_PROVIDER_NAME")
            .unwrap_or(seed.provider_name),
        support_phone: env
            .get("TELECONF_SUPPORT_PHONE")
            .unwrap_or(seed.support_phone),
        support_email: env.parse_or("TELECONF_SUPPORT_EMAIL", seed.support_email)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_is_unset_and_a_missing_setting_is_named() {
        let env = Env::new(lookup_in(&[("A", "  "), ("B", " 7 ")]));
        assert_eq!(env.get("A"), None);
        assert_eq!(env.get("B").as_deref(), Some(" 7 "), "kept as set");
        assert_eq!(env.parse::<u32>("B").unwrap(), Some(7), "read trimmed");
        assert_eq!(env.parse_or::<u32>("A", 3).unwrap(), 3);
        assert_eq!(
            env.required("A").unwrap_err().to_string(),
            "configuration: A is not set"
        );
    }

    #[test]
    fn a_bad_value_is_quoted_with_its_name_and_why() {
        let env = Env::new(lookup_in(&[("N", "many")]));
        assert_eq!(
            env.parse::<u32>("N").unwrap_err().to_string(),
            "configuration: N=\"many\": invalid digit found in string"
        );
        assert_eq!(
            invalid("N", "0", "must be at least 1").to_string(),
            "configuration: N=\"0\": must be at least 1"
        );
    }

    #[test]
    fn the_branding_is_configured_by_the_environment_or_is_the_seeds() {
        assert_eq!(branding(|_| None).unwrap(), Branding::default());
        let b = branding(|name| match name {
            "TELECONF_PROVIDER_NAME" => Some("Télé & Cie".into()),
            "TELECONF_SUPPORT_EMAIL" => Some("aide@tele.example".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(b.provider_name, "Télé & Cie");
        assert_eq!(b.support_email.as_str(), "aide@tele.example");
        assert_eq!(b.support_phone, Branding::default().support_phone);
        let err =
            branding(|name| (name == "TELECONF_SUPPORT_EMAIL").then(|| "x".into())).unwrap_err();
        assert!(err.to_string().contains("TELECONF_SUPPORT_EMAIL"), "{err}");
    }
}
