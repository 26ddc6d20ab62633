//! Node scenarios on a simulated clock: sipp-shaped callers on the trunk, the shell
//! played by a harness that answers the lookups from fixtures, ticks every 20 ms,
//! meets each deadline and records every output.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use teleconf_domain::{Language, NumberAction, PhoneNumber};
use teleconf_sip::g711;
use teleconf_sip::rtp::{self, Digit, TelephoneEvent};
use teleconf_sip::testkit::{self as sipkit, DIALLED, SIPP_SDP};

use super::*;
use crate::app::cascade::CascadeSecret;
use crate::app::lookup::{Attempts, ConferenceInfo, Unavailable};
use crate::testkit::{self, LISTENER, MODERATOR, NUMBER, PARTICIPANT, utc};

mod cascade;
mod leases;
mod two_nodes;

const TRUNK: &str = "127.0.0.1";
/// The nodes' cascade secret.
const CASCADE_SECRET: &[u8] = b"the nodes' shared cascade secret";
/// How long past its conference's planned end a draining node keeps a call.
const DRAIN_GRACE: Duration = Duration::from_secs(120);
/// The SIP entry (Kamailio), in front of the node.
const ENTRY: &str = "10.0.1.1";
const PORTS: Range<u16> = 20_000..20_010;

fn addr(text: &str) -> SocketAddr {
    text.parse().expect("an address")
}

fn config(rtp_ports: Range<u16>) -> NodeConfig {
    NodeConfig {
        trunk_sources: TRUNK.parse().expect("an IP"),
        trunk_media: TRUNK.parse().expect("an IP"),
        entry_sources: ENTRY.parse().expect("an IP"),
        local_addr: addr("127.0.0.1:5060"),
        rtp_addr: Ipv4Addr::LOCALHOST,
        rtp_ports,
        timers: Timers::default(),
        drain_grace: DRAIN_GRACE,
        cascade: Some(CascadeConfig {
            sources: "10.0.0.0/24".parse().expect("the nodes' subnet"),
            secret: CascadeSecret::new(CASCADE_SECRET).expect("a secret"),
            addr: addr("127.0.0.1:5060"),
        }),
        node_id: "node-a".parse().expect("a node id"),
    }
}

fn access_number(action: NumberAction) -> PhoneNumber {
    PhoneNumber {
        action,
        ..conference_number()
    }
}

fn conference_number() -> PhoneNumber {
    testkit::conference_access_number()
}

/// sipp's INVITE as caller `n` (its own Call-ID, From tag and branch).
fn invite(n: u32) -> String {
    sipkit::sipp_invite(n, SIPP_SDP)
}

/// `message` with a [`SOURCE_HEADER`] naming `source`.
fn with_source(message: &str, source: &str) -> String {
    message.replacen(
        "\r\nCall-ID:",
        &format!("\r\n{SOURCE_HEADER}: {source}\r\nCall-ID:"),
        1,
    )
}

/// A request of caller `n` on its dialog (`to_tag`) or outside any (`None`).
fn request(n: u32, method: &str, cseq: u32, to_tag: Option<&str>) -> String {
    sipkit::sipp_request(n, method, cseq, to_tag, "", "")
}

/// A caller on the trunk: its SIP and media addresses, and what it says.
#[derive(Debug)]
struct Caller {
    n: u32,
    sip: SocketAddr,
    media: SocketAddr,
    /// Our RTP port for it, read from our 200.
    port: Option<u16>,
    /// Our To tag, read from our 200.
    tag: Option<String>,
    /// The linear level it talks at every 20 ms (`None`: sends no RTP).
    level: Option<i16>,
    seq: u16,
    dtmf_ts: u32,
}

/// The shell around one node.
struct Shell {
    node: Node,
    now: Instant,
    number: Option<PhoneNumber>,
    /// The store cannot be read: number lookups fail.
    store_down: bool,
    /// The store is slow: number lookups get no answer yet.
    numbers_held: bool,
    conference: ConferenceInfo,
    /// Who holds the rooms' leases, as the claims find it; `None`: the claims
    /// wait, their conferences in [`Shell::claims`].
    room_owner: Option<RoomOwner>,
    claims: Vec<ConferenceId>,
    callers: Vec<Caller>,
    /// Strangers that send a loud frame to every even port of [`PORTS`] every 20 ms.
    strangers: Vec<SocketAddr>,
    next_tick: Instant,
    log: Vec<Output>,
}

impl Shell {
    fn new(config: NodeConfig) -> Self {
        let now = Instant::now();
        Self {
            node: Node::new(config),
            now,
            number: Some(conference_number()),
            store_down: false,
            numbers_held: false,
            conference: testkit::seed_conference(None),
            room_owner: Some(RoomOwner::Here),
            claims: Vec::new(),
            callers: Vec::new(),
            strangers: Vec::new(),
            next_tick: now + Duration::from_millis(20),
            log: Vec::new(),
        }
    }

    fn wall_clock(&self) -> DateTime<Utc> {
        // The calls come at 13:40 UTC, the conference is open.
        utc(13, 40)
    }

    /// Feeds an input, then answers every lookup, until the node has nothing more.
    fn feed(&mut self, input: Input<'_>) {
        self.node.handle_input(input);
        while let Some(output) = self.node.poll_output() {
            let now = self.now;
            let answer = match &output {
                Output::Io(IoOutput::Lookup {
                    lookup: Lookup::Number(_),
                    ..
                }) if self.numbers_held => None,
                Output::Io(IoOutput::Lookup { call, lookup }) => {
                    let answer = match lookup {
                        Lookup::Number(_) if self.store_down => Answer::Number(Err(Unavailable)),
                        Lookup::Account(_) if self.store_down => Answer::Account(Err(Unavailable)),
                        Lookup::Account(_) => Answer::Account(Ok(Some(Language::En))),
                        Lookup::Number(e164) => {
                            Answer::Number(Ok(self.number.clone().filter(|n| n.number == *e164)))
                        }
                        Lookup::Conference(number) => Answer::Conference(
                            (*number == self.conference.number).then(|| self.conference.clone()),
                        ),
                        Lookup::Attempts { .. } | Lookup::RecordFailure { .. } => {
                            Answer::Attempts(Ok(Attempts::default()))
                        }
                        Lookup::IntroCode(_) | Lookup::Prompt(_) => {
                            panic!("not looked up here: {lookup:?}")
                        }
                    };
                    Some(Input::Answer {
                        now,
                        call: *call,
                        answer,
                    })
                }
                Output::Io(IoOutput::SendSip { to, bytes }) => {
                    self.learn(*to, bytes);
                    None
                }
                Output::Io(IoOutput::ClaimRoom(conference)) => match &self.room_owner {
                    Some(owner) => Some(Input::RoomOwner {
                        now,
                        wall_clock: utc(13, 40),
                        conference: *conference,
                        owner: owner.clone(),
                    }),
                    None => {
                        self.claims.push(*conference);
                        None
                    }
                },
                // The lease as the claims find it (claims held: nobody's yet).
                Output::Io(IoOutput::FindRoom(conference)) => Some(Input::RoomFound {
                    now,
                    wall_clock: utc(13, 40),
                    conference: *conference,
                    owner: self.room_owner.clone().unwrap_or(RoomOwner::Here),
                }),
                _ => None,
            };
            self.log.push(output);
            if let Some(answer) = answer {
                self.node.handle_input(answer);
            }
        }
    }

    /// Reads our port and tag from a 200 to an INVITE.
    /// What a caller learns from our SIP to it: its port and our tag from our
    /// 200 to its INVITE; from our BYE, that its call is over (it stops
    /// sending, as a phone does).
    fn learn(&mut self, to: SocketAddr, bytes: &[u8]) {
        let text = String::from_utf8_lossy(bytes);
        let Some(caller) = self
            .callers
            .iter_mut()
            .find(|c| c.sip == to && text.contains(&format!("Call-ID: {}-4242@", c.n)))
        else {
            return;
        };
        if text.starts_with("BYE ") {
            caller.level = None;
            return;
        }
        if !text.starts_with("SIP/2.0 200") || !text.contains("INVITE") {
            return;
        }
        caller.port = text
            .lines()
            .find_map(|line| line.strip_prefix("m=audio "))
            .and_then(|rest| rest.split(' ').next())
            .and_then(|port| port.parse().ok());
        caller.tag = text
            .lines()
            .find(|line| line.starts_with("To:"))
            .and_then(|line| line.split(";tag=").nth(1))
            .map(|tag| tag.trim().to_string());
    }

