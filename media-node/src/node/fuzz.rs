//! The whole node under fuzz (issue #4). A trunk sends arbitrary bytes and
//! mutated sipp messages (INVITE with or without an offer, `*44`, ACK, BYE,
//! CANCEL, INFO dtmf-relay, OPTIONS, re-INVITE, answers to our BYE), from its own
//! address, another port, an IP phone or a stranger; callers send arbitrary bytes
//! and mutated RTP and RFC 4733 packets to their call's port or any other; the
//! shell ticks, jumps the clock, feeds timeouts early, and answers lookups at once,
//! late, twice, wrongly or never. Whatever comes, the node never panics and keeps
//! its word:
//!
//! - every SIP datagram it sends is one the [codec](teleconf_sip::message) reads;
//!   every RTP packet, one the [RTP parser](teleconf_sip::rtp::parse) reads, sent from a
//!   bound port;
//! - a port is bound from the range, even (RFC 3550 §11), once, and released once:
//!   after each input, bound ports = calls;
//! - a CDR leg opens once and closes once, with its end and cause; open legs ≤
//!   calls, rooms ≤ open legs;
//! - a deadline met is gone: after `Timeout(now)`, `poll_timeout()` is later than
//!   `now` (the shell never spins);
//! - once the trunk hangs up every dialog it heard of and time passes, nothing
//!   is left: no call, room, port, CDR leg or deadline.
//!
//! A case may first bring callers in along sipp's happy path (answered, or
//! admitted to the sample conference), so the chaos also meets live calls and
//! rooms. `PROPTEST_CASES` sets the number of cases (the million-input run).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::net::SocketAddr;
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::{TestCaseError, TestRunner};
use rsip::headers::UntypedHeader;
use rsip::message::HeadersExt;
use rsip::{Method, SipMessage};
use teleconf_domain::{AccountId, IpPhone, IpPhoneSource, Language, LegId, PhoneNumber};
use teleconf_sip::message;
use teleconf_sip::message::response_to;
use teleconf_sip::rtp::{self, Digit, TelephoneEvent};
use teleconf_sip::testkit::{
    self as sipkit, Mutation, SIPP_SDP, mutate, mutation, proptest_config, sipp_cancel,
    sipp_invite, sipp_request,
};
use teleconf_sip::transaction::Timers;

use crate::app::CallKey;
use crate::app::lookup::{Answer, Attempts, ConferenceInfo, Lookup, Unavailable};
use crate::app::prompts::Prompt;
use crate::app::prompts::{self, Clip};
use crate::node::{Input, IoOutput, MediaOutput, Node, NodeConfig, Output, RoomOwner};
use crate::testkit::{self, LISTENER, MODERATOR, NUMBER, PARTICIPANT};

/// Four RTP ports: a fifth concurrent call gets 503.
const PORTS: Range<u16> = 20_000..20_008;
/// Callers 1 to 5 (Call-ID `n-4242@127.0.0.1`).
const CALLERS: u32 = 5;
/// How long the trunk's last BYEs may take to end every call (Timer J, our BYE's
/// Timer F, the goodbye prompt): far more than needed.
const DRAIN_LIMIT: Duration = Duration::from_secs(600);

fn addr(text: &str) -> SocketAddr {
    text.parse().expect("an address")
}

fn call_id(n: u32) -> String {
    format!("{n}-4242@127.0.0.1")
}

/// Where a SIP datagram comes from.
#[derive(Debug, Clone, Copy)]
enum Source {
    Trunk,
    TrunkOtherPort,
    /// The IP phone allowed to dial `*44`.
    Phone,
    /// Outside the allow-list.
    Stranger,
}

impl Source {
    fn addr(self) -> SocketAddr {
        match self {
            Self::Trunk => addr("127.0.0.1:5061"),
            Self::TrunkOtherPort => addr("127.0.0.1:5080"),
            Self::Phone => addr("10.0.0.5:5060"),
            Self::Stranger => addr("10.9.9.9:5060"),
        }
    }
}

/// The To tag of an in-dialog request.
#[derive(Debug, Clone, Copy)]
enum Tag {
    /// Ours, read from our 200 (none before it).
    Ours,
    Wrong,
    Absent,
}

/// The SDP of an INVITE, re-INVITE or ACK: sipp's offer and its variations.
#[derive(Debug, Clone, Copy)]
enum Offer {
    Sipp,
    /// No body: we offer, the ACK answers.
    Empty,
    SendOnly,
    RecvOnly,
    Inactive,
    /// RFC 2543 hold.
    ZeroAddress,
    Pcma,
    /// PCMU on a dynamic payload type.
    DynamicPcmu(u8),
    NoCommonCodec,
}

