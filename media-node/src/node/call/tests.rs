//! Call scenarios on a simulated clock: literal SIP shaped like sipp's `uac`
//! scenario, RTP and RFC 4733 packets built by hand, the node played by a harness
//! that answers the IVR's lookups from a fixture and records every output.

use std::net::{Ipv4Addr, SocketAddr};

use teleconf_sip::message::{parse, response_to};
use teleconf_sip::rtp::{self, Digit, TelephoneEvent};
use teleconf_sip::testkit::{self as sipkit, SIPP_INVITE_HEAD, SIPP_SDP, message};

use super::*;
use crate::app::lookup::{Attempts, ConferenceInfo};
use crate::testkit::{self, NUMBER, PARTICIPANT, utc};

const SIGNALLING: &str = "127.0.0.1:5061";
const MEDIA: &str = "127.0.0.1:6000";
const NAT_MEDIA: &str = "127.0.0.1:16000";
/// Outside the trunk's media sources.
const STRANGER: &str = "10.66.0.1:6000";
/// On the trunk's host (a trunk media source), not the caller's port.
const STRANGER_ON_THE_TRUNK: &str = "127.0.0.1:7777";
/// The caller's SSRC.
const CALLER_SSRC: u32 = 9;

fn addr(text: &str) -> SocketAddr {
    text.parse().expect("an address")
}

fn invite(sdp: &str) -> String {
    let content_type = if sdp.is_empty() {
        ""
    } else {
        "Content-Type: application/sdp\r\n"
    };
    message(&format!("{SIPP_INVITE_HEAD}{content_type}"), sdp)
}

/// A request of sipp's on the dialog (our tag `node1`).
fn in_dialog(method: &str, cseq: u32, extra: &str, body: &str) -> String {
    message(
        &format!(
            "{method} sip:conference@127.0.0.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-4242-{cseq}-{method}\r\n\
From: sipp <sip:sipp@127.0.0.1:5061>;tag=4242SIPpTag001\r\n\
To: <sip:+33100000000@127.0.0.1:5060>;tag=node1\r\n\
Call-ID: 1-4242@127.0.0.1\r\n\
CSeq: {cseq} {method}\r\n\
Contact: sip:sipp@127.0.0.1:5061\r\n\
Max-Forwards: 70\r\n\
{extra}"
        ),
        body,
    )
}

fn ack() -> String {
    in_dialog("ACK", 1, "", "")
}

fn sip(text: &str) -> SipMessage {
    parse(text.as_bytes()).expect("a valid literal")
}

fn request(text: &str) -> Request {
    match sip(text) {
        SipMessage::Request(request) => request,
        SipMessage::Response(_) => panic!("not a request"),
    }
}

/// What [`Call::kept_deadlines`] promises the node, which then leaves the
/// call's filed deadline and tick as they were: its next deadline came no
/// sooner (none stays none), it wants the tick as before, and it did not end.
/// Checked after every input of every scenario here.
fn assert_kept(before: (Option<Instant>, bool), call: &Call) {
    let (deadline, ticks) = before;
    let now = call.poll_timeout();
    assert!(
        match (deadline, now) {
            (None, None) => true,
            (Some(before), Some(now)) => now >= before,
            _ => false,
        },
        "a kept deadline moved from {deadline:?} to {now:?}"
    );
    assert_eq!(call.wants_tick(), ticks, "a kept call's tick changed");
    assert!(!call.is_ended(), "a kept call ended");
}

/// Open 13:30 to 15:00 UTC; the calls come at 13:40.
fn conference() -> ConferenceInfo {
    testkit::seed_conference(None)
}

fn settings() -> Settings {
    Settings {
        leg: CallKey(7),
        local_tag: "node1".into(),
        ssrc: 0x1234_5678,
        local_contact: rsip::Uri::try_from("sip:conference@127.0.0.1:5060").expect("a URI"),
        via_host: "127.0.0.1:5060".into(),
        timers: Timers::default(),
        answer_after: Duration::ZERO,
        // The trunk's media may come from loopback, not only its SDP's port (NAT).
        trunk_media: Arc::new("127.0.0.1".parse().expect("sources")),
    }
}

/// The node around one call: a simulated clock, 20 ms ticks, the lookups answered
/// from a fixture, and (unless told otherwise) a caller that talks every 20 ms.
struct Node {
    call: Call,
    now: Instant,
    conference: ConferenceInfo,
    occupancy: Occupancy,
    caller_talks: bool,
    /// Where the caller's RTP comes from.
    caller_media: &'static str,
    caller_seq: u16,
    dtmf_ts: u32,
    /// Every output, in order.
    log: Vec<Output>,
    /// The caller's frames read in place for the room ([`Call::room_audio`]).
    in_place: usize,
}

impl Node {
    fn new(settings: Settings) -> Self {
        Self {
            call: Call::new(settings),
            now: Instant::now(),
            conference: conference(),
            occupancy: Occupancy::default(),
            caller_talks: true,
            caller_media: MEDIA,
            caller_seq: 0,
            dtmf_ts: 1000,
            log: Vec::new(),
            in_place: 0,
        }
    }

    /// A call answered from sipp's INVITE with `sdp`.
    fn invited(sdp: &str) -> Self {
        let mut node = Self::new(settings());
        node.invite(sdp);
        node
    }

    fn invite(&mut self, sdp: &str) {
        let local_media = LocalMedia {
            addr: Ipv4Addr::LOCALHOST,
            port: 20_000,
            session_id: 42,
            version: 1,
        };
        self.feed(Input::Invite {
            request: Box::new(request(&invite(sdp))),
            source: addr(SIGNALLING),
            origin: addr(SIGNALLING).ip(),
            dialled: Some("+33100000000".parse().expect("an E.164 number")),
            caller_id: "+15145550100".into(),
            local_media,
            wall_clock: utc(13, 40),
            language: Language::Fr,
            prompts: ConferencePrompts::default(),
            star44: None,
            cascade: None,
        });
    }

