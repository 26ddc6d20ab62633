//! Fixtures the unit tests of several modules share: sipp's offer and INVITE,
//! message framing, and the seed's conference (number 3832257, codes 69501 /
//! 83269 / 44444, 09:30–11:00 Toronto on 2026-06-06, i.e. 13:30–15:00 UTC).

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use teleconf_core::domain::{AccessCodes, AccountId, ConferenceId, PromptId, Schedule};

use crate::ivr::ConferenceInfo;

/// The seed's conference number.
pub(crate) const NUMBER: &str = "3832257";
/// The seed's participant code.
pub(crate) const PARTICIPANT: &str = "69501";
/// The seed's listener code.
pub(crate) const LISTENER: &str = "83269";
/// A moderator code.
pub(crate) const MODERATOR: &str = "44444";

/// sipp's `uac` offer with telephone-event: PCMU and 101.
pub(crate) const SIPP_SDP: &str = "v=0\r\n\
o=user1 53655765 2353687637 IN IP4 127.0.0.1\r\n\
s=-\r\n\
c=IN IP4 127.0.0.1\r\n\
t=0 0\r\n\
m=audio 6000 RTP/AVP 0 101\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-15\r\n";

/// The start line and headers of sipp's `uac` INVITE, up to (not including)
/// Content-Type and Content-Length.
pub(crate) const SIPP_INVITE_HEAD: &str = "INVITE sip:+33100000000@127.0.0.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-4242-1-0\r\n\
From: sipp <sip:sipp@127.0.0.1:5061>;tag=4242SIPpTag001\r\n\
To: <sip:+33100000000@127.0.0.1:5060>\r\n\
Call-ID: 1-4242@127.0.0.1\r\n\
CSeq: 1 INVITE\r\n\
Contact: sip:sipp@127.0.0.1:5061\r\n\
Max-Forwards: 70\r\n\
Subject: Performance Test\r\n";

/// A message: `head` (start line and headers, each ending CRLF), a Content-Length
/// counting `body`, the empty line, `body`.
pub(crate) fn message(head: &str, body: &str) -> String {
    format!("{head}Content-Length: {}\r\n\r\n{body}", body.len())
}

/// 2026-06-06, `h` hours and `m` minutes after midnight UTC (minutes may exceed 59).
pub(crate) fn utc(h: i64, m: i64) -> DateTime<Utc> {
    let midnight = Utc
        .with_ymd_and_hms(2026, 6, 6, 0, 0, 0)
        .single()
        .expect("a valid instant");
    midnight + TimeDelta::hours(h) + TimeDelta::minutes(m)
}

/// The seed's conference, open 13:25–15:00 UTC, with `intro` as its intro message.
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
        locked: false,
        record: false,
    }
}

/// The start line of a printed SIP message (`SIP/2.0 200 OK`, `BYE sip:…`).
pub(crate) fn start_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}