    fn datagram(&mut self, from: SocketAddr, text: &str) {
        let wall_clock = self.wall_clock();
        self.feed(Input::Datagram {
            now: self.now,
            wall_clock,
            from,
            bytes: text.as_bytes(),
        });
    }

    /// The shell's claim of the conference's lease finds `owner`.
    fn answer_claim(&mut self, owner: RoomOwner) {
        let (now, conference) = (self.now, self.conference.id);
        self.feed(Input::RoomOwner {
            now,
            wall_clock: utc(13, 40),
            conference,
            owner,
        });
    }

    /// A new caller `n` dials; returns its index.
    fn dial(&mut self, n: u32) -> usize {
        self.dial_from(n, addr(&format!("{TRUNK}:5061")), None)
    }

    /// A new caller `n` dials through `sip` (the trunk, the SIP entry…), its
    /// INVITE naming `source` in [`SOURCE_HEADER`] when given; returns its index.
    fn dial_from(&mut self, n: u32, sip: SocketAddr, source: Option<&str>) -> usize {
        let invite = match source {
            Some(source) => with_source(&invite(n), source),
            None => invite(n),
        };
        self.send_invite(n, sip, &invite)
    }

    /// A new caller `n` sends `invite` from `sip`; returns its index.
    fn send_invite(&mut self, n: u32, sip: SocketAddr, invite: &str) -> usize {
        self.callers.push(Caller {
            n,
            sip,
            media: addr(&format!("{TRUNK}:{}", 6000 + 2 * n)),
            port: None,
            tag: None,
            // Silence until told otherwise: a caller that sends nothing for 30 s
            // is hung up.
            level: Some(0),
            seq: 0,
            dtmf_ts: 1000,
        });
        self.datagram(sip, invite);
        self.callers.len() - 1
    }

    fn ack(&mut self, i: usize) {
        let caller = &self.callers[i];
        let ack = request(caller.n, "ACK", 1, caller.tag.as_deref());
        let from = caller.sip;
        self.datagram(from, &ack);
    }

    fn rtp(&mut self, i: usize, packet: &[u8]) {
        let caller = &self.callers[i];
        let (Some(port), from) = (caller.port, caller.media) else {
            return;
        };
        self.feed(Input::Rtp {
            now: self.now,
            port,
            from,
            bytes: packet,
        });
    }

    /// Runs the clock for `by`: a tick every 20 ms with each talker's frame, each
    /// deadline on time.
    fn progress(&mut self, by: Duration) {
        let until = self.now + by;
        while self.now < until {
            match self.node.poll_timeout().filter(|at| *at < self.next_tick) {
                Some(at) if at <= until => {
                    self.now = self.now.max(at);
                    self.feed(Input::Timeout(self.now));
                }
                _ if self.next_tick <= until => {
                    self.now = self.next_tick;
                    self.next_tick += Duration::from_millis(20);
                    for i in 0..self.callers.len() {
                        let Some(level) = self.callers[i].level else {
                            continue;
                        };
                        let caller = &mut self.callers[i];
                        caller.seq = caller.seq.wrapping_add(1);
                        let mut frame = Vec::new();
                        g711::encode_ulaw(&[level; 160], &mut frame);
                        let packet = rtp::build(
                            9,
                            caller.seq,
                            u32::from(caller.seq) * 160,
                            0,
                            false,
                            &frame,
                        )
                        .expect("a packet");
                        self.rtp(i, &packet);
                    }
                    self.strangers_send();
                    self.feed(Input::Tick(self.now));
                }
                _ => self.now = until,
            }
        }
    }

    /// Each stranger sends a loud frame to every even port of [`PORTS`].
    fn strangers_send(&mut self) {
        let mut frame = Vec::new();
        g711::encode_ulaw(&[9_000; 160], &mut frame);
        let packet = rtp::build(9, 1, 160, 0, false, &frame).expect("a packet");
        self.strangers_send_packet(&packet);
    }

    /// Each stranger sends `packet` to every even port of [`PORTS`].
    fn strangers_send_packet(&mut self, packet: &[u8]) {
        for from in self.strangers.clone() {
            for port in PORTS.step_by(2) {
                self.feed(Input::Rtp {
                    now: self.now,
                    port,
                    from,
                    bytes: packet,
                });
            }
        }
    }

    /// Each stranger keys `keys` as RFC 4733 events on every even port of [`PORTS`].
    fn strangers_key(&mut self, keys: &str) {
        for key in keys.chars() {
            let digit = Digit::from_char(key).expect("a key");
            for (first, (end, duration)) in [(true, (false, 160)), (false, (true, 800))] {
                let event = TelephoneEvent {
                    event: digit.event_code(),
                    end,
                    volume: 10,
                    duration,
                };
                let packet =
                    rtp::build(9, 2, 90_000, 101, first, &event.to_bytes()).expect("a packet");
                self.strangers_send_packet(&packet);
            }
            self.progress(Duration::from_millis(100));
        }
    }

    /// Keys `keys` as RFC 4733 events: a start packet, then the end three times.
    fn key(&mut self, i: usize, keys: &str) {
        for key in keys.chars() {
            let digit = Digit::from_char(key).expect("a key");
            self.callers[i].dtmf_ts += 2000;
            for (first, (end, duration)) in [
                (true, (false, 160)),
                (false, (true, 800)),
                (false, (true, 800)),
                (false, (true, 800)),
            ] {
                let event = TelephoneEvent {
                    event: digit.event_code(),
                    end,
                    volume: 10,
                    duration,
                };
                let caller = &mut self.callers[i];
                caller.seq = caller.seq.wrapping_add(1);
                let packet =
                    rtp::build(9, caller.seq, caller.dtmf_ts, 101, first, &event.to_bytes())
                        .expect("a packet");
                self.rtp(i, &packet);
            }
            self.progress(Duration::from_millis(100));
        }
    }

    /// Caller `n` dials, is greeted, keys the number and `code`: in the room.
    fn admitted(&mut self, n: u32, code: &str) -> usize {
        let i = self.dial(n);
        self.admit(i, code);
        i
    }

    /// Caller `i`, just dialled, acknowledges, is greeted, keys the number and
    /// `code`: in the room.
    fn admit(&mut self, i: usize, code: &str) {
        self.admit_within(i, code, Duration::from_millis(200));
    }

    /// Caller `i`, just dialled, acknowledges, is greeted, keys the number and
    /// `code`: in the room within `wait`.
    fn admit_within(&mut self, i: usize, code: &str, wait: Duration) {
        let n = self.callers[i].n;
        self.ack(i);
        // The greeting and the question, then the number.
        self.progress(Duration::from_secs(12));
        self.key(i, &format!("{NUMBER}#"));
        self.progress(Duration::from_secs(5));
        self.key(i, &format!("{code}#"));
        self.progress(wait);
        assert!(
            self.log
                .iter()
                .filter(|o| matches!(o, Output::Io(IoOutput::CdrOpen(_))))
                .count()
                >= self.callers.len(),
            "caller {n} admitted: {:?}",
            self.sip_sent()
        );
    }

    /// Caller `i` hangs up: its BYE (CSeq 2) on the dialog.
    /// Caller `i` hangs up: it sends BYE, and no more RTP.
    fn caller_hangs_up(&mut self, i: usize) {
        self.callers[i].level = None;
        let caller = &self.callers[i];
        let bye = request(caller.n, "BYE", 2, caller.tag.as_deref());
        let from = caller.sip;
        self.datagram(from, &bye);
    }

    fn sip_sent(&self) -> Vec<String> {
        sip_lines(&self.log)
    }

    /// The RTP packets sent to caller `i`, from `since` on in the log: from its
    /// port to its address, as a port freed by an earlier call may be drawn
    /// again for it.
    fn rtp_to(&self, i: usize, since: usize) -> impl Iterator<Item = &RtpOut> {
        let port = self.callers[i].port.expect("a port");
        let media = self.callers[i].media;
        self.log[since..]
            .iter()
            .filter_map(move |output| match output {
                Output::Media(MediaOutput::SendRtp {
                    from_port,
                    to,
                    bytes,
                }) if *from_port == port && *to == media => Some(bytes),
                _ => None,
            })
    }