impl Offer {
    fn sdp(self) -> String {
        match self {
            Self::Sipp => SIPP_SDP.into(),
            Self::Empty => String::new(),
            Self::SendOnly => format!("{SIPP_SDP}a=sendonly\r\n"),
            Self::RecvOnly => format!("{SIPP_SDP}a=recvonly\r\n"),
            Self::Inactive => format!("{SIPP_SDP}a=inactive\r\n"),
            Self::ZeroAddress => SIPP_SDP.replace("c=IN IP4 127.0.0.1", "c=IN IP4 0.0.0.0"),
            Self::Pcma => SIPP_SDP
                .replace("RTP/AVP 0 101", "RTP/AVP 8 101")
                .replace("rtpmap:0 PCMU", "rtpmap:8 PCMA"),
            Self::DynamicPcmu(pt) => SIPP_SDP
                .replace("RTP/AVP 0 101", &format!("RTP/AVP {pt} 101"))
                .replace("rtpmap:0 PCMU", &format!("rtpmap:{pt} PCMU")),
            Self::NoCommonCodec => SIPP_SDP
                .replace("RTP/AVP 0 101", "RTP/AVP 18")
                .replace("a=rtpmap:0 PCMU/8000", "a=rtpmap:18 G729/8000"),
        }
    }
}

/// A SIP message of the trunk, before its mutations.
#[derive(Debug, Clone)]
enum Message {
    Invite {
        n: u32,
        offer: Offer,
    },
    Star44 {
        n: u32,
    },
    Ack {
        n: u32,
        cseq: u32,
        tag: Tag,
        answer: Offer,
    },
    Bye {
        n: u32,
        cseq: u32,
        tag: Tag,
    },
    Cancel {
        n: u32,
    },
    Info {
        n: u32,
        cseq: u32,
        tag: Tag,
        key: char,
    },
    Options {
        n: u32,
        cseq: u32,
        tag: Tag,
    },
    ReInvite {
        n: u32,
        cseq: u32,
        tag: Tag,
        offer: Offer,
    },
    /// The trunk answers the last BYE we sent.
    ByeAnswer {
        status: u16,
    },
}

/// An RTP datagram of a caller, before its mutations.
#[derive(Debug, Clone)]
enum Packet {
    Audio {
        payload_type: u8,
        seq: u16,
        ts: u32,
        marker: bool,
        len: usize,
        fill: u8,
    },
    Event {
        event: u8,
        end: bool,
        volume: u8,
        duration: u16,
        seq: u16,
        ts: u32,
        marker: bool,
    },
    Bytes(Vec<u8>),
}

impl Packet {
    fn bytes(&self, ssrc: u32) -> Vec<u8> {
        match self {
            Self::Audio {
                payload_type,
                seq,
                ts,
                marker,
                len,
                fill,
            } => rtp::build(ssrc, *seq, *ts, *payload_type, *marker, &vec![*fill; *len])
                .unwrap_or_default(),
            Self::Event {
                event,
                end,
                volume,
                duration,
                seq,
                ts,
                marker,
            } => {
                let event = TelephoneEvent {
                    event: *event,
                    end: *end,
                    volume: *volume,
                    duration: *duration,
                };
                rtp::build(ssrc, *seq, *ts, 101, *marker, &event.to_bytes()).unwrap_or_default()
            }
            Self::Bytes(bytes) => bytes.clone(),
        }
    }
}

/// The RTP port a packet arrives on.
#[derive(Debug, Clone, Copy)]
enum Port {
    /// Caller `n`'s, read from our 200.
    Of(u32),
    Raw(u16),
}

/// How the shell answers a lookup.
#[derive(Debug, Clone, Copy, PartialEq)]
enum How {
    /// As the store would.
    Right,
    /// Unknown number, account or conference, attempts over the limits, empty
    /// audio.
    Refusal,
    /// The store could not be read ([`Unavailable`] for a number, an account or
    /// the failure counters; a refusal for the rest).
    Failure,
}

/// One thing that happens to the node.
#[derive(Debug, Clone)]
enum Step {
    Sip {
        from: Source,
        message: Message,
        mutations: Vec<Mutation>,
    },
    SipBytes {
        from: Source,
        bytes: Vec<u8>,
    },
    Rtp {
        port: Port,
        /// From caller `n`'s media address, or from elsewhere (`None`).
        from: Option<u32>,
        packet: Packet,
        mutations: Vec<Mutation>,
    },
    /// 20 ms ticks, each deadline met on the way.
    Ticks(u16),
    /// The shell wakes this many milliseconds late, without a tick in between.
    Jump(u32),
    /// A timeout fed before any deadline.
    EarlyTimeout,
    /// A pending lookup answered (and left pending, to be answered again, when
    /// `twice`).
    Answer {
        which: Index,
        how: How,
        twice: bool,
    },
}