    fn feed(&mut self, input: Input<'_>) {
        let before = (self.call.poll_timeout(), self.call.wants_tick());
        self.call.handle_input(self.now, input);
        if self.call.kept_deadlines() {
            assert_kept(before, &self.call);
        }
        while let Some(output) = self.call.poll_output() {
            let answer = match &output {
                Output::Lookup(Lookup::Conference(number)) => {
                    Some(Input::Answer(Answer::Conference(
                        (*number == self.conference.number).then(|| self.conference.clone()),
                    )))
                }
                Output::Lookup(Lookup::Attempts { .. } | Lookup::RecordFailure { .. }) => {
                    Some(Input::Answer(Answer::Attempts(Ok(Attempts::default()))))
                }
                Output::CountCallers(_) => Some(Input::Callers(self.occupancy)),
                _ => None,
            };
            self.log.push(output);
            if let Some(answer) = answer {
                self.call.handle_input(self.now, answer);
            }
        }
    }

    /// The caller's re-INVITE (CSeq `cseq`) offering `sdp`, and its ACK.
    fn reinvite(&mut self, cseq: u32, sdp: &str) {
        self.sip(&in_dialog(
            "INVITE",
            cseq,
            "Content-Type: application/sdp\r\n",
            sdp,
        ));
        self.sip(&in_dialog("ACK", cseq, "", ""));
    }

    fn sip(&mut self, text: &str) {
        self.feed(Input::Sip(sip(text)));
    }

    /// A datagram on the call's port, taken as the node takes it: a frame for
    /// the room read in place when it is only that, logged as the
    /// [`Output::ToRoom`] the call would have given; otherwise fed.
    fn rtp(&mut self, packet: &[u8], from: &str) {
        let before = (self.call.poll_timeout(), self.call.wants_tick());
        if let Some(audio) = self.call.room_audio(self.now, packet, addr(from)) {
            self.in_place += 1;
            self.log.push(Output::ToRoom {
                leg: CallKey(7),
                seq: audio.seq,
                ts: audio.ts,
                payload: *audio.payload,
            });
            assert_kept(before, &self.call);
        } else {
            self.rtp_fed(packet, from);
        }
    }

    /// A datagram on the call's port, fed to the call.
    fn rtp_fed(&mut self, packet: &[u8], from: &str) {
        self.feed(Input::Rtp(packet, addr(from)));
    }

    /// The room's frame for the caller, sent as the node sends it
    /// ([`Call::frame_from_room`]): none of the call's deadlines moves.
    fn room_frame(&mut self, frame: &[u8; 160]) {
        let before = (self.call.poll_timeout(), self.call.wants_tick());
        if let Some((to, bytes)) = self.call.frame_from_room(self.now, frame) {
            self.log.push(Output::SendRtp { to, bytes });
        }
        assert_kept(before, &self.call);
    }

    /// Runs the clock for `by`: a tick every 20 ms, each deadline on time, the
    /// caller's audio packet every tick while `caller_talks`.
    fn progress(&mut self, by: Duration) {
        let until = self.now + by;
        let mut next_tick = self.now + Duration::from_millis(20);
        while self.now < until && !self.call.is_ended() {
            let deadline = self.call.poll_timeout().filter(|at| *at < next_tick);
            match deadline {
                Some(at) if at <= until => {
                    self.now = self.now.max(at);
                    self.feed(Input::Timeout);
                }
                _ if next_tick <= until => {
                    self.now = next_tick;
                    next_tick += Duration::from_millis(20);
                    if self.caller_talks {
                        self.caller_seq = self.caller_seq.wrapping_add(1);
                        let ts = u32::from(self.caller_seq) * 160;
                        let packet =
                            rtp::build(CALLER_SSRC, self.caller_seq, ts, 0, false, &[0xFF; 160])
                                .expect("a packet");
                        self.rtp(&packet, self.caller_media);
                    }
                    self.feed(Input::Tick);
                }
                _ => self.now = until,
            }
        }
    }

    /// Runs the clock until the IVR has played `count` prompts to their end.
    fn until_prompts_finished(&mut self, count: u32) {
        for _ in 0..60_000 {
            if self.call.prompts_finished() >= count {
                return;
            }
            self.progress(Duration::from_millis(20));
        }
        panic!("the prompts never finished");
    }

    /// Keys `keys` as RFC 4733 events: a start packet, then the end packet three times.
    fn key_rfc4733(&mut self, keys: &str) {
        self.key_rfc4733_from(keys, MEDIA, CALLER_SSRC);
    }

    /// Keys `keys` as RFC 4733 events from `from` with `ssrc`.
    fn key_rfc4733_from(&mut self, keys: &str, from: &str, ssrc: u32) {
        for key in keys.chars() {
            let digit = Digit::from_char(key).expect("a key");
            self.dtmf_ts += 2000;
            for (i, (end, duration)) in [(false, 160), (true, 800), (true, 800), (true, 800)]
                .into_iter()
                .enumerate()
            {
                let event = TelephoneEvent {
                    event: digit.event_code(),
                    end,
                    volume: 10,
                    duration,
                };
                let packet = rtp::build(
                    ssrc,
                    self.caller_seq.wrapping_add(1),
                    self.dtmf_ts,
                    101,
                    i == 0,
                    &event.to_bytes(),
                )
                .expect("a packet");
                self.caller_seq = self.caller_seq.wrapping_add(1);
                self.rtp(&packet, from);
            }
            self.progress(Duration::from_millis(100));
        }
    }

