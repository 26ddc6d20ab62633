//! Failed attempts counted per fixed window, to slow down guessing: logins per
//! e-mail and per client, entries at the conference IVR per caller (caller ID and
//! the trunk it came through) and access codes per conference.

use std::net::IpAddr;

use chrono::{DateTime, Duration, DurationRound, Utc};
use sha2::{Digest, Sha256};

use crate::{ConferenceId, Email};

/// What is being guessed, and by whom.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Attempt {
    /// Passwords of one login.
    Login(Email),
    /// Logins from one client address.
    LoginFrom(IpAddr),
    /// Conference numbers, intro codes and access codes keyed by one caller.
    CodeFrom(CallerSource),
    /// Access codes against one conference.
    CodeAt(ConferenceId),
}

impl Attempt {
    /// A stable text key for the store.
    pub fn key(&self) -> String {
        match self {
            Attempt::Login(e) => format!("login#{e}"),
            Attempt::LoginFrom(ip) => format!("login-from#{ip}"),
            Attempt::CodeFrom(caller) => format!("code-from#{}#{}", caller.trunk, caller.digest),
            Attempt::CodeAt(c) => format!("code-at#{c}"),
        }
    }
}

/// Who keys at the conference IVR: the caller ID as the trunk presented it, and
/// the address the call came from (the trunk, or an IP phone). The caller ID is a
/// From header's user part: anybody may send one of any length, so it is capped at
/// [`CallerSource::MAX_CALLER_ID`] bytes and counted under a fixed-length digest
/// (a store key has a size limit); the capped text is kept for what people read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CallerSource {
    trunk: IpAddr,
    caller_id: String,
    digest: String,
}

impl CallerSource {
    /// The bytes of a caller ID that count (E.164 numbers have at most 15 digits;
    /// SIP users may be longer).
    pub const MAX_CALLER_ID: usize = 64;

    /// The caller `caller_id` calling through `trunk`.
    pub fn new(trunk: IpAddr, caller_id: &str) -> Self {
        let mut end = caller_id.len().min(Self::MAX_CALLER_ID);
        while !caller_id.is_char_boundary(end) {
            end -= 1;
        }
        let caller_id = caller_id[..end].to_string();
        let digest = Sha256::digest(caller_id.as_bytes())
            .iter()
            .take(16)
            .map(|byte| format!("{byte:02x}"))
            .collect();
        Self {
            trunk: trunk.to_canonical(),
            caller_id,
            digest,
        }
    }

    /// The caller ID, capped.
    pub fn caller_id(&self) -> &str {
        &self.caller_id
    }

    /// Whether the caller ID tells callers apart: a withheld one (`anonymous` and
    /// its kin, or none) is shared by every caller who withholds theirs.
    pub fn is_identified(&self) -> bool {
        const WITHHELD: [&str; 5] = [
            "anonymous",
            "restricted",
            "unknown",
            "unavailable",
            "private",
        ];
        let id = self.caller_id.trim();
        !id.is_empty() && !WITHHELD.iter().any(|w| id.eq_ignore_ascii_case(w))
    }
}

/// A limit: at most `max_failures` in each `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Failures allowed per window.
    pub max_failures: u32,
    /// The window length.
    pub window: Duration,
}

impl Limit {
    /// The window `now` falls in: its start (aligned to the window length).
    pub fn window_start(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now.duration_trunc(self.window).unwrap_or(now)
    }

    /// When the current window ends (when a lock lifts).
    pub fn window_end(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.window_start(now) + self.window
    }

    /// Whether `failures` already reached the limit.
    pub fn is_exceeded(&self, failures: u32) -> bool {
        failures >= self.max_failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_callers_key_is_short_whatever_its_caller_id_and_tells_trunks_apart() {
        let trunk: IpAddr = "198.51.100.7".parse().unwrap();
        let long = "9".repeat(100_000);
        let key = Attempt::CodeFrom(CallerSource::new(trunk, &long)).key();
        assert!(key.len() < 80, "{} bytes", key.len());
        assert_eq!(
            CallerSource::new(trunk, &long).caller_id().len(),
            CallerSource::MAX_CALLER_ID
        );
        // Capped on a character boundary.
        let accented = "é".repeat(100);
        assert_eq!(CallerSource::new(trunk, &accented).caller_id().len(), 64);
        let one = CallerSource::new(trunk, "+15145550123");
        assert_eq!(one, CallerSource::new(trunk, "+15145550123"));
        assert_ne!(
            Attempt::CodeFrom(one.clone()).key(),
            Attempt::CodeFrom(CallerSource::new(trunk, "+15145550124")).key()
        );
        let other_trunk = CallerSource::new("198.51.100.8".parse().unwrap(), "+15145550123");
        assert_ne!(
            Attempt::CodeFrom(one).key(),
            Attempt::CodeFrom(other_trunk).key()
        );
    }

    #[test]
    fn a_withheld_caller_id_does_not_identify_a_caller() {
        let trunk: IpAddr = "198.51.100.7".parse().unwrap();
        for withheld in [
            "anonymous",
            "Anonymous",
            "",
            " ",
            "restricted",
            "unavailable",
        ] {
            assert!(
                !CallerSource::new(trunk, withheld).is_identified(),
                "{withheld:?}"
            );
        }
        assert!(CallerSource::new(trunk, "+15145550123").is_identified());
    }

    #[test]
    fn windows_are_aligned_and_end_after_their_length() {
        let limit = Limit {
            max_failures: 5,
            window: Duration::minutes(15),
        };
        let t = Utc.with_ymd_and_hms(2026, 11, 26, 10, 7, 30).unwrap();
        assert_eq!(
            limit.window_start(t),
            Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap()
        );
        assert_eq!(
            limit.window_end(t),
            Utc.with_ymd_and_hms(2026, 11, 26, 10, 15, 0).unwrap()
        );
        assert!(!limit.is_exceeded(4));
        assert!(limit.is_exceeded(5));
    }
}
