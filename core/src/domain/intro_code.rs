//! One-time codes for recording a conference's intro message by phone: the user
//! dials the access number and keys this code instead of a conference number.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{AccountId, ConferenceId, UserId};
use crate::error::Error;
use crate::random;

/// How long a code stays usable.
pub const INTRO_CODE_LIFETIME: Duration = Duration::hours(1);

/// Eight digits: one more than a conference number, so the IVR tells them apart by
/// length alone.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IntroCode(String);

impl IntroCode {
    /// Digits in a code.
    pub const LEN: usize = 8;

    /// A random code from the OS CSPRNG.
    pub fn generate() -> Self {
        Self(random::digits(Self::LEN, true))
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for IntroCode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        if s.len() == Self::LEN && s.bytes().all(|b| b.is_ascii_digit()) && !s.starts_with('0') {
            Ok(Self(s.to_string()))
        } else {
            Err(Error::invalid(
                "code",
                "an intro recording code is 8 digits",
            ))
        }
    }
}

impl TryFrom<String> for IntroCode {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        s.parse()
    }
}

impl From<IntroCode> for String {
    fn from(c: IntroCode) -> String {
        c.0
    }
}

impl fmt::Debug for IntroCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IntroCode(…)")
    }
}

impl fmt::Display for IntroCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A granted code: which conference's intro it records, until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntroGrant {
    /// The code to key.
    pub code: IntroCode,
    /// Its account.
    pub account_id: AccountId,
    /// The conference whose intro it records.
    pub conference_id: ConferenceId,
    /// Who asked for it.
    pub granted_to: UserId,
    /// After this the code opens nothing.
    pub expires_at: DateTime<Utc>,
}

impl IntroGrant {
    /// Whether the code still opens the recorder at `now`.
    pub fn is_valid_at(&self, now: DateTime<Utc>) -> bool {
        now <= self.expires_at
    }
}