    /// The mean level of each RTP frame sent to caller `i`, from `since` on in the
    /// log.
    fn heard(&self, i: usize, since: usize) -> Vec<i16> {
        self.rtp_to(i, since)
            .map(|bytes| {
                let packet = rtp::parse(bytes).expect("RTP");
                let mut pcm = Vec::new();
                g711::decode_ulaw(packet.payload, &mut pcm);
                let sum = pcm.iter().map(|&s| i32::from(s)).sum::<i32>();
                (sum / pcm.len().max(1) as i32) as i16
            })
            .collect()
    }
}

fn sip_lines(log: &[Output]) -> Vec<String> {
    log.iter()
        .filter_map(|output| match output {
            Output::Io(IoOutput::SendSip { bytes, .. }) => Some(sipkit::start_line(bytes)),
            _ => None,
        })
        .collect()
}

fn close_to(value: i16, expected: i16) -> bool {
    (i32::from(value) - i32::from(expected)).abs() <= i32::from(expected).abs() / 10 + 16
}

#[test]
fn a_source_outside_the_allow_list_gets_403() {
    let mut shell = Shell::new(config(PORTS));
    shell.datagram(addr("10.9.9.9:5060"), &invite(1));
    shell.datagram(addr("10.9.9.9:5060"), &request(1, "ACK", 1, Some("x")));
    assert_eq!(
        shell.sip_sent(),
        ["SIP/2.0 403 Forbidden"],
        "403 and nothing for the ACK"
    );
    assert_eq!(shell.node.calls(), 0);
    assert!(!shell.log.iter().any(|o| matches!(
        o,
        Output::Io(IoOutput::Lookup {
            lookup: Lookup::Number(_),
            ..
        })
    )));
}

#[test]
fn options_from_the_trunk_gets_200() {
    let mut shell = Shell::new(config(PORTS));
    shell.datagram(addr("127.0.0.1:5061"), &request(9, "OPTIONS", 1, None));
    assert_eq!(shell.sip_sent(), ["SIP/2.0 200 OK"]);
    let Output::Io(IoOutput::SendSip { to, bytes }) = &shell.log[0] else {
        panic!("a response");
    };
    assert_eq!(*to, addr("127.0.0.1:5061"));
    let text = String::from_utf8_lossy(bytes);
    assert!(
        text.contains("Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, INFO"),
        "{text}"
    );
    assert_eq!(shell.node.calls(), 0);
}

#[test]
fn garbage_gets_400_or_nothing_and_no_panic() {
    let mut shell = Shell::new(config(PORTS));
    let body_cut_short = invite(1).replace(
        &format!("Content-Length: {}", SIPP_SDP.len()),
        "Content-Length: 9999",
    );
    shell.datagram(addr("127.0.0.1:5061"), &body_cut_short);
    assert_eq!(shell.sip_sent().len(), 1);
    assert!(
        shell.sip_sent()[0].starts_with("SIP/2.0 400"),
        "{:?}",
        shell.sip_sent()
    );
    for garbage in [
        &b""[..],
        b"\r\n\r\n",
        b"\xff\xfe\x00garbage",
        b"SIP/2.0 200 OK\r\n\r\n",
        b"INVITE\r\n",
    ] {
        shell.feed(Input::Datagram {
            now: shell.now,
            wall_clock: utc(13, 40),
            from: addr("127.0.0.1:5061"),
            bytes: garbage,
        });
    }
    assert!(
        shell
            .sip_sent()
            .iter()
            .all(|line| line.starts_with("SIP/2.0 400")),
        "{:?}",
        shell.sip_sent()
    );
    // Garbage on an RTP port nobody owns, and on none.
    shell.feed(Input::Rtp {
        now: shell.now,
        port: 20_000,
        from: addr("127.0.0.1:6000"),
        bytes: b"\x80",
    });
    assert_eq!(shell.node.calls(), 0);
}

#[test]
fn an_invite_for_an_unknown_number_gets_404() {
    let mut shell = Shell::new(config(PORTS));
    shell.number = None;
    shell.dial(1);
    assert_eq!(shell.sip_sent(), ["SIP/2.0 404 Not Found"]);
    assert_eq!(shell.node.calls(), 0);
    assert!(
        !shell
            .log
            .iter()
            .any(|o| matches!(o, Output::Media(MediaOutput::BindRtp(_))))
    );
}

#[test]
fn an_invite_while_the_store_is_unreachable_gets_503_and_the_next_one_is_served() {
    let mut shell = Shell::new(config(PORTS));
    shell.store_down = true;
    shell.dial(1);
    assert_eq!(shell.sip_sent(), ["SIP/2.0 503 Service Unavailable"]);
    assert_eq!(shell.node.calls(), 0);
    shell.store_down = false;
    shell.log.clear();
    shell.dial(2);
    assert_eq!(shell.node.calls(), 1);
}

#[test]
fn an_invite_without_an_rfc_3261_branch_gets_400_and_keeps_no_port() {
    // Found by the whole-node fuzz: such an INVITE took a port that nothing freed.
    for via in [";branch=1234", ""] {
        let mut shell = Shell::new(config(PORTS));
        let keyless = invite(1).replace(";branch=z9hG4bK-4242-1-0", via);
        assert_ne!(keyless, invite(1), "the branch is replaced");
        shell.datagram(addr("127.0.0.1:5061"), &keyless);
        assert_eq!(shell.sip_sent(), ["SIP/2.0 400 Bad Request"], "{via:?}");
        assert_eq!(shell.node.calls(), 0, "{via:?}");
        assert!(
            !shell
                .log
                .iter()
                .any(|o| matches!(o, Output::Media(MediaOutput::BindRtp(_))))
        );
    }
}

#[test]
fn an_invite_for_a_number_without_conference_access_gets_404() {
    let mut shell = Shell::new(config(PORTS));
    shell.number = Some(access_number(NumberAction::None));
    shell.dial(1);
    assert_eq!(shell.sip_sent(), ["SIP/2.0 404 Not Found"]);
    assert_eq!(shell.node.calls(), 0);
}

#[test]
fn an_invite_for_a_conference_number_creates_a_call_and_binds_an_rtp_port() {
    let mut shell = Shell::new(config(PORTS));
    let i = shell.dial(1);
    assert!(shell.log.contains(&Output::Io(IoOutput::Lookup {
        call: CallKey(0),
        lookup: Lookup::Number(DIALLED.parse().expect("an E.164 number")),
    })));
    let port = shell.callers[i].port.expect("the SDP answer names a port");
    assert!(
        shell
            .log
            .contains(&Output::Media(MediaOutput::BindRtp(port))),
        "the SDP answer names the bound port"
    );
    assert_eq!(shell.sip_sent(), ["SIP/2.0 100 Trying", "SIP/2.0 200 OK"]);
    assert_eq!(shell.node.calls(), 1);
    shell.ack(i);
    shell.progress(Duration::from_secs(1));
    // To where the caller's media comes from (symmetric RTP), from its port.
    let prompts = shell
        .log
        .iter()
        .filter(|o| matches!(o, Output::Media(MediaOutput::SendRtp { from_port, to, .. }) if *from_port == port && *to == addr("127.0.0.1:6002")))
        .count();
    assert!(
        prompts >= 45,
        "the greeting goes out on the call's port: {prompts}"
    );
}

#[test]
fn a_retransmitted_invite_reaches_the_same_call() {
    let mut shell = Shell::new(config(PORTS));
    shell.dial(1);
    shell.datagram(addr("127.0.0.1:5061"), &invite(1));
    assert_eq!(shell.node.calls(), 1);
    assert_eq!(
        shell
            .log
            .iter()
            .filter(|o| matches!(o, Output::Media(MediaOutput::BindRtp(_))))
            .count(),
        1
    );
    assert_eq!(
        shell
            .log
            .iter()
            .filter(|o| matches!(
                o,
                Output::Io(IoOutput::Lookup {
                    lookup: Lookup::Number(_),
                    ..
                })
            ))
            .count(),
        1,
        "looked up once"
    );
    // The call's INVITE transaction absorbs it (RFC 6026's Accepted state): no
    // second call, no 404 nor 503.
    assert_eq!(shell.sip_sent(), ["SIP/2.0 100 Trying", "SIP/2.0 200 OK"]);
}