/// What the callers did before the chaos.
#[derive(Debug, Clone, Copy)]
enum Prelude {
    Nothing,
    /// Callers 1..=n called and acknowledged our 200.
    Answered(u32),
    /// Callers 1..=n keyed the sample conference's number and `code`, by RFC 4733 or INFO.
    Admitted {
        callers: u32,
        code: &'static str,
        by_info: bool,
    },
}

#[derive(Debug, Clone)]
struct Case {
    prelude: Prelude,
    /// Lookups are answered at once (as the store would), or wait for a step.
    prompt_lookups: bool,
    steps: Vec<Step>,
}

fn caller() -> impl Strategy<Value = u32> {
    1..=CALLERS
}

fn cseq() -> impl Strategy<Value = u32> {
    1..6u32
}

fn tag() -> impl Strategy<Value = Tag> {
    prop_oneof![6 => Just(Tag::Ours), 1 => Just(Tag::Wrong), 1 => Just(Tag::Absent)]
}

fn offer() -> impl Strategy<Value = Offer> {
    prop_oneof![
        6 => Just(Offer::Sipp),
        1 => Just(Offer::Empty),
        1 => Just(Offer::SendOnly),
        1 => Just(Offer::RecvOnly),
        1 => Just(Offer::Inactive),
        1 => Just(Offer::ZeroAddress),
        1 => Just(Offer::Pcma),
        1 => select(&[98u8, 72][..]).prop_map(Offer::DynamicPcmu),
        1 => Just(Offer::NoCommonCodec),
    ]
}

fn source() -> impl Strategy<Value = Source> {
    prop_oneof![
        12 => Just(Source::Trunk),
        1 => Just(Source::TrunkOtherPort),
        1 => Just(Source::Phone),
        1 => Just(Source::Stranger),
    ]
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        3 => (caller(), offer()).prop_map(|(n, offer)| Message::Invite { n, offer }),
        1 => caller().prop_map(|n| Message::Star44 { n }),
        3 => (caller(), select(&[1u32, 1, 2, 3][..]), tag(), offer())
            .prop_map(|(n, cseq, tag, answer)| Message::Ack { n, cseq, tag, answer }),
        2 => (caller(), cseq(), tag()).prop_map(|(n, cseq, tag)| Message::Bye { n, cseq, tag }),
        1 => caller().prop_map(|n| Message::Cancel { n }),
        3 => (caller(), cseq(), tag(), select(&['1', '5', '9', '0', '*', '#', 'A', 'x'][..]))
            .prop_map(|(n, cseq, tag, key)| Message::Info { n, cseq, tag, key }),
        1 => (caller(), cseq(), tag()).prop_map(|(n, cseq, tag)| Message::Options { n, cseq, tag }),
        2 => (caller(), cseq(), tag(), offer())
            .prop_map(|(n, cseq, tag, offer)| Message::ReInvite { n, cseq, tag, offer }),
        1 => select(&[200u16, 481, 500, 100][..]).prop_map(|status| Message::ByeAnswer { status }),
    ]
}

