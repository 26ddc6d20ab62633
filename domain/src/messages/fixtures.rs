//! Test fixtures of the message catalogue: the seed's conference (« Réunion
//! mensuelle », 2019-06-06 09:30–11:00 in Toronto, conference 3832257, codes 69501 /
//! 83269 / 44444) and its toll-free number (888) 380-6331.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::America::Toronto;

use crate::testkit::access_number;
use crate::{
    AccessCodes, AccountId, Conference, Language, NumberKind, PhoneNumber, Schedule, UserId,
};

/// A Toronto wall-clock time as the UTC instant stored.
pub(super) fn toronto(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Toronto
        .with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("an unambiguous local time")
        .with_timezone(&Utc)
}

/// A conference numbered 3832257 with the seed's codes, not recorded, in French,
/// scheduled the day before it starts.
pub(super) fn conference(
    description: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Conference {
    let account = AccountId::new();
    Conference::schedule(
        account,
        "3832257".parse().unwrap(),
        description,
        Schedule::new(start, end).unwrap(),
        false,
        Language::Fr,
        AccessCodes::new(
            "69501".parse().unwrap(),
            "83269".parse().unwrap(),
            "44444".parse().unwrap(),
        )
        .unwrap(),
        UserId::new(),
        25,
        start - Duration::days(1),
    )
    .unwrap()
}

/// The seed's conference: 2019-06-06 09:30–11:00 in Toronto.
pub(super) fn seed_conference() -> Conference {
    conference(
        "Réunion mensuelle",
        toronto(2019, 6, 6, 9, 30),
        toronto(2019, 6, 6, 11, 0),
    )
}

/// An access number of some account, leading to conferences.
pub(super) fn number(e164: &str, kind: NumberKind) -> PhoneNumber {
    let mut n = access_number(AccountId::new());
    n.number = e164.parse().unwrap();
    n.kind = kind;
    n
}

/// The seed's toll-free access number.
pub(super) fn seed_number() -> PhoneNumber {
    number("+18883806331", NumberKind::TollFree)
}