    /// Keys `keys` as SIP INFO (`application/dtmf-relay`), CSeq from `cseq`.
    fn key_info(&mut self, keys: &str, mut cseq: u32) {
        for key in keys.chars() {
            let body = format!("Signal={key}\r\nDuration=160\r\n");
            self.sip(&in_dialog(
                "INFO",
                cseq,
                "Content-Type: application/dtmf-relay\r\n",
                &body,
            ));
            cseq += 1;
            self.progress(Duration::from_millis(100));
        }
    }

    /// INVITE, ACK, the greeting to its end.
    fn answered_and_greeted() -> Self {
        let mut node = Self::invited(SIPP_SDP);
        node.sip(&ack());
        node.until_prompts_finished(1);
        node
    }

    /// Through the IVR into the conference with the participant code.
    fn admitted() -> Self {
        let mut node = Self::answered_and_greeted();
        node.key_rfc4733(&format!("{NUMBER}#"));
        node.key_rfc4733(&format!("{PARTICIPANT}#"));
        node
    }

    /// The start lines of the SIP messages sent, in order.
    fn sip_sent(&self) -> Vec<String> {
        self.log
            .iter()
            .filter_map(|output| match output {
                Output::SendSip { bytes, .. } => Some(sipkit::start_line(bytes)),
                _ => None,
            })
            .collect()
    }

    /// The SIP message sent whose start line begins with `start`.
    fn sent_message(&self, start: &str) -> String {
        self.log
            .iter()
            .find_map(|output| match output {
                Output::SendSip { bytes, .. } => {
                    let text = String::from_utf8_lossy(bytes).into_owned();
                    text.starts_with(start).then_some(text)
                }
                _ => None,
            })
            .unwrap_or_else(|| panic!("no {start} sent: {:?}", self.sip_sent()))
    }

    fn rtp_sent(&self) -> Vec<(SocketAddr, &[u8])> {
        self.log
            .iter()
            .filter_map(|output| match output {
                Output::SendRtp { to, bytes } => Some((*to, &bytes[..])),
                _ => None,
            })
            .collect()
    }

    fn cdr_opened(&self) -> Option<&CallLeg> {
        self.log.iter().find_map(|output| match output {
            Output::CdrOpen(leg) => Some(leg),
            _ => None,
        })
    }

    fn cdr_closed(&self) -> Option<&CallLeg> {
        self.log.iter().find_map(|output| match output {
            Output::CdrClose(leg) => Some(leg),
            _ => None,
        })
    }

    fn ended(&self) -> bool {
        self.log.contains(&Output::Ended)
    }
}

#[test]
fn a_caller_is_answered_100_then_200_with_an_sdp_answer() {
    let node = Node::invited(SIPP_SDP);
    assert_eq!(
        node.sip_sent(),
        ["SIP/2.0 100 Trying", "SIP/2.0 200 OK"],
        "100 then 200"
    );
    let ok = node.sent_message("SIP/2.0 200");
    assert!(
        ok.contains("To: <sip:+33100000000@127.0.0.1:5060>;tag=node1"),
        "{ok}"
    );
    assert!(ok.contains("m=audio 20000 RTP/AVP 0 101"), "{ok}");
    assert!(ok.contains("a=rtpmap:101 telephone-event/8000"), "{ok}");
    assert!(node.log.iter().all(|output| match output {
        Output::SendSip { to, .. } => *to == addr(SIGNALLING),
        _ => true,
    }));
}

#[test]
fn the_200_is_retransmitted_until_the_ack() {
    let mut node = Node::invited(SIPP_SDP);
    node.progress(Duration::from_millis(1600));
    let oks = node
        .sip_sent()
        .iter()
        .filter(|line| line.contains("200"))
        .count();
    assert_eq!(oks, 3, "at 0, T1, 3*T1: {:?}", node.sip_sent());
    node.sip(&ack());
    node.progress(Duration::from_secs(5));
    let after = node
        .sip_sent()
        .iter()
        .filter(|line| line.contains("200"))
        .count();
    assert_eq!(after, 3, "no 200 after the ACK");
}

#[test]
fn the_greeting_is_sent_as_rtp_frames_of_the_negotiated_codec() {
    let mut node = Node::invited(SIPP_SDP);
    node.sip(&ack());
    node.progress(Duration::from_secs(1));
    let sent = node.rtp_sent();
    assert!(sent.len() >= 45, "about one frame per tick: {}", sent.len());
    let mut last_seq = None;
    for (to, bytes) in &sent {
        assert_eq!(*to, addr(MEDIA));
        let packet = rtp::parse(bytes).expect("RTP");
        assert_eq!(packet.payload_type, 0, "PCMU");
        assert_eq!(packet.payload.len(), 160, "20 ms");
        assert_eq!(packet.ssrc, 0x1234_5678);
        if let Some(last) = last_seq {
            assert_eq!(packet.sequence, u16::wrapping_add(last, 1));
        }
        last_seq = Some(packet.sequence);
    }
    assert!(
        sent.iter().any(|(_, bytes)| rtp::parse(bytes)
            .expect("RTP")
            .payload
            .iter()
            .any(|&b| b != 0xFF)),
        "not only silence"
    );
}