#[test]
fn two_admitted_callers_share_one_room_and_hear_each_other() {
    let mut shell = Shell::new(config(PORTS));
    let a = shell.admitted(1, PARTICIPANT);
    let b = shell.admitted(2, PARTICIPANT);
    assert_eq!(shell.node.rooms(), 1);
    shell.callers[a].level = Some(2000);
    shell.callers[b].level = Some(-5000);
    shell.progress(Duration::from_millis(500));
    they_hear_each_other_only(&mut shell, a, b);
}

/// Over the next half second, `a` (talking at 2000) hears only `b` (at -5000), and
/// `b` only `a`.
fn they_hear_each_other_only(shell: &mut Shell, a: usize, b: usize) {
    let since = shell.log.len();
    shell.progress(Duration::from_millis(500));
    let a_hears = shell.heard(a, since);
    let b_hears = shell.heard(b, since);
    assert!(
        a_hears.len() >= 20 && b_hears.len() >= 20,
        "{} / {}",
        a_hears.len(),
        b_hears.len()
    );
    assert!(
        a_hears.iter().all(|&l| close_to(l, -5000)),
        "A hears B only: {a_hears:?}"
    );
    assert!(
        b_hears.iter().all(|&l| close_to(l, 2000)),
        "B hears A only: {b_hears:?}"
    );
}

#[test]
fn a_listener_admitted_to_the_room_is_never_heard_by_the_others() {
    let mut shell = Shell::new(config(PORTS));
    let a = shell.admitted(1, PARTICIPANT);
    let b = shell.admitted(2, PARTICIPANT);
    let l = shell.admitted(3, LISTENER);
    shell.callers[a].level = Some(2000);
    shell.callers[l].level = Some(-8000);
    shell.progress(Duration::from_millis(500));
    let since = shell.log.len();
    shell.progress(Duration::from_millis(500));
    let a_hears = shell.heard(a, since);
    let b_hears = shell.heard(b, since);
    let l_hears = shell.heard(l, since);
    assert!(a_hears.len() >= 20, "{}", a_hears.len());
    assert!(
        a_hears.iter().all(|&x| x.abs() <= 16),
        "A hears silence, not the listener: {a_hears:?}"
    );
    assert!(
        b_hears.iter().all(|&x| close_to(x, 2000)),
        "B hears A, not the listener: {b_hears:?}"
    );
    assert!(
        l_hears.iter().all(|&x| close_to(x, 2000)),
        "the listener hears A: {l_hears:?}"
    );
}

#[test]
fn a_participant_keying_star_6_is_not_heard_until_it_keys_it_again() {
    let mut shell = Shell::new(config(PORTS));
    let a = shell.admitted(1, PARTICIPANT);
    let b = shell.admitted(2, PARTICIPANT);
    shell.callers[a].level = Some(2000);
    shell.key(a, "*6");
    shell.progress(Duration::from_secs(3));
    let since = shell.log.len();
    shell.progress(Duration::from_millis(500));
    let b_hears = shell.heard(b, since);
    assert!(
        b_hears.len() >= 20 && b_hears.iter().all(|&x| x.abs() <= 16),
        "{b_hears:?}"
    );
    shell.key(a, "*6");
    shell.progress(Duration::from_secs(3));
    let since = shell.log.len();
    shell.progress(Duration::from_millis(500));
    let b_hears = shell.heard(b, since);
    assert!(
        b_hears.len() >= 20 && b_hears.iter().all(|&x| close_to(x, 2000)),
        "{b_hears:?}"
    );
}

#[test]
fn a_moderator_locks_the_conference_and_a_participant_calling_next_is_turned_away() {
    let mut shell = Shell::new(config(PORTS));
    let m = shell.admitted(1, MODERATOR);
    shell.key(m, "*7");
    shell.progress(Duration::from_secs(3));
    let i = shell.dial(2);
    shell.ack(i);
    shell.progress(Duration::from_secs(12));
    shell.key(i, &format!("{NUMBER}#"));
    shell.progress(Duration::from_secs(5));
    shell.key(i, &format!("{PARTICIPANT}#"));
    shell.progress(Duration::from_secs(10));
    let opened = shell
        .log
        .iter()
        .filter(|o| matches!(o, Output::Io(IoOutput::CdrOpen(_))))
        .count();
    assert_eq!(opened, 1, "only the moderator is in");
    assert!(shell.sip_sent().iter().any(|line| line.starts_with("BYE ")));
    // Its BYE unanswered here, the refused call goes when the BYE times out.
    shell.progress(Duration::from_secs(33));
    assert_eq!(shell.node.calls(), 1);
}

#[test]
fn a_moderator_removes_the_last_caller_who_joined() {
    let mut shell = Shell::new(config(PORTS));
    let m = shell.admitted(1, MODERATOR);
    shell.admitted(2, PARTICIPANT);
    shell.admitted(3, LISTENER);
    shell.key(m, "*9");
    shell.progress(Duration::from_secs(1));
    let closed: Vec<_> = shell
        .log
        .iter()
        .filter_map(|o| match o {
            Output::Io(IoOutput::CdrClose(leg)) => Some((leg.role, leg.cause)),
            _ => None,
        })
        .collect();
    assert_eq!(
        closed,
        [(
            teleconf_domain::CallerRole::Listener,
            Some(teleconf_domain::DisconnectCause::ModeratorKick)
        )]
    );
}

#[test]
fn a_recording_holds_the_mix_never_a_listener_pauses_on_star_8_and_ends_with_the_room() {
    let mut shell = Shell::new(config(PORTS));
    shell.conference.record = true;
    let m = shell.admitted(1, MODERATOR);
    let p = shell.admitted(2, PARTICIPANT);
    let l = shell.admitted(3, LISTENER);
    shell.callers[l].level = Some(-8000);
    let starts = |log: &[Output]| {
        log.iter()
            .filter(|o| matches!(o, Output::Media(MediaOutput::RecordingStart { .. })))
            .count()
    };
    assert_eq!(starts(&shell.log), 1, "one recording per conference");
    shell.callers[p].level = Some(3000);
    shell.progress(Duration::from_millis(500));
    let frames = |log: &[Output]| -> Vec<i16> {
        log.iter()
            .filter_map(|o| match o {
                Output::Media(MediaOutput::RecordFrame { pcm, .. }) => {
                    Some((pcm.iter().map(|&s| i32::from(s)).sum::<i32>() / 160) as i16)
                }
                _ => None,
            })
            .collect()
    };
    let since = shell.log.len();
    shell.progress(Duration::from_millis(400));
    let recorded = frames(&shell.log[since..]);
    assert!(
        recorded.len() >= 19,
        "a frame every 20 ms: {}",
        recorded.len()
    );
    assert!(recorded.iter().all(|&x| close_to(x, 3000)), "{recorded:?}");

    shell.key(m, "*8");
    let since = shell.log.len();
    shell.progress(Duration::from_millis(400));
    assert!(frames(&shell.log[since..]).is_empty(), "paused");
    shell.key(m, "*8");
    let since = shell.log.len();
    shell.progress(Duration::from_millis(400));
    assert!(!frames(&shell.log[since..]).is_empty(), "resumed");

    for i in [m, p, l] {
        shell.caller_hangs_up(i);
    }
    assert!(
        shell
            .log
            .iter()
            .any(|o| matches!(o, Output::Media(MediaOutput::RecordingStop { .. })))
    );
}

#[test]
fn a_closed_leg_carries_its_reception_figures() {
    let mut shell = Shell::new(config(PORTS));
    let a = shell.admitted(1, PARTICIPANT);
    shell.callers[a].level = Some(1000);
    shell.progress(Duration::from_secs(1));
    shell.caller_hangs_up(a);
    let quality = shell
        .log
        .iter()
        .find_map(|o| match o {
            Output::Io(IoOutput::CdrClose(leg)) => leg.quality,
            _ => None,
        })
        .expect("the closed leg has its figures");
    assert!(quality.packets_received >= 45, "{quality:?}");
    assert!(quality.packets_lost <= 2, "{quality:?}");
}

