//! Telephone numbers in E.164 form, the only form stored or compared.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// A telephone number in E.164: `+`, a country code, at most 15 digits in all.
///
/// Parsing accepts what people type (`+1 (888) 380-6331`, `1-888-380-6331`) and, as
/// the service is North American, a bare 10-digit NANP number (`888 380 6331`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct E164(String);

impl E164 {
    /// The canonical text, `+18883806331`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The digits after `+`.
    pub fn digits(&self) -> &str {
        &self.0[1..]
    }

    /// How people read the number: `(888) 380-6331` for NANP, E.164 otherwise.
    pub fn national(&self) -> String {
        match self.digits().strip_prefix('1') {
            Some(n) if n.len() == 10 => format!("({}) {}-{}", &n[..3], &n[3..6], &n[6..]),
            _ => self.0.clone(),
        }
    }
}

impl FromStr for E164 {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = |msg: &str| Error::invalid("number", msg.to_string());
        let trimmed = s.trim();
        let plus = trimmed.starts_with('+');
        let mut digits = String::with_capacity(16);
        for (i, c) in trimmed.chars().enumerate() {
            match c {
                '0'..='9' => digits.push(c),
                '+' if i == 0 => {}
                ' ' | '-' | '.' | '(' | ')' => {}
                _ => {
                    return Err(bad(
                        "a telephone number holds only digits, spaces, dashes and parentheses",
                    ));
                }
            }
        }
        let digits = match (plus, digits.len()) {
            (false, 10) => format!("1{digits}"),
            (false, 11) if digits.starts_with('1') => digits,
            (false, _) => {
                return Err(bad(
                    "write the number in international form, starting with +",
                ));
            }
            (true, _) => digits,
        };
        if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
            return Err(bad("an E.164 number has a country code and 8 to 15 digits"));
        }
        if let Some(n) = digits.strip_prefix('1') {
            // NANP: area code and exchange never start with 0 or 1.
            if n.len() != 10
                || matches!(n.as_bytes()[0], b'0' | b'1')
                || matches!(n.as_bytes()[3], b'0' | b'1')
            {
                return Err(bad("not a valid North American number"));
            }
        }
        Ok(E164(format!("+{digits}")))
    }
}

impl TryFrom<String> for E164 {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        s.parse()
    }
}

impl From<E164> for String {
    fn from(n: E164) -> String {
        n.0
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "E164({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_people_type_becomes_e164() {
        for input in [
            "+1 (888) 380-6331",
            "1-888-380-6331",
            "888.380.6331",
            "(888) 380-6331",
            "+18883806331",
        ] {
            assert_eq!(
                input.parse::<E164>().unwrap().as_str(),
                "+18883806331",
                "{input}"
            );
        }
        assert_eq!(
            "+33 1 23 45 67 89".parse::<E164>().unwrap().as_str(),
            "+33123456789"
        );
    }

    #[test]
    fn nonsense_is_refused() {
        for input in [
            "",
            "+",
            "abc",
            "+1 888",
            "911",
            "+1 (088) 380-6331",
            "+1 888 180 6331",
            "+0123456789",
            "+1234567890123456",
            "12345678",
        ] {
            assert!(input.parse::<E164>().is_err(), "{input}");
        }
    }

    #[test]
    fn nanp_numbers_read_nationally() {
        assert_eq!(
            "+18883806331".parse::<E164>().unwrap().national(),
            "(888) 380-6331"
        );
        assert_eq!(
            "+33123456789".parse::<E164>().unwrap().national(),
            "+33123456789"
        );
    }

    #[test]
    fn serde_goes_through_validation() {
        assert!(serde_json::from_str::<E164>("\"+18883806331\"").is_ok());
        assert!(serde_json::from_str::<E164>("\"hello\"").is_err());
    }
}