#[test]
fn keyed_number_and_code_as_rfc4733_admit_the_caller_and_open_a_cdr() {
    let node = Node::admitted();
    let join = node.log.iter().find_map(|output| match output {
        Output::Join {
            leg,
            conference,
            role,
            codec,
            ..
        } => Some((*leg, *conference, *role, *codec)),
        _ => None,
    });
    assert_eq!(
        join,
        Some((
            CallKey(7),
            node.conference.id,
            CallerRole::Participant,
            Codec::Pcmu
        ))
    );
    let leg = node.cdr_opened().expect("a CDR leg");
    assert_eq!(leg.account_id, node.conference.account);
    assert_eq!(leg.conference_id, node.conference.id);
    assert_eq!(leg.conference_number.to_string(), NUMBER);
    assert_eq!(
        leg.dialled.as_ref().map(|d| d.as_str()),
        Some("+33100000000")
    );
    assert_eq!(leg.caller_id, "+15145550100");
    assert_eq!(leg.role, CallerRole::Participant);
    assert!(leg.joined_at > utc(13, 40) && leg.joined_at < utc(13, 42));
    assert_eq!(leg.month.to_string(), "2026-06");
    assert_eq!(leg.left_at, None);
    assert!(
        node.log
            .iter()
            .any(|output| matches!(output, Output::ToRoom { leg: CallKey(7), payload, .. } if payload.len() == 160)),
        "the caller's audio goes to the room after admission"
    );
}

#[test]
fn the_room_mix_is_sent_after_admission() {
    let mut node = Node::admitted();
    let before = node.rtp_sent().len();
    node.room_frame(&[0x55; 160]);
    let sent = node.rtp_sent();
    assert_eq!(sent.len(), before + 1);
    let packet = rtp::parse(sent[before].1).expect("RTP");
    assert_eq!(packet.payload, &[0x55; 160]);
}

#[test]
fn dtmf_by_sip_info_works_too() {
    let mut node = Node::answered_and_greeted();
    node.key_info(&format!("{NUMBER}#"), 2);
    node.key_info(&format!("{PARTICIPANT}#"), 10);
    assert!(node.cdr_opened().is_some(), "{:?}", node.sip_sent());
    let infos_ok = node
        .sip_sent()
        .iter()
        .filter(|line| *line == "SIP/2.0 200 OK")
        .count();
    assert!(infos_ok >= 13, "each INFO answered 200");
}

#[test]
fn a_retransmitted_info_digit_is_keyed_once() {
    let mut node = Node::answered_and_greeted();
    for (cseq, key) in (2..).zip(format!("{NUMBER}#{PARTICIPANT}#").chars()) {
        let info = in_dialog(
            "INFO",
            cseq,
            "Content-Type: application/dtmf-relay\r\n",
            &format!("Signal={key}\r\nDuration=160\r\n"),
        );
        node.sip(&info);
        // Timer E: our 200 was slow, the caller's side sends the INFO again.
        node.progress(Duration::from_millis(500));
        node.sip(&info);
        node.progress(Duration::from_millis(100));
    }
    assert!(node.cdr_opened().is_some(), "{:?}", node.sip_sent());
    assert!(
        !node
            .log
            .iter()
            .any(|output| matches!(output, Output::Lookup(Lookup::RecordFailure { .. }))),
        "no entry read wrong"
    );
}

#[test]
fn a_caller_bye_after_admission_closes_the_cdr_with_caller_hangup() {
    let mut node = Node::admitted();
    node.sip(&in_dialog("BYE", 30, "", ""));
    assert_eq!(
        node.sip_sent().last().map(String::as_str),
        Some("SIP/2.0 200 OK")
    );
    assert!(node.log.contains(&Output::Leave { leg: CallKey(7) }));
    let leg = node.cdr_closed().expect("closed");
    assert_eq!(leg.cause, Some(DisconnectCause::CallerHangup));
    assert!(leg.left_at >= Some(leg.joined_at));
    let sent = node.rtp_sent().len();
    node.progress(Duration::from_secs(40));
    assert!(node.ended(), "ended once the transactions finished");
    assert_eq!(node.rtp_sent().len(), sent, "no RTP after the BYE");
}

#[test]
fn a_call_the_caller_hung_up_is_settled_while_timer_j_still_runs() {
    let mut node = Node::admitted();
    assert!(!node.call.is_settled(), "a caller in the conference");
    node.sip(&in_dialog("BYE", 30, "", ""));
    assert!(node.call.is_settled(), "the BYE answered, the CDR closed");
    assert!(
        !node.ended(),
        "its transaction still absorbs a retransmitted BYE"
    );
}

#[test]
fn a_call_we_hang_up_is_settled_once_our_bye_is_answered() {
    let mut node = Node::answered_and_greeted();
    node.feed(Input::HangUp);
    node.progress(Duration::from_secs(1));
    assert!(!node.call.is_settled(), "our BYE waits for its answer");
    answer_our_bye(&mut node);
    assert!(node.call.is_settled());
}

#[test]
fn three_wrong_codes_end_in_our_bye_and_no_cdr() {
    let mut node = Node::answered_and_greeted();
    node.key_rfc4733(&format!("{NUMBER}#"));
    for _ in 0..3 {
        node.key_rfc4733("11111#");
        // The "invalid code" prompt, then the code prompt again (or Goodbye).
        let finished = node.call.prompts_finished();
        node.until_prompts_finished(finished + 1);
    }
    node.progress(Duration::from_secs(30));
    let bye = node.sent_message("BYE ");
    assert!(bye.contains("CSeq: 1 BYE"), "{bye}");
    assert!(
        bye.contains("To: <sip:sipp@127.0.0.1:5061>;tag=4242SIPpTag001"),
        "{bye}"
    );
    assert!(node.cdr_opened().is_none());
    assert!(node.cdr_closed().is_none());
    let failures = node
        .log
        .iter()
        .filter(|output| matches!(output, Output::Lookup(Lookup::RecordFailure { .. })))
        .count();
    assert_eq!(
        failures, 3,
        "one per wrong code (the caller's and the conference's)"
    );

    // Our BYE is retransmitted until answered.
    let byes = node
        .sip_sent()
        .iter()
        .filter(|line| line.starts_with("BYE"))
        .count();
    assert!(byes > 1, "Timer E: {byes}");
    let via = bye
        .lines()
        .find(|line| line.starts_with("Via:"))
        .expect("a Via")
        .to_string();
    node.sip(&message(
        &format!(
            "SIP/2.0 200 OK\r\n{via}\r\n\
From: <sip:+33100000000@127.0.0.1:5060>;tag=node1\r\n\
To: <sip:sipp@127.0.0.1:5061>;tag=4242SIPpTag001\r\n\
Call-ID: 1-4242@127.0.0.1\r\n\
CSeq: 1 BYE\r\n"
        ),
        "",
    ));
    node.progress(Duration::from_secs(40));
    assert!(node.ended());
}

