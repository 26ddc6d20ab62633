//! Call detail records: one [`CallLeg`] per caller per conference.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::{AccountId, CallerRole, ConferenceId, ConferenceNumber, E164, LegId, NodeId};

/// A calendar month (`2026-11`): the billing period and a CDR index key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct YearMonth {
    year: i32,
    month: u32,
}

impl YearMonth {
    /// A month; refuses a month outside 1–12 or a year outside 2000–9999.
    pub fn new(year: i32, month: u32) -> Result<Self, Error> {
        if !(1..=12).contains(&month) || !(2000..=9999).contains(&year) {
            return Err(Error::invalid("month", "a month is written YYYY-MM"));
        }
        Ok(Self { year, month })
    }

    /// The month `at` falls in, on the wall clock of `tz` (a leg that starts at 23:30
    /// on the 31st in Toronto belongs to that month even though it is already the 1st in UTC).
    pub fn of(at: DateTime<Utc>, tz: Tz) -> Self {
        let local = at.with_timezone(&tz);
        Self {
            year: local.year(),
            month: local.month(),
        }
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// The month, 1–12.
    pub fn month(self) -> u32 {
        self.month
    }

    /// The month after this one.
    pub fn next(self) -> Self {
        if self.month == 12 {
            Self {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Self {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// The month before this one.
    pub fn previous(self) -> Self {
        if self.month == 1 {
            Self {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Self {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    /// The instant the month ends (the next one starts) on the wall clock of `tz`, in UTC.
    pub fn end_in(self, tz: Tz) -> DateTime<Utc> {
        self.next().start_in(tz)
    }

    /// The instant the month starts on the wall clock of `tz`, in UTC.
    pub fn start_in(self, tz: Tz) -> DateTime<Utc> {
        tz.with_ymd_and_hms(self.year, self.month, 1, 0, 0, 0)
            .earliest()
            .expect("midnight on the 1st exists in every zone served")
            .with_timezone(&Utc)
    }
}

impl FromStr for YearMonth {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = || Error::invalid("month", "a month is written YYYY-MM");
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        YearMonth::new(y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?)
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl TryFrom<String> for YearMonth {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        s.parse()
    }
}

impl From<YearMonth> for String {
    fn from(m: YearMonth) -> String {
        m.to_string()
    }
}

/// Why a leg ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisconnectCause {
    /// The caller hung up.
    CallerHangup,
    /// The bridge hung up (the IVR gave up, the node drained).
    BridgeHangup,
    /// A moderator removed the caller.
    ModeratorKick,
    /// No RTP from the caller for too long.
    RtpTimeout,
    /// A SIP transaction failed (no ACK, no answer to BYE), or a held call's dialog
    /// is gone (its in-dialog OPTIONS got 481 or 408, or no answer).
    TransactionFailure,
    /// The node restarted while the leg was up; closed at its last heartbeat.
    NodeRestart,
    /// The node's heartbeat stopped (killed, or cut off) while the leg was up: the
    /// scheduler's reaper closed the leg at the node's last heartbeat.
    NodeLost,
}

/// One caller's presence in one conference: the billed unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallLeg {
    /// Identity (also the idempotency key of every CDR write).
    pub id: LegId,
    /// Billed account.
    pub account_id: AccountId,
    /// The conference joined.
    pub conference_id: ConferenceId,
    /// Its number, as keyed.
    pub conference_number: ConferenceNumber,
    /// The access number dialled; `None` for an IP phone's `*44`, which dials none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dialled: Option<E164>,
    /// The caller's number or name as the trunk presented it (may be anonymous).
    pub caller_id: String,
    /// The role the code gave.
    pub role: CallerRole,
    /// The media node that held the conference's room (its lease) for this leg:
    /// the node the caller called, or the owner it cascaded to (issue #16);
    /// `None` when not known (written before rooms had leases).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_node: Option<NodeId>,
    /// When the caller was admitted.
    pub joined_at: DateTime<Utc>,
    /// The month the leg is billed in: the month of the join on the account's wall
    /// clock, fixed at join (a leg spanning midnight at month end bills in the month
    /// it started, even if the account later changes its time zone).
    pub month: YearMonth,
    /// When they left; `None` while on the line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_at: Option<DateTime<Utc>>,
    /// Why they left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<DisconnectCause>,
    /// How the caller's audio reached the bridge, once left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<LegQuality>,
    /// The media node that wrote the leg (the one the caller called); while the
    /// leg is open it is what the reaper finds it by if that node is lost. `None`
    /// on legs written before nodes had names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<NodeId>,
}

/// A leg's reception figures, measured by the bridge over the leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegQuality {
    /// 20 ms frames received from the caller.
    pub packets_received: u64,
    /// Frames that never arrived in time (silence played instead).
    pub packets_lost: u64,
    /// The highest RFC 3550 interarrival jitter seen, in milliseconds.
    pub max_jitter_ms: u32,
}

impl CallLeg {
    /// Closes the leg; a leave before the join (clock skew) counts as zero length.
    pub fn close(&mut self, left_at: DateTime<Utc>, cause: DisconnectCause) {
        self.left_at = Some(left_at.max(self.joined_at));
        self.cause = Some(cause);
    }

    /// Milliseconds on the line, once closed.
    pub fn duration_ms(&self) -> Option<u64> {
        self.left_at
            .map(|l| u64::try_from((l - self.joined_at).num_milliseconds()).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_parse_print_and_roll_over() {
        let m: YearMonth = "2026-12".parse().unwrap();
        assert_eq!(m.to_string(), "2026-12");
        assert_eq!(m.next().to_string(), "2027-01");
        assert_eq!(m.next().previous(), m);
        assert_eq!("2027-01".parse::<YearMonth>().unwrap().previous(), m);
        for bad in ["2026-13", "2026-00", "26-11", "2026-1", "2026/11", ""] {
            assert!(bad.parse::<YearMonth>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_leg_late_on_the_last_evening_belongs_to_the_local_month() {
        let t = Utc.with_ymd_and_hms(2026, 12, 1, 3, 30, 0).unwrap(); // 22:30 on Nov 30 in Toronto
        assert_eq!(
            YearMonth::of(t, chrono_tz::America::Toronto).to_string(),
            "2026-11"
        );
        assert_eq!(YearMonth::of(t, chrono_tz::UTC).to_string(), "2026-12");
    }

    #[test]
    fn a_month_starts_at_local_midnight() {
        let m: YearMonth = "2026-11".parse().unwrap();
        // Toronto is UTC-4 on Nov 1 2026 (DST ends that morning at 02:00).
        assert_eq!(
            m.start_in(chrono_tz::America::Toronto),
            Utc.with_ymd_and_hms(2026, 11, 1, 4, 0, 0).unwrap()
        );
    }
}
