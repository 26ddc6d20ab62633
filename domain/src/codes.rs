//! What a caller keys in: the conference number and the access code of a role.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::random;

/// Defines a code of exactly `LEN` digits that never starts with 0 (people read
/// these aloud and type them into forms that drop leading zeros), drawn from the OS
/// CSPRNG, validated on parse and on deserialization. `Debug` is left to each type:
/// some codes are secrets.
macro_rules! fixed_digits {
    ($(#[$doc:meta])* $name:ident, $len:expr, $field:literal, $message:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// How many digits.
            pub const LEN: usize = $len;

            /// A random one from the OS CSPRNG.
            pub fn generate() -> Self {
                Self($crate::random::digits(Self::LEN, true))
            }

            /// The digits.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::error::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                if s.len() == Self::LEN && s.bytes().all(|b| b.is_ascii_digit()) && !s.starts_with('0') {
                    Ok(Self(s.to_string()))
                } else {
                    Err($crate::error::Error::invalid($field, $message))
                }
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::error::Error;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                s.parse()
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}
pub(crate) use fixed_digits;

fixed_digits!(
    /// A conference's 7-digit number, unique across the whole service (the store
    /// enforces the uniqueness).
    ConferenceNumber,
    7,
    "conference_number",
    "a conference number is 7 digits, not starting with 0"
);

/// The role a caller joins with, chosen by the access code they key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallerRole {
    /// Hears and is heard by all.
    Participant,
    /// Only hears; never heard (« auditeur »).
    Listener,
    /// Hears, is heard, and has the keypad controls (« narrateur »).
    Moderator,
}

impl CallerRole {
    /// Every role, in the order the confirmation lists them.
    pub const ALL: [CallerRole; 3] = [
        CallerRole::Participant,
        CallerRole::Listener,
        CallerRole::Moderator,
    ];

    /// The API's name of the role.
    pub fn as_str(self) -> &'static str {
        match self {
            CallerRole::Participant => "participant",
            CallerRole::Listener => "listener",
            CallerRole::Moderator => "moderator",
        }
    }

    /// Whether the others hear this caller.
    pub fn is_heard(self) -> bool {
        !matches!(self, CallerRole::Listener)
    }
}

impl fmt::Display for CallerRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role's access code: 4 to 10 digits.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccessCode(String);

impl AccessCode {
    /// Shortest code accepted.
    pub const MIN_LEN: usize = 4;
    /// Longest code accepted.
    pub const MAX_LEN: usize = 10;
    /// Length of the codes the service generates (the seed's examples have 5).
    pub const GENERATED_LEN: usize = 5;

    /// A random code from the OS CSPRNG.
    pub fn generate() -> Self {
        Self(random::digits(Self::GENERATED_LEN, true))
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for AccessCode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        if !s.bytes().all(|b| b.is_ascii_digit()) || s.is_empty() {
            return Err(Error::invalid("code", "an access code holds digits only"));
        }
        if !(Self::MIN_LEN..=Self::MAX_LEN).contains(&s.len()) {
            return Err(Error::invalid(
                "code",
                format!(
                    "an access code has {} to {} digits",
                    Self::MIN_LEN,
                    Self::MAX_LEN
                ),
            ));
        }
        Ok(Self(s.to_string()))
    }
}

impl fmt::Debug for AccessCode {
    // Codes are secrets: keep them out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessCode(…)")
    }
}

macro_rules! string_newtype_conversions {
    ($($t:ty),*) => {$(
        impl TryFrom<String> for $t {
            type Error = Error;
            fn try_from(s: String) -> Result<Self, Error> { s.parse() }
        }
        impl From<$t> for String {
            fn from(v: $t) -> String { v.0 }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(&self.0) }
        }
    )*};
}
string_newtype_conversions!(AccessCode);

impl fmt::Debug for ConferenceNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ConferenceNumber({})", self.0)
    }
}

/// One code per role, distinct from each other (a caller's code alone says their role).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "AccessCodesRaw", into = "AccessCodesRaw")]
pub struct AccessCodes {
    participant: AccessCode,
    listener: AccessCode,
    moderator: AccessCode,
}

/// Codes the user chose; the others are generated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeChoices {
    /// The participants' code, if chosen.
    pub participant: Option<AccessCode>,
    /// The listeners' code, if chosen.
    pub listener: Option<AccessCode>,
    /// The moderators' code, if chosen.
    pub moderator: Option<AccessCode>,
}

impl AccessCodes {
    /// Builds the codes from explicit values; refuses two roles sharing a code.
    pub fn new(
        participant: AccessCode,
        listener: AccessCode,
        moderator: AccessCode,
    ) -> Result<Self, Error> {
        let codes = Self {
            participant,
            listener,
            moderator,
        };
        for (i, a) in CallerRole::ALL.iter().enumerate() {
            for b in &CallerRole::ALL[i + 1..] {
                if codes.code(*a) == codes.code(*b) {
                    return Err(Error::invalid(
                        format!("codes.{}", b.as_str()),
                        format!("the {} and {} codes must differ", a.as_str(), b.as_str()),
                    ));
                }
            }
        }
        Ok(codes)
    }