fn packet() -> impl Strategy<Value = Packet> {
    prop_oneof![
        4 => (
            select(&[0u8, 0, 8, 101, 13, 72, 127][..]),
            any::<u16>(),
            any::<u32>(),
            any::<bool>(),
            select(&[160usize, 160, 0, 1, 80, 320][..]),
            any::<u8>(),
        )
            .prop_map(|(payload_type, seq, ts, marker, len, fill)| Packet::Audio {
                payload_type,
                seq,
                ts,
                marker,
                len,
                fill,
            }),
        4 => (0u8..20, any::<bool>(), 0u8..64, any::<u16>(), any::<u16>(), 0u32..8_000, any::<bool>())
            .prop_map(|(event, end, volume, duration, seq, ts, marker)| Packet::Event {
                event,
                end,
                volume,
                duration,
                seq,
                ts,
                marker,
            }),
        1 => proptest::collection::vec(any::<u8>(), 0..200).prop_map(Packet::Bytes),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    let mutations = || proptest::collection::vec(mutation(), 0..3);
    prop_oneof![
        8 => (source(), message(), mutations())
            .prop_map(|(from, message, mutations)| Step::Sip { from, message, mutations }),
        1 => (source(), proptest::collection::vec(any::<u8>(), 0..600))
            .prop_map(|(from, bytes)| Step::SipBytes { from, bytes }),
        6 => (
            prop_oneof![6 => caller().prop_map(Port::Of), 1 => (19_998u16..20_010).prop_map(Port::Raw)],
            prop_oneof![6 => caller().prop_map(Some), 1 => Just(None)],
            packet(),
            proptest::collection::vec(mutation(), 0..2),
        )
            .prop_map(|(port, from, packet, mutations)| Step::Rtp { port, from, packet, mutations }),
        3 => (1u16..60).prop_map(Step::Ticks),
        1 => (0u32..40_000).prop_map(Step::Jump),
        1 => Just(Step::EarlyTimeout),
        2 => (
            any::<Index>(),
            prop_oneof![
                4 => Just(How::Right),
                1 => Just(How::Refusal),
                1 => Just(How::Failure),
            ],
            any::<bool>(),
        )
            .prop_map(|(which, how, twice)| Step::Answer { which, how, twice }),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    let prelude = prop_oneof![
        3 => Just(Prelude::Nothing),
        3 => (1..=4u32).prop_map(Prelude::Answered),
        1 => (1..=2u32, select(&[PARTICIPANT, LISTENER, MODERATOR][..]), any::<bool>())
            .prop_map(|(callers, code, by_info)| Prelude::Admitted { callers, code, by_info }),
    ];
    (
        prelude,
        prop_oneof![3 => Just(true), 1 => Just(false)],
        proptest::collection::vec(step(), 0..24),
    )
        .prop_map(|(prelude, prompt_lookups, steps)| Case {
            prelude,
            prompt_lookups,
            steps,
        })
}

/// A lookup the node asked for: the call that asks, and what.
type Asked = (CallKey, Lookup);

/// A dialog as the trunk knows it, from our 200 to its INVITE.
#[derive(Debug, Clone)]
struct Dialog {
    from: String,
    to: String,
    tag: Option<String>,
    port: Option<u16>,
}

/// The shell and the trunk around one node, checking everything it does.
struct Shell {
    node: Node,
    now: Instant,
    started: Instant,
    number: PhoneNumber,
    conference: ConferenceInfo,
    /// How lookups are answered: at once (`Some`; rightly during the prelude) or
    /// by the steps (`None`).
    answer_at_once: Option<How>,
    pending: Vec<Asked>,
    bound: BTreeSet<u16>,
    open_legs: HashSet<LegId>,
    cdrs_opened: usize,
    /// By Call-ID.
    dialogs: BTreeMap<String, Dialog>,
    our_bye: Option<rsip::Request>,
    /// The codec's 400 for the datagram being fed, when it is unreadable.
    bad_request: Option<Vec<u8>>,
    /// SIP datagrams sent.
    sip_sent: usize,
    /// Inputs fed to the node.
    inputs: u64,
}

impl Shell {
    fn new() -> Self {
        let now = Instant::now();
        let config = NodeConfig {
            trunk_sources: [Source::Trunk.addr().ip()].into_iter().collect(),
            entry_sources: teleconf_sip::sources::Sources::none(),
            trunk_media: [Source::Trunk.addr().ip()].into_iter().collect(),
            local_addr: addr("127.0.0.1:5060"),
            rtp_addr: std::net::Ipv4Addr::LOCALHOST,
            rtp_ports: PORTS,
            timers: Timers::default(),
            drain_grace: Duration::from_secs(60),
            cascade: None,
            node_id: "node-a".parse().expect("a node id"),
        };
        let mut node = Node::new(config);
        let phone = IpPhone::new(
            AccountId::new(),
            IpPhoneSource::Address(Source::Phone.addr().ip()),
            "",
            testkit::utc(13, 0),
        )
        .expect("an IP phone");
        node.handle_input(Input::IpPhones([phone].into_iter().collect()));
        Self {
            node,
            now,
            started: now,
            number: testkit::conference_access_number(),
            conference: testkit::seed_conference(None),
            answer_at_once: Some(How::Right),
            pending: Vec::new(),
            bound: BTreeSet::new(),
            open_legs: HashSet::new(),
            cdrs_opened: 0,
            dialogs: BTreeMap::new(),
            our_bye: None,
            bad_request: None,
            sip_sent: 0,
            inputs: 0,
        }
    }

    // ---- feeding and checking --------------------------------------------------

    fn feed(&mut self, input: Input<'_>) -> Result<(), TestCaseError> {
        let timeout = match input {
            Input::Timeout(now) => Some(now),
            _ => None,
        };
        self.inputs += 1;
        self.node.handle_input(input);
        while let Some(output) = self.node.poll_output() {
            self.check(&output)?;
            if let Output::Io(
                lease @ (IoOutput::ClaimRoom(conference) | IoOutput::FindRoom(conference)),
            ) = &output
            {
                // The room's lease is this node's at once (nobody else's).
                let (now, wall_clock, conference) = (self.now, chrono::Utc::now(), *conference);
                let owner = RoomOwner::Here;
                self.inputs += 1;
                self.node.handle_input(match lease {
                    IoOutput::ClaimRoom(_) => Input::RoomOwner {
                        now,
                        wall_clock,
                        conference,
                        owner,
                    },
                    _ => Input::RoomFound {
                        now,
                        wall_clock,
                        conference,
                        owner,
                    },
                });
                continue;
            }
            if let Some(lookup) = self.lookup(output) {
                match self.answer_at_once {
                    Some(how) => {
                        let answer = self.answer(&lookup, how);
                        self.inputs += 1;
                        self.node.handle_input(answer);
                    }
                    None => self.pending.push(lookup),
                }
            }
        }
        if let Some(now) = timeout {
            let next = self.node.poll_timeout();
            prop_assert!(
                next.is_none_or(|at| at > now),
                "a met deadline is still due: {:?} after Timeout at {:?}",
                next.map(|at| at.saturating_duration_since(self.started)),
                now.saturating_duration_since(self.started)
            );
        }
        prop_assert_eq!(self.bound.len(), self.node.calls(), "bound ports = calls");
        prop_assert!(self.open_legs.len() <= self.node.calls());
        prop_assert!(self.node.rooms() <= self.open_legs.len());
        Ok(())
    }

    fn check(&mut self, output: &Output) -> Result<(), TestCaseError> {
        match output {
            Output::Io(IoOutput::SendSip { bytes, .. }) => {
                self.sip_sent += 1;
                match message::parse(bytes) {
                    Ok(message) => self.learn(&message),
                    // The codec's 400 copies Via, From, To, Call-ID and CSeq as
                    // received (RFC 3261 §8.2.6.2), unreadable ones included: only
                    // it may be unreadable, and only there.
                    Err(message::SipError::InvalidHeader { .. })
                        if self.bad_request.as_deref() == Some(&bytes[..]) => {}
                    Err(error) => {
                        return Err(TestCaseError::fail(format!(
                            "we sent SIP we cannot read ({error}):\n{}",
                            String::from_utf8_lossy(bytes)
                        )));
                    }
                }
            }
            Output::Media(MediaOutput::SendRtp {
                from_port, bytes, ..
            }) => {
                prop_assert!(
                    self.bound.contains(from_port),
                    "RTP from unbound {from_port}"
                );
                prop_assert!(
                    rtp::parse(bytes).is_ok(),
                    "we sent RTP we cannot read: {:?}",
                    rtp::parse(bytes)
                );
            }
            Output::Media(MediaOutput::BindRtp(port)) => {
                prop_assert!(PORTS.contains(port) && port % 2 == 0, "bound {port}");
                prop_assert!(self.bound.insert(*port), "{port} bound twice");
            }
            Output::Media(MediaOutput::ReleaseRtp(port)) => {
                prop_assert!(self.bound.remove(port), "{port} released unbound");
            }
            Output::Io(IoOutput::CdrOpen(leg)) => {
                prop_assert!(leg.left_at.is_none() && leg.cause.is_none());
                prop_assert!(self.open_legs.insert(leg.id), "CDR leg opened twice");
                self.cdrs_opened += 1;
            }
            Output::Io(IoOutput::CdrClose(leg)) => {
                prop_assert!(leg.left_at.is_some() && leg.cause.is_some(), "{leg:?}");
                prop_assert!(self.open_legs.remove(&leg.id), "CDR leg closed unopened");
            }
            // Lookups are answered by `feed`; the other outputs (recordings, the
            // live view, activity, …) promise nothing checked here. A wildcard, so
            // a new output does not stop this file from building.
            _ => {}
        }
        Ok(())
    }

    /// Reads the dialog from our 200 to an INVITE, or keeps our BYE to answer it.
    fn learn(&mut self, message: &SipMessage) {
        let Ok(call_id) = message.call_id_header().map(|h| h.value().to_string()) else {
            return;
        };
        match message {
            SipMessage::Response(response) => {
                let is_invite = response
                    .cseq_header()
                    .ok()
                    .and_then(|cseq| cseq.method().ok())
                    == Some(Method::Invite);
                let (Ok(from), Ok(to)) = (response.from_header(), response.to_header()) else {
                    return;
                };
                if !is_invite || !(200..300).contains(&response.status_code.code()) {
                    return;
                }
                let body = String::from_utf8_lossy(&response.body);
                let port = body
                    .lines()
                    .find_map(|line| line.strip_prefix("m=audio "))
                    .and_then(|rest| rest.split(' ').next())
                    .and_then(|port| port.parse().ok());
                let dialog = Dialog {
                    from: from.value().to_string(),
                    to: to.value().to_string(),
                    tag: to.tag().ok().flatten().map(|tag| tag.value().to_string()),
                    port,
                };
                let known = self.dialogs.entry(call_id).or_insert(dialog.clone());
                if known.tag != dialog.tag {
                    *known = dialog; // A new call on an old Call-ID.
                } else if dialog.port.is_some() {
                    known.port = dialog.port;
                }
            }
            SipMessage::Request(request) if request.method == Method::Bye => {
                self.our_bye = Some(request.clone());
            }
            SipMessage::Request(_) => {}
        }
    }

    /// The lookup an output asks, if it asks one this shell answers: intro codes
    /// are left unanswered (the IVR's answer timeout ends those calls).
    fn lookup(&self, output: Output) -> Option<Asked> {
        match output {
            Output::Io(IoOutput::Lookup {
                lookup: Lookup::IntroCode(_),
                ..
            }) => None,
            Output::Io(IoOutput::Lookup { call, lookup }) => Some((call, lookup)),
            _ => None,
        }
    }

    fn answer(&self, (call, lookup): &Asked, how: How) -> Input<'static> {
        let right = how == How::Right;
        let answer = match lookup {
            Lookup::Number(_) if how == How::Failure => Answer::Number(Err(Unavailable)),
            Lookup::Account(_) if how == How::Failure => Answer::Account(Err(Unavailable)),
            Lookup::Account(_) => Answer::Account(Ok(right.then_some(Language::En))),
            Lookup::Number(e164) => Answer::Number(Ok(
                Some(self.number.clone()).filter(|n| right && n.number == *e164)
            )),
            Lookup::Conference(number) => Answer::Conference(
                Some(self.conference.clone()).filter(|c| right && c.number == *number),
            ),
            Lookup::Attempts { .. } | Lookup::RecordFailure { .. } => {
                let failures = if right { 0 } else { 99 };
                Answer::Attempts(if how == How::Failure {
                    Err(Unavailable)
                } else {
                    Ok(Attempts {
                        by_caller: failures,
                        by_conference: failures,
                    })
                })
            }
            Lookup::IntroCode(_) => Answer::IntroCode(None),
            Lookup::Prompt(id) => Answer::Prompt(
                *id,
                if right {
                    Arc::from(vec![0i16; 800])
                } else {
                    Arc::from(Vec::new())
                },
            ),
        };
        Input::Answer {
            now: self.now,
            call: *call,
            answer,
        }
    }

    fn datagram(&mut self, from: SocketAddr, bytes: &[u8]) -> Result<(), TestCaseError> {
        let elapsed = chrono::TimeDelta::from_std(self.now - self.started).unwrap_or_default();
        if let Err(error) = message::parse(bytes) {
            self.bad_request = message::bad_request(bytes, &error);
        }
        let fed = self.feed(Input::Datagram {
            now: self.now,
            // The calls come at 13:40 UTC, the conference is open.
            wall_clock: testkit::utc(13, 40) + elapsed,
            from,
            bytes,
        });
        self.bad_request = None;
        fed
    }

    fn rtp(&mut self, port: u16, from: SocketAddr, bytes: &[u8]) -> Result<(), TestCaseError> {
        self.feed(Input::Rtp {
            now: self.now,
            port,
            from,
            bytes,
        })
    }

    fn media(n: u32) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 6000 + 2 * n as u16))
    }

    fn port_of(&self, n: u32) -> u16 {
        self.dialogs
            .get(&call_id(n))
            .and_then(|dialog| dialog.port)
            .unwrap_or(PORTS.start)
    }

    fn tag(&self, n: u32, tag: Tag) -> Option<String> {
        match tag {
            Tag::Ours => self.dialogs.get(&call_id(n)).and_then(|d| d.tag.clone()),
            Tag::Wrong => Some("not-ours".into()),
            Tag::Absent => None,
        }
    }

    /// The message's text, or nothing (no BYE of ours to answer).
    fn text(&self, message: &Message) -> Option<String> {
        let request = |n, method, cseq, tag, extra: &str, body: &str| {
            sipp_request(n, method, cseq, self.tag(n, tag).as_deref(), extra, body)
        };
        let sdp = "Content-Type: application/sdp\r\n";
        Some(match message {
            Message::Invite { n, offer } => sipp_invite(*n, &offer.sdp()),
            Message::Star44 { n } => {
                sipp_invite(*n, SIPP_SDP).replace("INVITE sip:+33100000000@", "INVITE sip:*44@")
            }
            Message::Ack {
                n,
                cseq,
                tag,
                answer,
            } => {
                let body = answer.sdp();
                let extra = if body.is_empty() { "" } else { sdp };
                request(*n, "ACK", *cseq, *tag, extra, &body)
            }
            Message::Bye { n, cseq, tag } => request(*n, "BYE", *cseq, *tag, "", ""),
            Message::Cancel { n } => sipp_cancel(*n),
            Message::Info { n, cseq, tag, key } => request(
                *n,
                "INFO",
                *cseq,
                *tag,
                "Content-Type: application/dtmf-relay\r\n",
                &format!("Signal={key}\r\nDuration=160\r\n"),
            ),
            Message::Options { n, cseq, tag } => request(*n, "OPTIONS", *cseq, *tag, "", ""),
            Message::ReInvite {
                n,
                cseq,
                tag,
                offer,
            } => {
                let body = offer.sdp();
                let extra = if body.is_empty() { "" } else { sdp };
                request(*n, "INVITE", *cseq, *tag, extra, &body)
            }
            Message::ByeAnswer { status } => {
                let bye = self.our_bye.as_ref()?;
                let response = response_to(bye, *status, None);
                String::from_utf8_lossy(&message::encode(&SipMessage::Response(response)))
                    .into_owned()
            }
        })
    }

    fn run(&mut self, step: &Step) -> Result<(), TestCaseError> {
        match step {
            Step::Sip {
                from,
                message,
                mutations,
            } => {
                // `*44` is the IP phone's; from the trunk's other port or a stranger
                // it is refused.
                let from = match (message, from) {
                    (Message::Star44 { .. }, Source::Trunk) => Source::Phone,
                    _ => *from,
                };
                if let Some(text) = self.text(message) {
                    let mut bytes = text.into_bytes();
                    mutate(&mut bytes, mutations);
                    self.datagram(from.addr(), &bytes)?;
                }
            }
            Step::SipBytes { from, bytes } => self.datagram(from.addr(), bytes)?,
            Step::Rtp {
                port,
                from,
                packet,
                mutations,
            } => {
                let port = match port {
                    Port::Of(n) => self.port_of(*n),
                    Port::Raw(port) => *port,
                };
                let (ssrc, from) = match from {
                    Some(n) => (*n, Self::media(*n)),
                    None => (0xdead_beef, addr("10.9.9.9:7000")),
                };
                let mut bytes = packet.bytes(ssrc);
                mutate(&mut bytes, mutations);
                self.rtp(port, from, &bytes)?;
            }
            Step::Ticks(count) => self.ticks(u32::from(*count))?,
            Step::Jump(ms) => {
                self.now += Duration::from_millis(u64::from(*ms));
                self.feed(Input::Timeout(self.now))?;
            }
            Step::EarlyTimeout => self.feed(Input::Timeout(self.now))?,
            Step::Answer { which, how, twice } => {
                if !self.pending.is_empty() {
                    let at = which.index(self.pending.len());
                    let lookup = if *twice {
                        self.pending[at].clone()
                    } else {
                        self.pending.remove(at)
                    };
                    let answer = self.answer(&lookup, *how);
                    self.feed(answer)?;
                }
            }
        }
        Ok(())
    }

    /// `count` ticks 20 ms apart, each deadline met on time in between.
    fn ticks(&mut self, count: u32) -> Result<(), TestCaseError> {
        for _ in 0..count {
            let tick = self.now + Duration::from_millis(20);
            while let Some(at) = self.node.poll_timeout().filter(|at| *at < tick) {
                self.now = self.now.max(at);
                self.feed(Input::Timeout(self.now))?;
            }
            self.now = tick;
            self.feed(Input::Tick(self.now))?;
        }
        Ok(())
    }

    // ---- the prelude -------------------------------------------------------------

    /// Callers 1..=`callers` dial and acknowledge our 200.
    fn answered(&mut self, callers: u32) -> Result<(), TestCaseError> {
        for n in 1..=callers {
            self.datagram(Source::Trunk.addr(), sipp_invite(n, SIPP_SDP).as_bytes())?;
            let ack = sipp_request(n, "ACK", 1, self.tag(n, Tag::Ours).as_deref(), "", "");
            self.datagram(Source::Trunk.addr(), ack.as_bytes())?;
        }
        prop_assert_eq!(self.node.calls(), callers as usize);
        Ok(())
    }

    /// Callers 1..=`callers` hear the greeting, then key the sample conference's number and
    /// `code` (barging in on the prompts that ask for them): all in the room.
    fn admitted(&mut self, callers: u32, code: &str, by_info: bool) -> Result<(), TestCaseError> {
        self.answered(callers)?;
        // Keys are dropped while the greeting plays.
        let greeting: usize = prompts::default_prompt(Language::Fr, &Prompt::Greeting(None))
            .iter()
            .map(|clip| match clip {
                Clip::Default(pcm) => pcm.len().div_ceil(prompts::FRAME_SAMPLES),
                Clip::Custom(_) => 0,
            })
            .sum();
        self.ticks(u32::try_from(greeting).unwrap_or(u32::MAX) + 2)?;
        for n in 1..=callers {
            let keys = format!("{NUMBER}#{code}#");
            for (i, key) in (0u32..).zip(keys.chars()) {
                if by_info {
                    let info = sipp_request(
                        n,
                        "INFO",
                        2 + i,
                        self.tag(n, Tag::Ours).as_deref(),
                        "Content-Type: application/dtmf-relay\r\n",
                        &format!("Signal={key}\r\nDuration=160\r\n"),
                    );
                    self.datagram(Source::Trunk.addr(), info.as_bytes())?;
                } else {
                    self.key_rfc4733(n, i, key)?;
                }
            }
        }
        prop_assert_eq!(
            self.cdrs_opened,
            callers as usize,
            "every caller admitted by the happy path"
        );
        prop_assert_eq!(self.node.rooms(), 1);
        Ok(())
    }

    /// Key number `i` of caller `n` as RFC 4733 events: a start, then the end
    /// three times (RFC 4733 §2.5.1.4).
    fn key_rfc4733(&mut self, n: u32, i: u32, key: char) -> Result<(), TestCaseError> {
        let digit = Digit::from_char(key).expect("a key");
        let port = self.port_of(n);
        for (k, (marker, end, duration)) in (0u16..).zip([
            (true, false, 160),
            (false, true, 800),
            (false, true, 800),
            (false, true, 800),
        ]) {
            let event = TelephoneEvent {
                event: digit.event_code(),
                end,
                volume: 10,
                duration,
            };
            let seq = u16::try_from(i).unwrap_or(0) * 4 + k;
            let ts = 1_000 + i * 2_000;
            let packet = rtp::build(n, seq, ts, 101, marker, &event.to_bytes()).expect("a packet");
            self.rtp(port, Self::media(n), &packet)?;
        }
        Ok(())
    }

    // ---- the end -----------------------------------------------------------------

    /// The trunk hangs up every dialog it heard of, the store refuses whatever is
    /// still asked, and time passes: nothing may be left.
    fn hang_up_everything(&mut self) -> Result<(), TestCaseError> {
        self.answer_at_once = Some(How::Refusal);
        for lookup in std::mem::take(&mut self.pending) {
            let answer = self.answer(&lookup, How::Refusal);
            self.feed(answer)?;
        }
        let dialogs: Vec<(String, Dialog)> = self
            .dialogs
            .iter()
            .map(|(id, dialog)| (id.clone(), dialog.clone()))
            .collect();
        for (i, (call_id, dialog)) in dialogs.into_iter().enumerate() {
            // RFC 3261 §8.1.1.5: a CSeq below 2**31, above any the steps use.
            let bye = sipkit::message(
                &format!(
                    "BYE sip:conference@127.0.0.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-last-bye-{i}\r\n\
From: {}\r\n\
To: {}\r\n\
Call-ID: {call_id}\r\n\
CSeq: 2147483647 BYE\r\n\
Max-Forwards: 70\r\n",
                    dialog.from, dialog.to
                ),
                "",
            );
            self.datagram(Source::Trunk.addr(), bye.as_bytes())?;
        }
        // Every deadline met, with ticks on the way, until none is left: a call
        // still there then has nothing that would ever end it.
        let limit = self.now + DRAIN_LIMIT;
        while let Some(at) = self.node.poll_timeout() {
            prop_assert!(
                self.now < limit,
                "{} calls, {} rooms still running {DRAIN_LIMIT:?} after the last BYEs",
                self.node.calls(),
                self.node.rooms()
            );
            self.now = at.min(self.now + Duration::from_millis(200)).max(self.now);
            self.feed(Input::Timeout(self.now))?;
            self.feed(Input::Tick(self.now))?;
        }
        prop_assert_eq!(
            self.node.calls(),
            0,
            "calls left that nothing will end, their ports with them: {:?}",
            self.bound
        );
        prop_assert_eq!(self.node.rooms(), 0);
        prop_assert!(self.open_legs.is_empty(), "CDR legs never closed");
        Ok(())
    }
}

