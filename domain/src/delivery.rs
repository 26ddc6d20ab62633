//! The mailer's ledger: one entry per mail it must send exactly once, keyed by what
//! the mail is (`confirmation#<conference>#<recipient>`), never by the stream record
//! that asked for it, so a record delivered twice finds the entry already there.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The idempotency key of one mail to one recipient: 1 to 512 printable characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeliveryKey(String);

impl DeliveryKey {
    /// The longest key accepted.
    pub const MAX_LEN: usize = 512;

    /// A key from its parts, joined by `#` (`["confirmation", id, email]`).
    pub fn new(parts: &[&str]) -> Result<Self, Error> {
        Self::try_from(parts.join("#"))
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DeliveryKey {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        if s.is_empty() || s.len() > Self::MAX_LEN || s.chars().any(char::is_control) {
            return Err(Error::invalid(
                "delivery_key",
                "a delivery key is 1 to 512 printable characters",
            ));
        }
        Ok(Self(s))
    }
}

impl From<DeliveryKey> for String {
    fn from(k: DeliveryKey) -> String {
        k.0
    }
}

impl fmt::Display for DeliveryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a claim on a delivery gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// This worker sends it; `attempt` counts from 1.
    Mine {
        /// Which attempt this is.
        attempt: u32,
    },
    /// Already sent, or given up and dead-lettered: nothing to do.
    Settled,
    /// Another worker claimed it moments ago and has not finished.
    Busy,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The provider accepted the mail.
    Sent {
        /// The provider's message id.
        message_id: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// This attempt failed; a later one may claim it again.
    Failed {
        /// Why, for the log and the dead letter.
        error: String,
    },
    /// No attempt is left: the mail is given up and reported.
    DeadLettered {
        /// The last error.
        error: String,
        /// When.
        at: DateTime<Utc>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_joined_parts_and_bounded() {
        let k = DeliveryKey::new(&["confirmation", "c1", "a@b.example"]).unwrap();
        assert_eq!(k.as_str(), "confirmation#c1#a@b.example");
        assert!(DeliveryKey::new(&[""]).is_err());
        assert!(DeliveryKey::new(&["a\nb"]).is_err());
        assert!(DeliveryKey::new(&[&"x".repeat(513)]).is_err());
    }
}