#[test]
fn the_live_view_follows_a_caller_in_mutes_and_out_and_mutes_reach_the_activity_feed() {
    let mut shell = Shell::new(config(PORTS));
    let a = shell.admitted(1, PARTICIPANT);
    let live = |log: &[Output]| -> Vec<LiveUpdate> {
        log.iter()
            .filter_map(|o| match o {
                Output::Io(IoOutput::Live(update)) => Some(update.clone()),
                _ => None,
            })
            .collect()
    };
    let updates = live(&shell.log);
    assert!(
        matches!(&updates[..], [LiveUpdate::Put(p)] if !p.muted && p.caller_id == "sipp"),
        "{updates:?}"
    );
    let since = shell.log.len();
    shell.key(a, "*6");
    let updates = live(&shell.log[since..]);
    assert!(
        matches!(&updates[..], [LiveUpdate::Put(p)] if p.muted),
        "{updates:?}"
    );
    assert!(shell.log[since..].iter().any(|o| matches!(
        o,
        Output::Io(IoOutput::Activity {
            kind: teleconf_domain::ActivityKind::CallerMuted,
            ..
        })
    )));
    let since = shell.log.len();
    shell.caller_hangs_up(a);
    let updates = live(&shell.log[since..]);
    assert!(
        matches!(&updates[..], [LiveUpdate::Remove { .. }]),
        "{updates:?}"
    );
}

#[test]
fn the_last_leg_leaving_drops_the_room() {
    let mut shell = Shell::new(config(PORTS));
    let a = shell.admitted(1, PARTICIPANT);
    let b = shell.admitted(2, PARTICIPANT);
    assert_eq!(shell.node.rooms(), 1);
    for i in [a, b] {
        shell.caller_hangs_up(i);
        shell.progress(Duration::from_millis(40));
        if i == a {
            assert_eq!(shell.node.rooms(), 1, "B is still in");
        }
    }
    assert_eq!(shell.node.rooms(), 0);
    assert_eq!(
        shell
            .log
            .iter()
            .filter(|o| matches!(o, Output::Io(IoOutput::CdrClose(_))))
            .count(),
        2
    );
}

#[test]
fn the_node_is_due_at_its_room_s_next_frame_and_a_dropped_room_is_due_no_more() {
    let mut shell = Shell::new(config(PORTS));
    let a = shell.admitted(1, PARTICIPANT);
    for _ in 0..3 {
        shell.progress(Duration::from_millis(7));
        let room = shell
            .node
            .rooms
            .iter()
            .map(|(id, room)| (room.poll_timeout().expect("a deadline"), *id))
            .collect::<Vec<_>>();
        assert_eq!(
            shell
                .node
                .room_deadlines
                .iter()
                .copied()
                .collect::<Vec<_>>(),
            room,
            "the room's deadline, as it moves"
        );
        assert!(shell.node.poll_timeout() <= Some(room[0].0));
    }
    shell.caller_hangs_up(a);
    shell.progress(Duration::from_millis(40));
    assert_eq!(shell.node.rooms(), 0);
    assert!(shell.node.room_deadlines.is_empty(), "no room, nothing due");
}

