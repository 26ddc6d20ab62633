//! Failed attempts counted per fixed window, to slow down guessing: logins per
//! e-mail and per client, access codes per caller ID and per conference.

use std::net::IpAddr;

use chrono::{DateTime, Duration, DurationRound, Utc};

use crate::domain::{ConferenceId, Email};

/// What is being guessed, and by whom.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Attempt {
    /// Passwords of one login.
    Login(Email),
    /// Logins from one client address.
    LoginFrom(IpAddr),
    /// Access codes from one caller ID.
    CodeFrom(String),
    /// Access codes against one conference.
    CodeAt(ConferenceId),
}

impl Attempt {
    /// A stable text key for the store.
    pub fn key(&self) -> String {
        match self {
            Attempt::Login(e) => format!("login#{e}"),
            Attempt::LoginFrom(ip) => format!("login-from#{ip}"),
            Attempt::CodeFrom(caller) => format!("code-from#{caller}"),
            Attempt::CodeAt(c) => format!("code-at#{c}"),
        }
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