#[test]
fn cancel_before_answer_gets_487_and_no_cdr() {
    let mut node = Node::new(Settings {
        answer_after: Duration::from_secs(2),
        ..settings()
    });
    node.invite(SIPP_SDP);
    assert_eq!(
        node.sip_sent(),
        ["SIP/2.0 100 Trying", "SIP/2.0 180 Ringing"]
    );
    node.progress(Duration::from_millis(500));
    let cancel = invite("")
        .replace("INVITE sip:", "CANCEL sip:")
        .replace("1 INVITE", "1 CANCEL");
    node.sip(&cancel);
    let sent = node.sip_sent();
    assert!(sent.contains(&"SIP/2.0 200 OK".to_string()), "{sent:?}");
    assert!(
        sent.contains(&"SIP/2.0 487 Request Terminated".to_string()),
        "{sent:?}"
    );
    node.sip(&ack_of_a_refusal());
    node.progress(Duration::from_secs(40));
    assert!(node.ended());
    assert!(
        !node
            .sip_sent()
            .iter()
            .any(|line| line.contains("200 OK") && line.contains("INVITE"))
    );
    assert!(node.rtp_sent().is_empty(), "never answered, never played");
    assert!(node.cdr_opened().is_none() && node.cdr_closed().is_none());
}

#[test]
fn no_rtp_for_30_seconds_ends_the_call_with_rtp_timeout() {
    let mut node = Node::admitted();
    node.caller_talks = false;
    node.progress(Duration::from_secs(29));
    assert!(node.cdr_closed().is_none(), "not yet");
    node.progress(Duration::from_secs(2));
    let leg = node.cdr_closed().expect("closed");
    assert_eq!(leg.cause, Some(DisconnectCause::RtpTimeout));
    assert!(node.sip_sent().iter().any(|line| line.starts_with("BYE")));
}

#[test]
fn symmetric_rtp_sends_to_where_media_comes_from() {
    let mut node = Node::invited(SIPP_SDP);
    node.caller_talks = false;
    node.sip(&ack());
    node.progress(Duration::from_millis(100));
    assert!(node.rtp_sent().iter().all(|(to, _)| *to == addr(MEDIA)));
    let packet = rtp::build(9, 1, 160, 0, false, &[0xFF; 160]).expect("a packet");
    node.rtp(&packet, NAT_MEDIA);
    let before = node.rtp_sent().len();
    node.progress(Duration::from_millis(100));
    let after = &node.rtp_sent()[before..];
    assert!(!after.is_empty());
    assert!(after.iter().all(|(to, _)| *to == addr(NAT_MEDIA)));
}

#[test]
fn a_strangers_audio_and_keys_reach_neither_the_room_nor_the_keypad_and_are_counted() {
    let mut node = Node::admitted();
    let before = node.log.len();
    // Strangers on the trunk's host and elsewhere send audio with the caller's
    // SSRC, and `*6` (mute) and `*0` (help), while the caller talks.
    let mut sent = 0;
    for from in [STRANGER_ON_THE_TRUNK, STRANGER] {
        for seq in 0..25u16 {
            let packet =
                rtp::build(CALLER_SSRC, 5_000 + seq, 0, 0, false, &[0x11; 160]).expect("a packet");
            node.rtp(&packet, from);
            sent += 1;
        }
        node.key_rfc4733_from("*6*0", from, CALLER_SSRC);
        sent += 4 * 4;
    }
    node.progress(Duration::from_millis(200));
    let after = &node.log[before..];
    assert!(
        !after
            .iter()
            .any(|o| matches!(o, Output::ToRoom { payload, .. } if payload[0] == 0x11)),
        "no stranger's frame reaches the room"
    );
    assert!(
        after.iter().any(|o| matches!(o, Output::ToRoom { .. })),
        "the caller's still do"
    );
    assert!(
        !after.iter().any(|o| matches!(o, Output::Keypad { .. })),
        "no stranger's key reaches the keypad"
    );
    assert!(
        node.rtp_sent().iter().all(|(to, _)| *to == addr(MEDIA)),
        "nothing is sent to a stranger"
    );
    assert_eq!(
        node.call.dropped_rtp(),
        DroppedRtp {
            foreign_source: sent,
            foreign_ssrc: 0
        }
    );
}