/// Plays one case; returns the inputs fed.
fn play(case: &Case) -> Result<u64, TestCaseError> {
    let mut shell = Shell::new();
    match case.prelude {
        Prelude::Nothing => {}
        Prelude::Answered(callers) => shell.answered(callers)?,
        Prelude::Admitted {
            callers,
            code,
            by_info,
        } => shell.admitted(callers, code, by_info)?,
    }
    if !case.prompt_lookups {
        shell.answer_at_once = None;
    }
    for step in &case.steps {
        shell.run(step)?;
    }
    shell.hang_up_everything()?;
    Ok(shell.inputs)
}

/// Whatever the trunk, the callers and the shell do, the node never panics and
/// keeps its invariants (see the module documentation). Prints the cases and
/// inputs it ran (run with `--nocapture`); `PROPTEST_CASES=1000000` gives the
/// million-case run.
#[test]
fn the_node_never_panics_and_keeps_its_invariants_whatever_it_is_fed() {
    let (cases, inputs) = (std::cell::Cell::new(0u64), std::cell::Cell::new(0u64));
    let started = Instant::now(); // measures the test, not protocol time
    let mut runner = TestRunner::new(proptest_config(48));
    let outcome = runner.run(&case(), |case| {
        cases.set(cases.get() + 1);
        inputs.set(inputs.get() + play(&case)?);
        Ok(())
    });
    println!(
        "node fuzz: {} cases, {} inputs in {:.1?}",
        cases.get(),
        inputs.get(),
        started.elapsed()
    );
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}
