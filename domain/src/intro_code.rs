//! One-time codes for recording a conference's intro message by phone: the user
//! dials the access number and keys this code instead of a conference number.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::{AccountId, ConferenceId, UserId};

/// How long a code stays usable.
pub const INTRO_CODE_LIFETIME: Duration = Duration::hours(1);

crate::codes::fixed_digits!(
    /// Eight digits: one more than a conference number, so the IVR tells them apart
    /// by length alone.
    IntroCode,
    8,
    "code",
    "an intro recording code is 8 digits"
);

impl fmt::Debug for IntroCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IntroCode(…)")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_intro_code_is_eight_digits_and_never_logged() {
        assert!("12345678".parse::<IntroCode>().is_ok());
        for bad in ["1234567", "123456789", "02345678", "1234567a"] {
            assert!(bad.parse::<IntroCode>().is_err(), "{bad}");
        }
        let code = IntroCode::generate();
        assert_eq!(code.as_str().len(), IntroCode::LEN);
        assert!(!format!("{code:?}").contains(code.as_str()));
        assert_eq!(code.to_string(), code.as_str());
    }
}