#[test]
fn a_frame_read_in_place_for_the_room_is_what_feeding_it_would_have_pushed_and_nothing_else_is() {
    let mut in_place = Node::admitted();
    let mut fed = Node::admitted();
    let audio = |ssrc: u32, seq: u16, pt: u8, payload: &[u8]| {
        rtp::build(ssrc, seq, u32::from(seq) * 160, pt, false, payload).expect("a packet")
    };
    let dtmf = TelephoneEvent {
        event: Digit::from_char('5').expect("a key").event_code(),
        end: false,
        volume: 10,
        duration: 160,
    };
    let packets = [
        (audio(CALLER_SSRC, 900, 0, &[0x22; 160]), MEDIA),
        (audio(666, 901, 0, &[0x22; 160]), MEDIA),
        (
            audio(CALLER_SSRC, 902, 0, &[0x22; 160]),
            STRANGER_ON_THE_TRUNK,
        ),
        (audio(CALLER_SSRC, 903, 0, &[0x22; 160]), STRANGER),
        (audio(CALLER_SSRC, 904, 0, &[0x22; 80]), MEDIA),
        (audio(CALLER_SSRC, 905, 8, &[0x22; 160]), MEDIA),
        (audio(CALLER_SSRC, 906, 101, &dtmf.to_bytes()), MEDIA),
        (vec![0x80, 0xc9, 0x00, 0x01, 0, 0, 0, 9], MEDIA),
        (audio(CALLER_SSRC, 907, 0, &[0x33; 160]), MEDIA),
    ];
    for (packet, from) in &packets {
        let (a, b) = (in_place.log.len(), fed.log.len());
        in_place.rtp(packet, from);
        fed.rtp_fed(packet, from);
        assert_eq!(
            in_place.log[a..],
            fed.log[b..],
            "from {from}: {packet:02x?}"
        );
        assert_eq!(in_place.call.dropped_rtp(), fed.call.dropped_rtp());
        let due = |node: &Node| node.call.poll_timeout().map(|at| at - node.now);
        assert_eq!(due(&in_place), due(&fed));
    }
    assert_eq!(
        in_place.in_place - fed.in_place,
        2,
        "only the caller's two 20 ms frames of its codec are read in place"
    );
    assert_eq!(
        fed.call.dropped_rtp(),
        DroppedRtp {
            foreign_source: 2,
            foreign_ssrc: 1
        }
    );
}

#[test]
fn a_stranger_who_sends_first_is_not_latched_and_never_sent_to() {
    let mut node = Node::invited(SIPP_SDP);
    node.caller_talks = false;
    node.sip(&ack());
    let packet = rtp::build(77, 1, 160, 0, false, &[0x11; 160]).expect("a packet");
    node.rtp(&packet, STRANGER);
    node.progress(Duration::from_millis(200));
    let sent = node.rtp_sent();
    assert!(!sent.is_empty(), "the greeting plays");
    assert!(
        sent.iter().all(|(to, _)| *to == addr(MEDIA)),
        "to the SDP's address"
    );
    assert_eq!(node.call.dropped_rtp().foreign_source, 1);
}

#[test]
fn keys_of_another_ssrc_from_the_callers_own_address_are_ignored_while_its_stream_runs() {
    let mut node = Node::admitted();
    let before = node.log.len();
    node.key_rfc4733_from("*6", MEDIA, 666);
    node.progress(Duration::from_millis(200));
    assert!(
        !node.log[before..]
            .iter()
            .any(|o| matches!(o, Output::Keypad { .. })),
        "the injected keys are not the caller's"
    );
    assert_eq!(node.call.dropped_rtp().foreign_ssrc, 8);
    // The caller's own `*6` still works.
    node.key_rfc4733("*6");
    assert!(
        node.log[before..]
            .iter()
            .any(|o| matches!(o, Output::Keypad { .. }))
    );
}

#[test]
fn a_reinvite_that_moves_the_callers_media_is_followed() {
    let mut node = Node::answered_and_greeted();
    let moved = "192.0.2.50:7000";
    let offer = SIPP_SDP
        .replace("c=IN IP4 127.0.0.1", "c=IN IP4 192.0.2.50")
        .replace("m=audio 6000", "m=audio 7000");
    node.reinvite(2, &offer);
    // The caller's stream now comes from its new address.
    node.caller_media = moved;
    node.progress(Duration::from_millis(100));
    let before = node.rtp_sent().len();
    let old = rtp::build(CALLER_SSRC, 9_000, 0, 0, false, &[0x11; 160]).expect("a packet");
    node.rtp(&old, MEDIA);
    node.progress(Duration::from_millis(100));
    assert!(
        node.rtp_sent()[before..]
            .iter()
            .all(|(to, _)| *to == addr(moved)),
        "our RTP follows the caller"
    );
    assert_eq!(node.call.dropped_rtp().foreign_source, 1);
    // Its keys from there are taken: the IVR goes on.
    node.key_rfc4733_from(&format!("{NUMBER}#"), moved, CALLER_SSRC);
    node.key_rfc4733_from(&format!("{PARTICIPANT}#"), moved, CALLER_SSRC);
    assert!(node.cdr_opened().is_some(), "admitted from the new address");
}

#[test]
fn an_offerless_invite_gets_our_offer_and_the_ack_answer() {
    let mut node = Node::invited("");
    let ok = node.sent_message("SIP/2.0 200");
    assert!(ok.contains("m=audio 20000 RTP/AVP 0 8 101"), "{ok}");
    node.progress(Duration::from_millis(100));
    assert!(
        node.rtp_sent().is_empty(),
        "nothing to send before the answer"
    );
    let answer = SIPP_SDP
        .replace("RTP/AVP 0 101", "RTP/AVP 8 101")
        .replace("a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000");
    node.sip(&in_dialog(
        "ACK",
        1,
        "Content-Type: application/sdp\r\n",
        &answer,
    ));
    assert_eq!(node.call.negotiated().map(|n| n.codec), Some(Codec::Pcma));
    node.progress(Duration::from_millis(100));
    let sent = node.rtp_sent();
    assert!(!sent.is_empty());
    assert!(
        sent.iter()
            .all(|(_, bytes)| rtp::parse(bytes).expect("RTP").payload_type == 8)
    );
}

/// The caller's ACK of our final non-2xx to its INVITE (the INVITE's branch,
/// our To tag).
fn ack_of_a_refusal() -> String {
    message(
        "ACK sip:+33100000000@127.0.0.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-4242-1-0\r\n\
From: sipp <sip:sipp@127.0.0.1:5061>;tag=4242SIPpTag001\r\n\
To: <sip:+33100000000@127.0.0.1:5060>;tag=node1\r\n\
Call-ID: 1-4242@127.0.0.1\r\n\
CSeq: 1 ACK\r\n\
Max-Forwards: 70\r\n",
        "",
    )
}

