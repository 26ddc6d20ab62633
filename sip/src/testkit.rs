//! Fixtures for the tests of this crate and of the crates above it (feature
//! `testkit`): sipp's offer, INVITE and in-dialog requests as literal text, the
//! message framing they share; and for the fuzz properties, their proptest settings
//! and the datagram mutator.

use proptest::prelude::*;
use proptest::sample::{Index, select};

/// sipp's `uac` offer with telephone-event: PCMU and 101.
pub const SIPP_SDP: &str = "v=0\r\n\
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
pub const SIPP_INVITE_HEAD: &str = "INVITE sip:+33100000000@127.0.0.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-4242-1-0\r\n\
From: sipp <sip:sipp@127.0.0.1:5061>;tag=4242SIPpTag001\r\n\
To: <sip:+33100000000@127.0.0.1:5060>\r\n\
Call-ID: 1-4242@127.0.0.1\r\n\
CSeq: 1 INVITE\r\n\
Contact: sip:sipp@127.0.0.1:5061\r\n\
Max-Forwards: 70\r\n\
Subject: Performance Test\r\n";

/// The access number sipp dials (the Request-URI of [`SIPP_INVITE_HEAD`]).
pub const DIALLED: &str = "+33100000000";

/// sipp's INVITE as caller `n` (Call-ID `n-4242@127.0.0.1`, its own From tag and
/// branch; caller 1 is [`SIPP_INVITE_HEAD`] itself), offering `sdp`, or no offer
/// when `sdp` is empty.
pub fn sipp_invite(n: u32, sdp: &str) -> String {
    let head = SIPP_INVITE_HEAD
        .replace("1-4242@", &format!("{n}-4242@"))
        .replace("4242SIPpTag001", &format!("4242SIPpTag{n:03}"))
        .replace(
            "branch=z9hG4bK-4242-1-0",
            &format!("branch=z9hG4bK-4242-{n}-0"),
        );
    let content_type = if sdp.is_empty() {
        ""
    } else {
        "Content-Type: application/sdp\r\n"
    };
    message(&format!("{head}{content_type}"), sdp)
}

/// The CANCEL of caller `n`'s INVITE: its branch, Call-ID, From and To, CSeq 1
/// (RFC 3261 §9.1).
pub fn sipp_cancel(n: u32) -> String {
    sipp_invite(n, "")
        .replace("INVITE sip:", "CANCEL sip:")
        .replace("1 INVITE", "1 CANCEL")
}

/// A request of sipp's caller `n`: on its dialog with our tag `to_tag`, or
/// outside any (`None`); `extra` headers (each ending CRLF) and `body`.
pub fn sipp_request(
    n: u32,
    method: &str,
    cseq: u32,
    to_tag: Option<&str>,
    extra: &str,
    body: &str,
) -> String {
    let tag = to_tag.map(|tag| format!(";tag={tag}")).unwrap_or_default();
    message(
        &format!(
            "{method} sip:conference@127.0.0.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-4242-{n}-{cseq}-{method}\r\n\
From: sipp <sip:sipp@127.0.0.1:5061>;tag=4242SIPpTag{n:03}\r\n\
To: <sip:{DIALLED}@127.0.0.1:5060>{tag}\r\n\
Call-ID: {n}-4242@127.0.0.1\r\n\
CSeq: {cseq} {method}\r\n\
Contact: sip:sipp@127.0.0.1:5061\r\n\
Max-Forwards: 70\r\n\
{extra}"
        ),
        body,
    )
}

/// A message: `head` (start line and headers, each ending CRLF), a Content-Length
/// counting `body`, the empty line, `body`.
pub fn message(head: &str, body: &str) -> String {
    format!("{head}Content-Length: {}\r\n\r\n{body}", body.len())
}

/// The start line of a printed SIP message (`SIP/2.0 200 OK`, `BYE sip:…`).
pub fn start_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

// ---- fuzzing -------------------------------------------------------------------