#[test]
fn a_caller_silent_for_30_seconds_after_streaming_is_hung_up_then_and_not_before() {
    let mut shell = Shell::new(config(PORTS));
    let a = shell.admitted(1, PARTICIPANT);
    let closed = |shell: &Shell| {
        shell
            .log
            .iter()
            .filter_map(|o| match o {
                Output::Io(IoOutput::CdrClose(cdr)) => Some(cdr.cause),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    shell.progress(Duration::from_secs(10));
    shell.callers[a].level = None;
    shell.progress(Duration::from_secs(29));
    assert!(closed(&shell).is_empty(), "still within the RTP timeout");
    shell.progress(Duration::from_secs(2));
    assert_eq!(
        closed(&shell),
        [Some(teleconf_domain::DisconnectCause::RtpTimeout)]
    );
}

#[test]
fn rtp_ports_are_drawn_at_random_from_the_free_ones() {
    let ports: std::collections::BTreeSet<u16> = (1..=20)
        .map(|_| {
            let mut shell = Shell::new(config(20_000..20_200));
            let i = shell.dial(1);
            shell.callers[i].port.expect("a port")
        })
        .collect();
    assert!(
        ports.len() >= 5,
        "the first call of 20 nodes got {ports:?}: not drawn at random"
    );
    assert!(
        ports
            .iter()
            .all(|p| p % 2 == 0 && (20_000..20_200).contains(p))
    );
}

#[test]
fn a_stranger_sending_to_every_port_is_heard_by_nobody_keys_nothing_gets_nothing_and_is_counted() {
    let mut shell = Shell::new(config(PORTS));
    let a = shell.admitted(1, PARTICIPANT);
    let b = shell.admitted(2, PARTICIPANT);
    shell.callers[a].level = Some(2000);
    shell.callers[b].level = Some(-5000);
    // One stranger outside the trunk's media sources, one on the trunk's host.
    let strangers = [addr("10.66.0.1:6000"), addr(&format!("{TRUNK}:7777"))];
    shell.strangers = strangers.to_vec();
    shell.progress(Duration::from_millis(500));
    // `*6` would mute a participant: the other would hear silence.
    shell.strangers_key("*6");
    shell.progress(Duration::from_secs(3));
    they_hear_each_other_only(&mut shell, a, b);
    assert!(
        !shell.log.iter().any(|o| matches!(
            o,
            Output::Media(MediaOutput::SendRtp { to, .. }) | Output::Io(IoOutput::SendSip { to, .. }) if strangers.contains(to)
        )),
        "nothing is sent to a stranger"
    );
    let dropped = shell.node.media_stats().rtp_dropped;
    assert!(dropped.foreign_source >= 2 * 2 * 150, "{dropped:?}");
    assert_eq!(dropped.foreign_ssrc, 0);
}

#[test]
fn ports_are_released_when_calls_end() {
    // One even port: the next call can only get it back once it is released.
    let mut shell = Shell::new(config(20_000..20_002));
    let a = shell.admitted(1, PARTICIPANT);
    let port = shell.callers[a].port.expect("a port");
    shell.caller_hangs_up(a);
    assert!(sip_lines(&shell.log).contains(&"SIP/2.0 200 OK".to_string()));
    // Timer J keeps the BYE's transaction for 64*T1 to absorb retransmissions.
    shell.progress(Duration::from_secs(33));
    assert!(
        shell
            .log
            .contains(&Output::Media(MediaOutput::ReleaseRtp(port))),
        "released"
    );
    assert_eq!(shell.node.calls(), 0);
    // The next call gets the port again.
    shell.dial(2);
    assert_eq!(
        shell
            .log
            .iter()
            .filter(|o| **o == Output::Media(MediaOutput::BindRtp(port)))
            .count(),
        2
    );
}

#[test]
fn a_port_rests_after_its_call_so_the_ended_call_s_late_packets_never_take_the_next_one() {
    // Two even ports, and a trunk that goes on sending after each BYE: were a
    // new call given the port just released, that stream (from the trunk's
    // host, so latched) would be taken for its caller's, and its keys lost.
    // Five calls in a row: each would have had one chance in two.
    let mut shell = Shell::new(config(20_000..20_004));
    let mut ended: Option<usize> = None;
    for n in 1..=5 {
        let i = shell.dial(n);
        if let Some(e) = ended {
            assert_ne!(shell.callers[i].port, shell.callers[e].port, "call {n}");
        }
        shell.admit(i, PARTICIPANT);
        if let Some(e) = ended {
            shell.callers[e].level = None;
        }
        shell.caller_hangs_up(i);
        shell.callers[i].level = Some(0);
        // Timer J: the call and its port go 64*T1 after the BYE.
        shell.progress(Duration::from_secs(33));
        assert_eq!(shell.node.calls(), 0);
        ended = Some(i);
    }
}

#[test]
fn no_port_left_gets_503() {
    let mut shell = Shell::new(config(20_000..20_002));
    shell.dial(1);
    assert_eq!(shell.node.calls(), 1);
    let before = shell.log.len();
    shell.dial(2);
    assert_eq!(
        sip_lines(&shell.log[before..]),
        ["SIP/2.0 503 Service Unavailable"]
    );
    assert_eq!(shell.node.calls(), 1);
}

/// The SIP sent in `log`, whole.
fn sip_texts(log: &[Output]) -> Vec<String> {
    log.iter()
        .filter_map(|output| match output {
            Output::Io(IoOutput::SendSip { bytes, .. }) => {
                Some(String::from_utf8_lossy(bytes).into_owned())
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_new_call_whose_lookup_is_slow_hears_100_trying_within_200_ms_and_again_for_its_retransmission()
{
    let mut shell = Shell::new(config(PORTS));
    shell.numbers_held = true;
    shell.dial(1);
    let lookups = |log: &[Output]| {
        log.iter()
            .filter(|output| {
                matches!(
                    output,
                    Output::Io(IoOutput::Lookup {
                        lookup: Lookup::Number(_),
                        ..
                    })
                )
            })
            .count()
    };
    let trying = |texts: &[String]| {
        texts.len() == 1
            && texts[0].starts_with("SIP/2.0 100 Trying\r\n")
            && texts[0]
                .lines()
                .find(|line| line.starts_with("To:"))
                .is_some_and(|to| !to.contains("tag="))
    };
    let trunk = addr(&format!("{TRUNK}:5061"));
    // Within 200 ms, the lookup may still answer: nothing yet, and a
    // retransmission is absorbed.
    shell.progress(Duration::from_millis(150));
    shell.datagram(trunk, &invite(1));
    assert!(
        sip_texts(&shell.log).is_empty(),
        "{:?}",
        sip_texts(&shell.log)
    );
    shell.progress(Duration::from_millis(60));
    let texts = sip_texts(&shell.log);
    assert!(trying(&texts), "{texts:?}");
    assert_eq!(lookups(&shell.log), 1);

    // The caller's INVITE again (its Timer A): our 100 again, no second lookup.
    let before = shell.log.len();
    shell.datagram(trunk, &invite(1));
    let again = sip_texts(&shell.log[before..]);
    assert!(trying(&again), "{again:?}");
    shell.progress(Duration::from_secs(1));
    assert!(
        sip_texts(&shell.log[before..]).len() == 1,
        "one 100 per INVITE"
    );
    assert_eq!(lookups(&shell.log), 1);
    assert_eq!(shell.node.calls(), 0, "no call until its number is found");
}

#[test]
fn new_calls_waiting_for_their_lookup_are_capped_the_next_gets_503_and_their_retransmissions_are_absorbed()
 {
    let mut shell = Shell::new(config(20_000..22_000));
    shell.numbers_held = true;
    let max = u32::try_from(super::sip::MAX_PENDING).expect("small");
    for n in 1..=max {
        shell.dial(n);
    }
    assert_eq!(shell.node.media_stats().calls_shed, 0);
    let before = shell.log.len();
    shell.dial(max + 1);
    let refusals = sip_texts(&shell.log[before..]);
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    assert!(
        refusals[0].starts_with("SIP/2.0 503 Service Unavailable")
            && refusals[0].contains("Retry-After: 5\r\n"),
        "{refusals:?}"
    );
    assert_eq!(shell.node.media_stats().calls_shed, 1);
    // A waiting call's retransmission is its own, not a new call: absorbed.
    let before = shell.log.len();
    shell.datagram(addr(&format!("{TRUNK}:5061")), &invite(7));
    assert!(sip_texts(&shell.log[before..]).is_empty());
    assert_eq!(shell.node.media_stats().calls_shed, 1);
}

#[test]
fn a_node_past_its_core_sheds_new_calls_with_503_and_keeps_its_callers() {
    let mut shell = Shell::new(config(PORTS));
    let first = shell.admitted(1, PARTICIPANT);
    shell.feed(Input::Load(0.95));
    assert!(!shell.node.is_overloaded(), "busy, not past its core");
    shell.feed(Input::Load(0.99));
    assert!(shell.node.is_overloaded());

    let before = shell.log.len();
    shell.dial(2);
    let refusals = sip_texts(&shell.log[before..]);
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    assert!(
        refusals[0].starts_with("SIP/2.0 503 Service Unavailable"),
        "{refusals:?}"
    );
    assert!(refusals[0].contains("Retry-After: 5\r\n"), "{refusals:?}");
    assert_eq!(shell.node.calls(), 1, "the caller in the conference stays");
    assert_eq!(shell.node.media_stats().calls_shed, 1);
    let heard = shell.log.len();
    shell.progress(Duration::from_secs(1));
    assert!(!shell.heard(first, heard).is_empty(), "its room goes on");

    // Still busy above the relief mark: still shedding, no flapping.
    shell.feed(Input::Load(0.93));
    assert!(shell.node.is_overloaded());
    shell.feed(Input::Load(0.5));
    assert!(!shell.node.is_overloaded());
    let before = shell.log.len();
    shell.dial(3);
    assert!(
        sip_lines(&shell.log[before..])
            .iter()
            .all(|line| !line.starts_with("SIP/2.0 503")),
        "{:?}",
        shell.sip_sent()
    );
    assert_eq!(shell.node.calls(), 2, "new calls taken again");
}

#[test]
fn a_draining_node_refuses_new_calls_and_hanging_up_all_closes_every_leg() {
    let mut shell = Shell::new(config(PORTS));
    shell.admitted(1, PARTICIPANT);
    shell.feed(Input::Drain(shell.now));
    let before = shell.log.len();
    shell.dial(2);
    assert_eq!(
        sip_lines(&shell.log[before..]),
        ["SIP/2.0 503 Service Unavailable"]
    );
    assert_eq!(shell.node.calls(), 1, "the call up goes on");

    let before = shell.log.len();
    shell.feed(Input::HangUpAll(shell.now));
    assert!(
        sip_lines(&shell.log[before..])
            .iter()
            .any(|line| line.starts_with("BYE ")),
        "{:?}",
        sip_lines(&shell.log[before..])
    );
    assert_eq!(
        closed_causes(&shell.log[before..]),
        [teleconf_domain::DisconnectCause::BridgeHangup]
    );
    // Unanswered, the BYE's transaction times out (64*T1) and the call is gone.
    shell.progress(Duration::from_secs(33));
    assert_eq!(shell.node.calls(), 0);
    assert_eq!(shell.node.rooms(), 0);
}

#[test]
fn an_in_dialog_request_for_an_unknown_call_gets_481() {
    let mut shell = Shell::new(config(PORTS));
    shell.datagram(addr("127.0.0.1:5061"), &request(7, "BYE", 2, Some("gone")));
    shell.datagram(addr("127.0.0.1:5061"), &request(7, "ACK", 1, Some("gone")));
    assert_eq!(
        shell.sip_sent(),
        ["SIP/2.0 481 Call/Transaction Does Not Exist"],
        "and nothing for the ACK"
    );
    // A response for no call is dropped.
    let response = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx\r\n\
From: <sip:conference@127.0.0.1>;tag=a\r\nTo: <sip:x@127.0.0.1>;tag=b\r\n\
Call-ID: nobody\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n";
    shell.datagram(addr("127.0.0.1:5061"), response);
    assert_eq!(shell.sip_sent().len(), 1);
}

/// sipp's INVITE as caller `n`, dialling `*44`.
fn star44_invite(n: u32) -> String {
    invite(n).replace("INVITE sip:+33100000000@", "INVITE sip:*44@")
}

/// `account`'s IP phone known by `source` (an address or a SIP identity).
fn ip_phone(account: AccountId, source: &str) -> teleconf_domain::IpPhone {
    teleconf_domain::IpPhone::new(account, source.parse().expect("a source"), "", utc(9, 0))
        .expect("an IP phone")
}

impl Shell {
    /// The shell read these IP phones from the store.
    fn ip_phones(&mut self, phones: Vec<teleconf_domain::IpPhone>) {
        self.feed(Input::IpPhones(phones.into_iter().collect()));
    }

    /// The account each `*44` lookup asked for.
    fn star44_lookups(&self) -> Vec<AccountId> {
        self.log
            .iter()
            .filter_map(|o| match o {
                Output::Io(IoOutput::Lookup {
                    lookup: Lookup::Account(account),
                    ..
                }) => Some(*account),
                _ => None,
            })
            .collect()
    }
}

#[test]
fn star44_from_an_ip_phones_address_skips_the_number_lookup_and_asks_for_its_account() {
    let phone: IpAddr = "10.0.0.5".parse().expect("an IP");
    let account = AccountId::new();
    let mut shell = Shell::new(config(PORTS));
    shell.ip_phones(vec![ip_phone(account, "10.0.0.5")]);
    shell.datagram(SocketAddr::new(phone, 5060), &star44_invite(1));
    assert!(!shell.log.iter().any(|o| matches!(
        o,
        Output::Io(IoOutput::Lookup {
            lookup: Lookup::Number(_),
            ..
        })
    )));
    assert_eq!(shell.star44_lookups(), [account]);
    assert!(
        shell
            .log
            .iter()
            .any(|o| matches!(o, Output::Media(MediaOutput::BindRtp(_))))
    );
    assert_eq!(shell.sip_sent(), ["SIP/2.0 100 Trying", "SIP/2.0 200 OK"]);
}

#[test]
fn star44_from_no_accounts_ip_phone_gets_403() {
    let mut shell = Shell::new(config(PORTS));
    shell.ip_phones(vec![ip_phone(AccountId::new(), "10.0.0.5")]);
    // Through the trunk, with an identity no account holds.
    shell.datagram(addr("127.0.0.1:5061"), &star44_invite(1));
    // From an address no account holds: not served at all.
    shell.datagram(addr("10.0.0.6:5060"), &star44_invite(2));
    assert_eq!(
        shell.sip_sent(),
        ["SIP/2.0 403 Forbidden", "SIP/2.0 403 Forbidden"]
    );
    assert!(shell.star44_lookups().is_empty());
    assert_eq!(shell.node.calls(), 0);
}

#[test]
fn star44_through_the_trunk_is_known_by_the_identity_the_trunk_asserts() {
    let account = AccountId::new();
    let mut shell = Shell::new(config(PORTS));
    // sipp's From is sip:sipp@127.0.0.1:5061: the identity is its user and host.
    shell.ip_phones(vec![ip_phone(account, "sip:sipp@127.0.0.1")]);
    shell.datagram(addr("127.0.0.1:5061"), &star44_invite(1));
    assert_eq!(shell.star44_lookups(), [account]);
    assert_eq!(shell.sip_sent(), ["SIP/2.0 100 Trying", "SIP/2.0 200 OK"]);
    // The trunk asserts another identity (RFC 3325): the From is not believed.
    let asserted = star44_invite(2).replace(
        "Subject: Performance Test\r\n",
        "Subject: Performance Test\r\nP-Asserted-Identity: <sip:lobby@127.0.0.1>\r\n",
    );
    shell.datagram(addr("127.0.0.1:5061"), &asserted);
    assert_eq!(
        shell.sip_sent().last().map(String::as_str),
        Some("SIP/2.0 403 Forbidden")
    );
    assert_eq!(shell.star44_lookups(), [account]);
}

#[test]
fn a_removed_ip_phone_is_refused_from_the_next_read_of_the_store() {
    let phone = addr("10.0.0.5:5060");
    let mut shell = Shell::new(config(PORTS));
    shell.ip_phones(vec![ip_phone(AccountId::new(), "10.0.0.5")]);
    shell.ip_phones(Vec::new());
    shell.datagram(phone, &star44_invite(1));
    shell.datagram(phone, &request(2, "OPTIONS", 1, None));
    assert_eq!(
        shell.sip_sent(),
        ["SIP/2.0 403 Forbidden", "SIP/2.0 403 Forbidden"]
    );
    assert_eq!(shell.node.calls(), 0);
}

#[test]
fn star44_of_an_account_that_is_gone_gets_403() {
    let phone: IpAddr = "10.0.0.5".parse().expect("an IP");
    let mut shell = Shell::new(config(PORTS));
    shell.ip_phones(vec![ip_phone(AccountId::new(), "10.0.0.5")]);
    let star44 = star44_invite(1);
    shell.node.handle_input(Input::Datagram {
        now: shell.now,
        wall_clock: shell.wall_clock(),
        from: SocketAddr::new(phone, 5060),
        bytes: star44.as_bytes(),
    });
    let call = match shell.node.poll_output() {
        Some(Output::Io(IoOutput::Lookup {
            call,
            lookup: Lookup::Account(_),
        })) => call,
        other => panic!("expected the account lookup, got {other:?}"),
    };
    shell.feed(Input::Answer {
        now: shell.now,
        call,
        answer: Answer::Account(Ok(None)),
    });
    assert_eq!(shell.sip_sent(), ["SIP/2.0 403 Forbidden"]);
    assert_eq!(shell.node.calls(), 0);
}

/// An event's message and the call it names, if any.
type Named = (String, Option<String>);

/// Every event logged, with the call it names: its own `call_id` field, else the
/// innermost span in scope that has one.
#[derive(Clone, Default)]
struct CallIds(Arc<std::sync::Mutex<Vec<Named>>>);

/// A span's `call_id`, kept in its extensions.
struct SpanCallId(String);

/// Reads one field, `call_id`, and the message.
#[derive(Default)]
struct Fields {
    call_id: Option<String>,
    message: String,
}

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "call_id" => self.call_id = Some(format!("{value:?}")),
            "message" => self.message = format!("{value:?}"),
            _ => {}
        }
    }
}

impl<S> tracing_subscriber::Layer<S> for CallIds
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let (Some(call_id), Some(span)) = (fields.call_id, ctx.span(id)) {
            span.extensions_mut().insert(SpanCallId(call_id));
        }
    }

    fn on_event(&self, event: &tracing::Event<'_>, ctx: tracing_subscriber::layer::Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let call_id = fields.call_id.or_else(|| {
            ctx.event_scope(event)?
                .find_map(|span| span.extensions().get::<SpanCallId>().map(|id| id.0.clone()))
        });
        self.0
            .lock()
            .expect("the events")
            .push((fields.message, call_id));
    }
}