/// sipp's offer with G.729 (and telephone-event) instead of PCMU: no codec in common.
fn g729_only() -> String {
    SIPP_SDP
        .replace("RTP/AVP 0 101", "RTP/AVP 18 101")
        .replace("a=rtpmap:0 PCMU/8000", "a=rtpmap:18 G729/8000")
}

#[test]
fn a_refused_call_is_settled_only_once_its_refusal_is_acknowledged() {
    let mut node = Node::invited(&g729_only());
    assert!(
        node.sip_sent()
            .contains(&"SIP/2.0 488 Not Acceptable Here".to_string())
    );
    assert!(
        !node.call.is_settled(),
        "the 488 is resent until the caller acknowledges it"
    );
    node.sip(&ack_of_a_refusal());
    assert!(node.call.is_settled(), "acknowledged: only Timer I is left");
}

#[test]
fn no_common_codec_is_488() {
    let mut node = Node::invited(&g729_only());
    assert_eq!(
        node.sip_sent(),
        ["SIP/2.0 100 Trying", "SIP/2.0 488 Not Acceptable Here"]
    );
    node.progress(Duration::from_secs(40));
    assert!(node.ended(), "ends when Timer H gives up");
    assert!(node.rtp_sent().is_empty());
}

#[test]
fn a_reinvite_for_hold_is_answered_and_rtp_stops() {
    let mut node = Node::invited(SIPP_SDP);
    node.sip(&ack());
    node.progress(Duration::from_millis(200));
    let hold = SIPP_SDP.replace("a=fmtp:101 0-15\r\n", "a=fmtp:101 0-15\r\na=sendonly\r\n");
    node.sip(&in_dialog(
        "INVITE",
        2,
        "Content-Type: application/sdp\r\n",
        &hold,
    ));
    let ok = node
        .log
        .iter()
        .rev()
        .find_map(|output| match output {
            Output::SendSip { bytes, .. } => Some(String::from_utf8_lossy(bytes).into_owned()),
            _ => None,
        })
        .expect("an answer");
    assert!(ok.starts_with("SIP/2.0 200 OK"), "{ok}");
    assert!(ok.contains("CSeq: 2 INVITE"), "{ok}");
    assert!(ok.contains("a=recvonly"), "{ok}");
    node.sip(&in_dialog("ACK", 2, "", ""));
    let before = node.rtp_sent().len();
    node.progress(Duration::from_secs(1));
    assert_eq!(node.rtp_sent().len(), before, "no RTP while held");

    // Unhold: sending resumes.
    node.sip(&in_dialog(
        "INVITE",
        3,
        "Content-Type: application/sdp\r\n",
        SIPP_SDP,
    ));
    node.progress(Duration::from_millis(200));
    assert!(node.rtp_sent().len() > before, "RTP again after unhold");
}

#[test]
fn no_ack_for_our_200_ends_the_leg_with_transaction_failure() {
    let mut node = Node::invited(SIPP_SDP);
    node.until_prompts_finished(1);
    node.key_rfc4733(&format!("{NUMBER}#"));
    node.key_rfc4733(&format!("{PARTICIPANT}#"));
    assert!(node.cdr_opened().is_some(), "admitted before Timer L");
    node.progress(Duration::from_secs(40));
    let leg = node.cdr_closed().expect("closed");
    assert_eq!(leg.cause, Some(DisconnectCause::TransactionFailure));
    assert!(node.sip_sent().iter().any(|line| line.starts_with("BYE")));
}

#[test]
fn five_minutes_before_the_planned_end_the_caller_is_told_and_nothing_is_cut() {
    let mut node = Node::new(settings());
    node.conference.schedule = teleconf_domain::Schedule::new(utc(13, 30), utc(13, 46))
        .expect("a schedule ending at 13:46");
    node.invite(SIPP_SDP);
    node.sip(&ack());
    node.until_prompts_finished(1);
    node.key_rfc4733(&format!("{NUMBER}#"));
    node.key_rfc4733(&format!("{PARTICIPANT}#"));
    assert!(node.cdr_opened().is_some());
    node.progress(Duration::from_secs(5));
    let said = node.call.prompts_finished();
    // Admitted a few seconds after 13:40 (the keys barge in); the warning is due
    // at 13:41.
    node.progress(Duration::from_secs(40));
    assert_eq!(node.call.prompts_finished(), said, "not yet");
    node.progress(Duration::from_secs(20));
    assert_eq!(
        node.call.prompts_finished(),
        said + 1,
        "« ends in five minutes »"
    );
    // Past the planned end the call goes on: the last caller ends a conference.
    node.progress(Duration::from_secs(6 * 60));
    assert!(node.cdr_closed().is_none());
    assert_eq!(node.call.prompts_finished(), said + 1, "said once");
}

/// A caller in the conference who puts the call on an `inactive` hold
/// (re-INVITE, then its ACK): no media either way.
fn on_inactive_hold() -> Node {
    let mut node = Node::admitted();
    assert!(node.cdr_opened().is_some());
    let hold = SIPP_SDP.replace("a=fmtp:101 0-15\r\n", "a=fmtp:101 0-15\r\na=inactive\r\n");
    node.reinvite(2, &hold);
    node.caller_talks = false;
    node
}

/// The caller's answer, with `status`, to the `nth` (from 1) OPTIONS we sent.
fn answer_our_options(node: &mut Node, nth: usize, status: u16) {
    let request = node
        .log
        .iter()
        .filter_map(|output| match output {
            Output::SendSip { bytes, .. } if bytes.starts_with(b"OPTIONS ") => Some(bytes.clone()),
            _ => None,
        })
        .nth(nth - 1)
        .expect("our OPTIONS");
    let Ok(SipMessage::Request(request)) = parse(&request) else {
        panic!("our OPTIONS parses");
    };
    let response = response_to(&request, status, None);
    node.feed(Input::Sip(response.into()));
}