/// Proptest settings of the fuzz properties: `default_cases` in the normal suite
/// (kept small so `cargo test` stays fast), `PROPTEST_CASES` when it is set (the
/// million-input run of issue #4), and no regression file written beside the
/// sources (a failure prints its minimal input; make it a unit test).
pub fn proptest_config(default_cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(default_cases);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Bits of SIP syntax a mutation inserts: line ends of every kind, separators,
/// quotes, start lines, compact and oversized headers.
pub const SIP_SNIPPETS: &[&str] = &[
    "\r\n",
    "\n",
    "\r",
    " ",
    "\t",
    ":",
    ";",
    ",",
    "=",
    "<",
    ">",
    "\"",
    "\\",
    "/",
    "@",
    "\r\n ",
    "\r\n\t",
    "\r\n\r\n",
    "\n\n",
    "\0",
    "é",
    "\u{fffd}",
    "[",
    "]",
    "::",
    "%",
    "sip:",
    "SIP/2.0",
    "SIP/2.0 ",
    "INVITE ",
    "ACK ",
    "tag=",
    ";tag=x",
    ";branch=z9",
    "Content-Length: 5\r\n",
    "l: 100000\r\n",
    "l:0\n",
    "i: x\r\n",
    "Call-ID: y\r\n",
    "Via: SIP/2.0/UDP h;branch=z\r\n",
    "v: SIP / 2.0 / TCP h\r\n",
    "CSeq: 1 BYE\r\n",
    "CSeq: 1\r\n",
    "f: <sip:a@b>;tag=1\r\n",
    "t: sip:c@d\r\n",
    "Max-Forwards: x\r\n",
];

/// One edit of a datagram, as a fuzzer makes them: bytes flipped, inserted or
/// deleted, SIP snippets inserted, lines dropped, duplicated or swapped, the
/// Content-Length rewritten, the datagram cut short. Positions are [`Index`]es,
/// so a mutation fits any length.
#[derive(Debug, Clone)]
pub enum Mutation {
    Flip(Index, u8),
    Insert(Index, u8),
    InsertText(Index, &'static str),
    Delete(Index, usize),
    DropLine(Index),
    DuplicateLine(Index),
    SwapLines(Index, Index),
    ContentLength(String),
    Truncate(Index),
}

/// Any [`Mutation`].
pub fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), 1..=255u8).prop_map(|(at, mask)| Mutation::Flip(at, mask)),
        (any::<Index>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Insert(at, byte)),
        (any::<Index>(), select(SIP_SNIPPETS))
            .prop_map(|(at, text)| Mutation::InsertText(at, text)),
        (any::<Index>(), 1..24usize).prop_map(|(at, count)| Mutation::Delete(at, count)),
        any::<Index>().prop_map(Mutation::DropLine),
        any::<Index>().prop_map(Mutation::DuplicateLine),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        prop_oneof![
            (0..400usize).prop_map(|length| length.to_string()),
            Just(String::new()),
            Just("-1".to_owned()),
            Just("99999999999999999999999".to_owned()),
            Just("12 34".to_owned()),
            Just("65536".to_owned()),
        ]
        .prop_map(Mutation::ContentLength),
        any::<Index>().prop_map(Mutation::Truncate),
    ]
}

fn lines(bytes: &[u8]) -> Vec<Vec<u8>> {
    bytes
        .split_inclusive(|&byte| byte == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

/// Applies `mutations` to `bytes`, in order.
pub fn mutate(bytes: &mut Vec<u8>, mutations: &[Mutation]) {
    for mutation in mutations {
        apply(bytes, mutation);
    }
}

fn apply(bytes: &mut Vec<u8>, mutation: &Mutation) {
    let len = bytes.len();
    match mutation {
        Mutation::Insert(at, byte) => bytes.insert(at.index(len + 1), *byte),
        Mutation::InsertText(at, text) => {
            let at = at.index(len + 1);
            bytes.splice(at..at, text.bytes());
        }
        _ if len == 0 => {}
        Mutation::Flip(at, mask) => bytes[at.index(len)] ^= mask,
        Mutation::Delete(at, count) => {
            let at = at.index(len);
            bytes.drain(at..(at + count).min(len));
        }
        Mutation::Truncate(at) => bytes.truncate(at.index(len)),
        Mutation::DropLine(at) => {
            let mut all = lines(bytes);
            all.remove(at.index(all.len()));
            *bytes = all.concat();
        }
        Mutation::DuplicateLine(at) => {
            let mut all = lines(bytes);
            let line = all[at.index(all.len())].clone();
            all.insert(at.index(all.len()), line);
            *bytes = all.concat();
        }
        Mutation::SwapLines(a, b) => {
            let mut all = lines(bytes);
            let count = all.len();
            all.swap(a.index(count), b.index(count));
            *bytes = all.concat();
        }
        Mutation::ContentLength(value) => {
            let all: Vec<Vec<u8>> = lines(bytes)
                .into_iter()
                .map(|line| {
                    let lower = line.to_ascii_lowercase();
                    if lower.starts_with(b"content-length") || lower.starts_with(b"l:") {
                        format!("Content-Length: {value}\r\n").into_bytes()
                    } else {
                        line
                    }
                })
                .collect();
            *bytes = all.concat();
        }
    }
}