#[test]
fn every_line_a_call_logs_names_the_call_from_its_invite_to_its_end() {
    use tracing_subscriber::layer::SubscriberExt;

    // tracing caches whether a callsite is wanted when it is first hit: with one
    // dispatcher registered, by asking the hitting thread's own, so a callsite a
    // parallel test hits first (it has none) would be cached as unwanted and this
    // test would miss its events. With a second dispatcher alive, tracing asks
    // every live one instead, under a lock.
    static SECOND: std::sync::OnceLock<tracing::Dispatch> = std::sync::OnceLock::new();
    SECOND.get_or_init(|| tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()));
    let events = CallIds::default();
    let subscriber = tracing_subscriber::registry().with(events.clone());
    tracing::subscriber::with_default(subscriber, || {
        let mut shell = Shell::new(config(PORTS));
        // A moderator, and a participant who mutes, is muted by the moderator's
        // lecture mode, hangs up; a caller who keys a wrong number.
        let m = shell.admitted(1, MODERATOR);
        let p = shell.admitted(2, PARTICIPANT);
        shell.callers[p].level = Some(2000);
        shell.key(p, "*6");
        shell.key(m, "*5");
        shell.progress(Duration::from_secs(3));
        let w = shell.dial(3);
        shell.ack(w);
        shell.progress(Duration::from_secs(12));
        shell.key(w, "1111111#");
        shell.progress(Duration::from_secs(5));
        for i in [p, m, w] {
            shell.caller_hangs_up(i);
        }
        shell.progress(Duration::from_secs(33));
        assert_eq!(shell.node.calls(), 0);
    });
    let events = events.0.lock().expect("the events").clone();
    assert!(
        events.len() > 10,
        "the calls logged their steps: {events:?}"
    );
    let calls: Vec<String> = (1..=3).map(|n| format!("{n}-4242@")).collect();
    for (message, call_id) in &events {
        assert!(
            call_id
                .as_deref()
                .is_some_and(|id| calls.iter().any(|call| id.starts_with(call.as_str()))),
            "{message:?} names no call ({call_id:?}): {events:#?}"
        );
    }
    for call in &calls {
        for step in ["node: new call", "node: call ended"] {
            assert!(
                events.iter().any(|(message, id)| message == step
                    && id
                        .as_deref()
                        .is_some_and(|id| id.starts_with(call.as_str()))),
                "{call}: {step}"
            );
        }
    }
}

#[test]
fn the_load_counts_calls_rooms_participants_and_rtp_ports() {
    let mut shell = Shell::new(config(PORTS));
    assert_eq!(
        (
            shell.node.calls(),
            shell.node.rooms(),
            shell.node.participants()
        ),
        (0, 0, 0)
    );
    assert_eq!(shell.node.rtp_ports_left(), 5);
    shell.admitted(1, PARTICIPANT);
    shell.admitted(2, LISTENER);
    let w = shell.dial(3);
    shell.ack(w);
    shell.progress(Duration::from_secs(1));
    assert_eq!(
        (
            shell.node.calls(),
            shell.node.rooms(),
            shell.node.participants(),
            shell.node.rtp_ports_left()
        ),
        (3, 1, 2, 2),
        "three calls, two of them in the one room"
    );
    assert_eq!(shell.node.frames_lost(), 0, "every tick on time");
}