fn options_sent(node: &Node) -> usize {
    node.sip_sent()
        .iter()
        .filter(|line| line.starts_with("OPTIONS"))
        .count()
}

#[test]
fn a_call_on_inactive_hold_is_asked_in_dialog_after_a_minute_of_silence() {
    let mut node = on_inactive_hold();
    node.progress(HOLD_PROBE - Duration::from_secs(1));
    assert_eq!(options_sent(&node), 0, "not before a minute of silence");
    assert!(!node.ended(), "no RTP timeout on an inactive hold");
    node.progress(Duration::from_millis(1_100));
    assert_eq!(options_sent(&node), 1);
    let options = node.sent_message("OPTIONS ");
    assert!(options.contains("CSeq: 1 OPTIONS"), "{options}");
    assert!(
        options.contains("Call-ID: 1-4242@127.0.0.1"),
        "in the dialog: {options}"
    );

    // Answered (even 405 says the dialog stands): the call goes on, asked again later.
    answer_our_options(&mut node, 1, 405);
    node.progress(HOLD_PROBE + Duration::from_millis(200));
    assert!(node.cdr_closed().is_none(), "still on the line");
    assert_eq!(
        options_sent(&node),
        2,
        "asked again a minute after the answer"
    );
}

#[test]
fn a_held_call_whose_dialog_is_gone_ends_on_the_481() {
    let mut node = on_inactive_hold();
    node.progress(HOLD_PROBE + Duration::from_secs(1));
    answer_our_options(&mut node, 1, 481);
    let leg = node.cdr_closed().expect("the leg is closed");
    assert_eq!(leg.cause, Some(DisconnectCause::TransactionFailure));
}

#[test]
fn a_held_call_whose_caller_never_answers_ends_when_timer_f_fires() {
    let mut node = on_inactive_hold();
    node.progress(HOLD_PROBE + Duration::from_secs(1));
    assert!(options_sent(&node) > 1, "retransmitted over UDP");
    assert!(!node.sip_sent().iter().any(|line| line.starts_with("BYE")));
    node.progress(Duration::from_secs(33));
    assert!(node.sip_sent().iter().any(|line| line.starts_with("BYE")));
    let leg = node.cdr_closed().expect("the leg is closed");
    assert_eq!(leg.cause, Some(DisconnectCause::TransactionFailure));
}

/// Our BYE, parsed, and the 200 that answers it.
fn answer_our_bye(node: &mut Node) {
    let bye = node.sent_message("BYE ");
    let Ok(SipMessage::Request(bye)) = parse(bye.as_bytes()) else {
        panic!("our BYE parses");
    };
    let ok = response_to(&bye, 200, None);
    node.feed(Input::Sip(ok.into()));
}

#[test]
fn a_hang_up_before_the_ack_waits_for_it_to_send_the_bye() {
    let mut node = Node::invited(SIPP_SDP);
    node.feed(Input::HangUp);
    assert!(
        !node.sip_sent().iter().any(|line| line.starts_with("BYE")),
        "RFC 3261 §15: no BYE before the ACK"
    );
    node.progress(Duration::from_millis(200));
    assert!(node.rtp_sent().is_empty(), "the call is over: no greeting");
    node.sip(&ack());
    let bye = node.sent_message("BYE ");
    assert!(bye.contains("CSeq: 1 BYE"), "{bye}");
    answer_our_bye(&mut node);
    node.progress(Duration::from_secs(40));
    assert!(node.ended());
    assert!(node.cdr_opened().is_none() && node.cdr_closed().is_none());
}

#[test]
fn an_unusable_answer_in_the_ack_ends_the_call_with_our_bye() {
    let mut node = Node::invited("");
    let g729 = SIPP_SDP
        .replace("RTP/AVP 0 101", "RTP/AVP 18")
        .replace("a=rtpmap:0 PCMU/8000", "a=rtpmap:18 G729/8000");
    node.sip(&in_dialog(
        "ACK",
        1,
        "Content-Type: application/sdp\r\n",
        &g729,
    ));
    assert_eq!(node.call.negotiated(), None, "nothing agreed");
    node.sent_message("BYE ");
    node.progress(Duration::from_millis(200));
    assert!(node.rtp_sent().is_empty());
    answer_our_bye(&mut node);
    node.progress(Duration::from_secs(40));
    assert!(node.ended());
}

#[test]
fn a_frame_heard_for_the_room_or_sent_from_it_keeps_the_call_s_deadlines() {
    let mut node = Node::admitted();
    node.progress(Duration::from_millis(100));
    let packet = rtp::build(
        CALLER_SSRC,
        node.caller_seq.wrapping_add(1),
        0,
        0,
        false,
        &[0xFF; 160],
    )
    .expect("a packet");
    // Fed, as the node feeds a frame it could not read in place (`rtp` reads
    // it in place, and checks the deadlines kept as well).
    node.rtp_fed(&packet, MEDIA);
    assert!(node.call.kept_deadlines(), "a frame for the room");
    node.room_frame(&[0x55; 160]);
    node.feed(Input::Tick);
    assert!(
        !node.call.kept_deadlines(),
        "anything else is looked at again"
    );
    let event = TelephoneEvent {
        event: Digit::from_char('1').expect("a key").event_code(),
        end: false,
        volume: 10,
        duration: 160,
    };
    let key = rtp::build(
        CALLER_SSRC,
        node.caller_seq.wrapping_add(2),
        0,
        101,
        true,
        &event.to_bytes(),
    )
    .expect("a packet");
    node.rtp(&key, MEDIA);
    assert!(!node.call.kept_deadlines(), "a key's packet");
}
