//! Fixtures the unit tests of several modules share: the sample conference
//! (number 3832257, codes 69501 / 83269 / 44444, 09:30–11:00 Toronto on
//! 2026-06-06, i.e. 13:30–15:00 UTC) and the access number sipp dials
//! ([`teleconf_sip::testkit`] holds sipp's messages and the fuzz helpers).

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use teleconf_domain::{
    AccessCodes, AccountId, ConferenceId, Language, NumberAction, NumberKind, PhoneNumber,
    PromptId, Schedule,
};
use teleconf_sip::testkit::DIALLED;

use crate::app::lookup::ConferenceInfo;

/// The sample conference's number.
pub(crate) const NUMBER: &str = "3832257";
/// The sample conference's participant code.
pub(crate) const PARTICIPANT: &str = "69501";
/// The sample conference's listener code.
pub(crate) const LISTENER: &str = "83269";
/// A moderator code.
pub(crate) const MODERATOR: &str = "44444";

/// 2026-06-06, `h` hours and `m` minutes after midnight UTC (minutes may exceed 59).
pub(crate) fn utc(h: i64, m: i64) -> DateTime<Utc> {
    let midnight = Utc
        .with_ymd_and_hms(2026, 6, 6, 0, 0, 0)
        .single()
        .expect("a valid instant");
    midnight + TimeDelta::hours(h) + TimeDelta::minutes(m)
}

/// The sample conference, open 13:25–15:00 UTC, with `intro` as its intro message.
pub(crate) fn seed_conference(intro: Option<PromptId>) -> ConferenceInfo {
    let code = |s: &str| s.parse().expect("a code");
    ConferenceInfo {
        id: ConferenceId::new(),
        account: AccountId::new(),
        number: NUMBER.parse().expect("a number"),
        schedule: Schedule::new(utc(13, 30), utc(15, 0)).expect("a schedule"),
        codes: AccessCodes::new(code(PARTICIPANT), code(LISTENER), code(MODERATOR))
            .expect("distinct codes"),
        intro,
        max_participants: 25,
        time_zone: chrono_tz::America::Toronto,
        record: false,
    }
}

/// [`DIALLED`], routed to conference access with the default prompts, greeting
/// in French.
pub(crate) fn conference_access_number() -> PhoneNumber {
    PhoneNumber {
        number: DIALLED.parse().expect("an E.164 number"),
        account_id: AccountId::new(),
        kind: NumberKind::Local,
        greeting_language: Language::Fr,
        filter: true,
        callthru: false,
        notes: String::new(),
        e911_address: "1 rue du Test".into(),
        action: NumberAction::ConferenceAccess {
            prompts: Default::default(),
        },
        display_name: String::new(),
        confidential: false,
        created_at: utc(0, 0),
    }
}