#[test]
fn a_room_ticked_very_late_counts_each_skipped_frame_of_each_leg_as_lost() {
    let mut shell = Shell::new(config(PORTS));
    shell.admitted(1, PARTICIPANT);
    shell.admitted(2, PARTICIPANT);
    shell.progress(Duration::from_millis(100));
    assert_eq!(shell.node.frames_lost(), 0);
    // The loop wakes 200 ms late: the room skips the deadlines it missed.
    let due = shell
        .node
        .rooms
        .values()
        .find_map(Room::poll_timeout)
        .expect("the room's deadline");
    shell.now = due + Duration::from_millis(200);
    shell.next_tick = shell.now + Duration::from_millis(20);
    shell.feed(Input::Timeout(shell.now));
    // 10 periods late: the frame due then is mixed, the 10 after it skipped, for
    // both legs.
    assert_eq!(shell.node.frames_lost(), 2 * 10);
}

/// The callers each IVR counted attempts against.
fn guessers(log: &[Output]) -> Vec<teleconf_domain::CallerSource> {
    log.iter()
        .filter_map(|o| match o {
            Output::Io(IoOutput::Lookup {
                lookup: Lookup::Attempts { caller, .. },
                ..
            }) => Some(caller.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn behind_the_sip_entry_the_caller_it_names_is_served_counted_and_heard() {
    let mut shell = Shell::new(config(PORTS));
    let entry = addr(&format!("{ENTRY}:5060"));
    let a = shell.dial_from(1, entry, Some("127.0.0.1:40000"));
    assert_eq!(shell.sip_sent(), ["SIP/2.0 100 Trying", "SIP/2.0 200 OK"]);
    assert!(
        shell.log.iter().all(|o| match o {
            Output::Io(IoOutput::SendSip { to, .. }) => *to == entry,
            _ => true,
        }),
        "our SIP goes back through the entry"
    );
    // Its RTP comes straight from the trunk, not from the entry, and is taken.
    shell.admit(a, PARTICIPANT);
    let trunk: IpAddr = TRUNK.parse().expect("an IP");
    assert!(
        guessers(&shell.log)
            .iter()
            .all(|caller| *caller == teleconf_domain::CallerSource::new(trunk, "sipp")),
        "the guessing counters count the trunk's caller, not the entry: {:?}",
        guessers(&shell.log)
    );
    assert!(!guessers(&shell.log).is_empty());
    let b = shell.admitted(2, PARTICIPANT);
    assert_eq!(shell.node.participants(), 2);
    shell.callers[a].level = Some(2000);
    shell.callers[b].level = Some(-5000);
    shell.progress(Duration::from_millis(500));
    they_hear_each_other_only(&mut shell, a, b);
    assert_eq!(shell.node.media_stats().untrusted_source_headers, 0);
}

#[test]
fn behind_the_sip_entry_a_caller_outside_the_allow_list_gets_403() {
    let mut shell = Shell::new(config(PORTS));
    shell.dial_from(1, addr(&format!("{ENTRY}:5060")), Some("10.9.9.9:5060"));
    // The entry relays a stranger's request that names nobody: only the entry itself.
    shell.dial_from(2, addr(&format!("{ENTRY}:5060")), None);
    assert_eq!(
        shell.sip_sent(),
        ["SIP/2.0 403 Forbidden", "SIP/2.0 403 Forbidden"]
    );
    assert_eq!(shell.node.calls(), 0);
}

#[test]
fn a_source_header_from_outside_the_sip_entry_is_ignored_and_counted() {
    let mut shell = Shell::new(config(PORTS));
    // A stranger naming the trunk is still a stranger.
    shell.dial_from(1, addr("10.9.9.9:5060"), Some("127.0.0.1:5061"));
    assert_eq!(shell.sip_sent(), ["SIP/2.0 403 Forbidden"]);
    // The trunk naming someone else is still the trunk.
    let before = shell.log.len();
    let b = shell.dial_from(2, addr(&format!("{TRUNK}:5061")), Some("10.9.9.9:5060"));
    shell.ack(b);
    shell.progress(Duration::from_secs(1));
    assert_eq!(
        sip_lines(&shell.log[before..])[..2],
        ["SIP/2.0 100 Trying", "SIP/2.0 200 OK"]
    );
    let trunk: IpAddr = TRUNK.parse().expect("an IP");
    assert_eq!(
        guessers(&shell.log),
        [teleconf_domain::CallerSource::new(trunk, "sipp")]
    );
    assert_eq!(shell.node.media_stats().untrusted_source_headers, 2);
}

#[test]
fn star44_behind_the_sip_entry_is_known_by_the_phone_address_it_names() {
    let account = AccountId::new();
    let mut shell = Shell::new(config(PORTS));
    shell.ip_phones(vec![ip_phone(account, "10.0.0.5")]);
    let entry = addr(&format!("{ENTRY}:5060"));
    shell.datagram(entry, &with_source(&star44_invite(1), "10.0.0.5:5060"));
    assert_eq!(shell.star44_lookups(), [account]);
    assert_eq!(shell.sip_sent(), ["SIP/2.0 100 Trying", "SIP/2.0 200 OK"]);
    // The entry naming a phone of no account: 403.
    shell.datagram(entry, &with_source(&star44_invite(2), "10.0.0.6:5060"));
    assert_eq!(
        shell.sip_sent().last().map(String::as_str),
        Some("SIP/2.0 403 Forbidden")
    );
}

#[test]
fn the_sip_entrys_probe_gets_200_until_the_node_drains_then_503() {
    let mut shell = Shell::new(config(PORTS));
    let entry = addr(&format!("{ENTRY}:5060"));
    shell.datagram(entry, &request(9, "OPTIONS", 1, None));
    shell.feed(Input::Drain(shell.now));
    shell.datagram(entry, &request(9, "OPTIONS", 2, None));
    assert_eq!(
        shell.sip_sent(),
        ["SIP/2.0 200 OK", "SIP/2.0 503 Service Unavailable"]
    );
}

/// The causes of the CDR legs closed in `log`, in order.
fn closed_causes(log: &[Output]) -> Vec<teleconf_domain::DisconnectCause> {
    log.iter()
        .filter_map(|o| match o {
            Output::Io(IoOutput::CdrClose(leg)) => leg.cause,
            _ => None,
        })
        .collect()
}

/// BYEs (retransmissions included) in `log`.
fn byes(log: &[Output]) -> usize {
    sip_lines(log)
        .iter()
        .filter(|line| line.starts_with("BYE "))
        .count()
}

/// A participant admitted to a conference planned to end at 13:41: the calls
/// come at 13:40 and are admitted some seconds later, so it ends in under a minute.
fn admitted_to_a_conference_ending_soon() -> Shell {
    let mut shell = Shell::new(config(PORTS));
    shell.conference.schedule =
        teleconf_domain::Schedule::new(utc(13, 30), utc(13, 41)).expect("a schedule");
    shell.admitted(1, PARTICIPANT);
    shell
}

#[test]
fn a_draining_node_keeps_a_call_until_its_conferences_planned_end_plus_the_grace() {
    let mut shell = admitted_to_a_conference_ending_soon();
    shell.feed(Input::Drain(shell.now));
    let since = shell.log.len();
    // The planned end (under a minute) plus the grace (two minutes) are not over.
    shell.progress(Duration::from_secs(140));
    assert_eq!((shell.node.calls(), byes(&shell.log[since..])), (1, 0));
    shell.progress(Duration::from_secs(30));
    assert!(
        byes(&shell.log[since..]) >= 1,
        "hung up when its time was up"
    );
    assert_eq!(
        closed_causes(&shell.log[since..]),
        [teleconf_domain::DisconnectCause::BridgeHangup]
    );
}

#[test]
fn a_call_past_its_planned_end_when_the_drain_starts_gets_the_grace_from_then() {
    let mut shell = admitted_to_a_conference_ending_soon();
    // Past the planned end: the conference goes on, never cut by its schedule.
    shell.progress(Duration::from_secs(90));
    assert_eq!(shell.node.calls(), 1);
    shell.feed(Input::Drain(shell.now));
    let since = shell.log.len();
    shell.progress(DRAIN_GRACE - Duration::from_secs(2));
    assert_eq!((shell.node.calls(), byes(&shell.log[since..])), (1, 0));
    shell.progress(Duration::from_secs(4));
    assert!(byes(&shell.log[since..]) >= 1);
    assert_eq!(
        closed_causes(&shell.log[since..]),
        [teleconf_domain::DisconnectCause::BridgeHangup],
        "its leg closed once"
    );
}