    /// Keeps the chosen codes and draws the missing ones at random, distinct from
    /// every other.
    pub fn from_choices(choices: CodeChoices) -> Result<Self, Error> {
        let chosen = [&choices.participant, &choices.listener, &choices.moderator];
        let mut out: Vec<AccessCode> = Vec::with_capacity(3);
        for c in chosen {
            let code = match c {
                Some(code) => code.clone(),
                None => loop {
                    let candidate = AccessCode::generate();
                    let clashes = chosen.iter().any(|o| o.as_ref() == Some(&candidate))
                        || out.contains(&candidate);
                    if !clashes {
                        break candidate;
                    }
                },
            };
            out.push(code);
        }
        let [participant, listener, moderator]: [AccessCode; 3] =
            out.try_into().expect("three codes");
        Self::new(participant, listener, moderator)
    }

    /// The code of `role`.
    pub fn code(&self, role: CallerRole) -> &AccessCode {
        match role {
            CallerRole::Participant => &self.participant,
            CallerRole::Listener => &self.listener,
            CallerRole::Moderator => &self.moderator,
        }
    }

    /// The role a keyed code opens, if any.
    pub fn role_for(&self, keyed: &str) -> Option<CallerRole> {
        CallerRole::ALL
            .into_iter()
            .find(|r| self.code(*r).as_str() == keyed)
    }
}

/// The serialized shape of [`AccessCodes`]; deserializing goes through the distinctness check.
#[derive(Serialize, Deserialize)]
struct AccessCodesRaw {
    participant: AccessCode,
    listener: AccessCode,
    moderator: AccessCode,
}

impl TryFrom<AccessCodesRaw> for AccessCodes {
    type Error = Error;
    fn try_from(r: AccessCodesRaw) -> Result<Self, Error> {
        AccessCodes::new(r.participant, r.listener, r.moderator)
    }
}

impl From<AccessCodes> for AccessCodesRaw {
    fn from(c: AccessCodes) -> Self {
        AccessCodesRaw {
            participant: c.participant,
            listener: c.listener,
            moderator: c.moderator,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> AccessCode {
        s.parse().unwrap()
    }

    #[test]
    fn access_codes_are_4_to_10_digits() {
        for ok in ["1234", "69501", "1234567890"] {
            assert!(ok.parse::<AccessCode>().is_ok(), "{ok}");
        }
        for bad in [
            "",
            "123",
            "12345678901",
            "12a45",
            " 1234",
            "12 34",
            "-1234",
            "１２３４",
        ] {
            assert!(bad.parse::<AccessCode>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn leading_zeros_are_kept_in_codes() {
        assert_eq!(code("0042").as_str(), "0042");
    }

    #[test]
    fn conference_numbers_are_seven_digits_not_starting_with_zero() {
        assert!("3832257".parse::<ConferenceNumber>().is_ok());
        for bad in ["383225", "38322570", "0832257", "383225a", ""] {
            assert!(bad.parse::<ConferenceNumber>().is_err(), "{bad}");
        }
        for _ in 0..100 {
            let n = ConferenceNumber::generate();
            assert!(n.as_str().parse::<ConferenceNumber>().is_ok());
        }
    }

    #[test]
    fn two_roles_may_not_share_a_code() {
        let err = AccessCodes::new(code("11111"), code("22222"), code("11111")).unwrap_err();
        assert!(
            matches!(err, Error::Invalid { ref field, .. } if field == "codes.moderator"),
            "{err}"
        );
        assert!(AccessCodes::new(code("11111"), code("22222"), code("33333")).is_ok());
    }

    #[test]
    fn a_chosen_code_is_kept_and_the_others_generated_distinct() {
        for _ in 0..200 {
            let codes = AccessCodes::from_choices(CodeChoices {
                listener: Some(code("83269")),
                ..Default::default()
            })
            .unwrap();
            assert_eq!(codes.code(CallerRole::Listener).as_str(), "83269");
            let all: Vec<_> = CallerRole::ALL
                .iter()
                .map(|r| codes.code(*r).as_str())
                .collect();
            assert!(all[0] != all[1] && all[1] != all[2] && all[0] != all[2]);
            assert_eq!(
                codes.code(CallerRole::Participant).as_str().len(),
                AccessCode::GENERATED_LEN
            );
        }
    }

    #[test]
    fn duplicate_chosen_codes_name_the_field() {
        let err = AccessCodes::from_choices(CodeChoices {
            participant: Some(code("1234")),
            moderator: Some(code("1234")),
            ..Default::default()
        })
        .unwrap_err();
        assert!(matches!(err, Error::Invalid { ref field, .. } if field == "codes.moderator"));
    }

    #[test]
    fn the_keyed_code_says_the_role() {
        let codes = AccessCodes::new(code("69501"), code("83269"), code("44444")).unwrap();
        assert_eq!(codes.role_for("69501"), Some(CallerRole::Participant));
        assert_eq!(codes.role_for("83269"), Some(CallerRole::Listener));
        assert_eq!(codes.role_for("44444"), Some(CallerRole::Moderator));
        assert_eq!(codes.role_for("12345"), None);
        assert_eq!(codes.role_for(""), None);
    }

    #[test]
    fn codes_never_appear_in_debug_output() {
        let codes = AccessCodes::new(code("69501"), code("83269"), code("44444")).unwrap();
        assert!(!format!("{codes:?}").contains("69501"));
    }

    #[test]
    fn deserializing_checks_distinct_codes() {
        let bad = r#"{"participant":"1111","listener":"1111","moderator":"2222"}"#;
        assert!(serde_json::from_str::<AccessCodes>(bad).is_err());
    }
}
