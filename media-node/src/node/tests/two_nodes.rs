//! Two nodes, one conference: the owner holds the room, the member cascades to
//! it (issue #16). The nodes' SIP and RTP go between them as a network would.

use super::*;
use teleconf_domain::NodeId;

const OWNER: &str = "10.0.0.7:5060";
const MEMBER: &str = "10.0.0.8:5060";

/// A node reached by the other at `sip` (its address between nodes) and by
/// callers at a public address of its own: every datagram between the two goes
/// to a `10.0.0.x` address, or is not carried (see [`between`]).
fn node_config(sip: &str, ports: Range<u16>, node: &str) -> NodeConfig {
    let mut config = config(ports);
    let public = addr(&sip.replace("10.0.0.", "203.0.113."));
    config.local_addr = public;
    config.rtp_addr = match public.ip() {
        IpAddr::V4(ip) => ip,
        IpAddr::V6(_) => unreachable!("IPv4 nodes"),
    };
    if let Some(cascade) = &mut config.cascade {
        cascade.addr = addr(sip);
    }
    config.node_id = node.parse().expect("a node id");
    config
}

/// The owner and a member, the SIP and RTP between them carried.
struct Pair {
    owner: Shell,
    member: Shell,
    /// How far each one's log was carried to the other.
    carried: (usize, usize),
}

impl Pair {
    fn new() -> Self {
        let owner = Shell::new(node_config(OWNER, 20_000..20_100, "node-a"));
        let mut member = Shell::new(node_config(MEMBER, 30_000..30_100, "node-b"));
        member.conference = owner.conference.clone();
        member.room_owner = Some(RoomOwner::Elsewhere {
            node: "node-a".parse().expect("a node id"),
            cascade: addr(OWNER),
        });
        Self {
            owner,
            member,
            carried: (0, 0),
        }
    }

    /// Carries what each node sent the other, until neither sends more.
    fn carry(&mut self) {
        loop {
            let to_owner = between(&self.member, self.carried.1, OWNER);
            let to_member = between(&self.owner, self.carried.0, MEMBER);
            self.carried = (self.owner.log.len(), self.member.log.len());
            if to_owner.is_empty() && to_member.is_empty() {
                return;
            }
            deliver(&mut self.owner, MEMBER, to_owner);
            deliver(&mut self.member, OWNER, to_member);
        }
    }

    /// A new caller `n` on the member keys the number and `code`, the network
    /// carrying between the nodes meanwhile, and its clock runs for `then`;
    /// returns its index.
    fn member_keys(&mut self, n: u32, code: &str, then: Duration) -> usize {
        let i = self.member.dial(n);
        self.member.ack(i);
        self.progress(Duration::from_secs(12));
        self.member.key(i, &format!("{NUMBER}#"));
        self.progress(Duration::from_secs(5));
        self.member.key(i, &format!("{code}#"));
        self.progress(then);
        i
    }

    /// A new caller `n` on the member keys the number and `code`: in the
    /// owner's room (checked against it); returns its index.
    fn member_admitted(&mut self, n: u32, code: &str) -> usize {
        let i = self.member_keys(n, code, Duration::from_millis(200));
        assert!(
            cdrs(&self.member).len() >= self.member.callers.len(),
            "caller {n} admitted: {:?}",
            self.member.sip_sent()
        );
        i
    }

    /// Both clocks run for `by`, 20 ms at a time, the network carrying between.
    fn progress(&mut self, by: Duration) {
        self.carry();
        for _ in 0..by.as_millis() / 20 {
            self.owner.progress(Duration::from_millis(20));
            self.member.progress(Duration::from_millis(20));
            self.carry();
        }
    }
}

/// A datagram between the nodes: SIP, or RTP from/to a port.
enum Datagram {
    Sip(Vec<u8>),
    Rtp {
        from_port: u16,
        to_port: u16,
        bytes: Vec<u8>,
    },
}

/// What `shell` sent, from `since` in its log, to the node at `to`.
fn between(shell: &Shell, since: usize, to: &str) -> Vec<Datagram> {
    let to = addr(to);
    shell.log[since..]
        .iter()
        .filter_map(|output| match output {
            Output::Io(IoOutput::SendSip { to: dest, bytes }) if *dest == to => {
                Some(Datagram::Sip(bytes.clone()))
            }
            Output::Media(MediaOutput::SendRtp {
                from_port,
                to: dest,
                bytes,
            }) if dest.ip() == to.ip() => Some(Datagram::Rtp {
                from_port: *from_port,
                to_port: dest.port(),
                bytes: bytes.to_vec(),
            }),
            _ => None,
        })
        .collect()
}

fn deliver(shell: &mut Shell, from: &str, datagrams: Vec<Datagram>) {
    let from = addr(from);
    for datagram in datagrams {
        match datagram {
            Datagram::Sip(bytes) => {
                let wall_clock = shell.wall_clock();
                shell.feed(Input::Datagram {
                    now: shell.now,
                    wall_clock,
                    from,
                    bytes: &bytes,
                });
            }
            Datagram::Rtp {
                from_port,
                to_port,
                bytes,
            } => shell.feed(Input::Rtp {
                now: shell.now,
                port: to_port,
                from: SocketAddr::new(from.ip(), from_port),
                bytes: &bytes,
            }),
        }
    }
}

fn cdrs(shell: &Shell) -> Vec<&CallLeg> {
    shell
        .log
        .iter()
        .filter_map(|o| match o {
            Output::Io(IoOutput::CdrOpen(leg)) => Some(leg),
            _ => None,
        })
        .collect()
}

/// Caller 1 on the owner, caller 2 and a listener (3) on the member.
fn one_conference_on_two_nodes() -> (Pair, usize, usize, usize) {
    let mut pair = Pair::new();
    let a = pair.owner.admitted(1, PARTICIPANT);
    let b = pair.member_admitted(2, PARTICIPANT);
    let l = pair.member_admitted(3, LISTENER);
    pair.progress(Duration::from_secs(1));
    (pair, a, b, l)
}

#[test]
fn member_caller_never_hears_itself_through_the_owner() {
    let (mut pair, a, b, l) = one_conference_on_two_nodes();
    pair.owner.callers[a].level = Some(2000);
    pair.member.callers[b].level = Some(-5000);
    pair.member.callers[l].level = Some(0);
    pair.progress(Duration::from_secs(1));
    let since = (pair.owner.log.len(), pair.member.log.len());
    pair.progress(Duration::from_millis(600));
    let a_hears = pair.owner.heard(a, since.0);
    let b_hears = pair.member.heard(b, since.1);
    let l_hears = pair.member.heard(l, since.1);
    assert!(
        a_hears.len() >= 25 && b_hears.len() >= 25,
        "{a_hears:?} / {b_hears:?}"
    );
    assert!(
        a_hears.iter().all(|&x| close_to(x, -5000)),
        "the owner's caller hears the member's, never itself: {a_hears:?}"
    );
    assert!(
        b_hears.iter().all(|&x| close_to(x, 2000)),
        "the member's caller hears the owner's, never itself back: {b_hears:?}"
    );
    assert!(
        l_hears.iter().all(|&x| close_to(x, -3000)),
        "the listener hears both: {l_hears:?}"
    );
    // Each caller's CDR leg is written once, by the node it called; the
    // cascade is no leg.
    assert_eq!(cdrs(&pair.owner).len(), 1);
    assert_eq!(cdrs(&pair.member).len(), 2);
}

#[test]
fn cascaded_listener_is_never_heard() {
    let (mut pair, a, b, l) = one_conference_on_two_nodes();
    pair.owner.callers[a].level = Some(0);
    pair.member.callers[b].level = Some(0);
    pair.member.callers[l].level = Some(-8000);
    pair.progress(Duration::from_secs(1));
    let since = (pair.owner.log.len(), pair.member.log.len());
    pair.progress(Duration::from_millis(600));
    let a_hears = pair.owner.heard(a, since.0);
    let b_hears = pair.member.heard(b, since.1);
    assert!(a_hears.len() >= 25, "{a_hears:?}");
    assert!(
        a_hears.iter().chain(&b_hears).all(|&x| x.abs() <= 16),
        "nobody hears the listener, here or through the cascade: {a_hears:?} / {b_hears:?}"
    );
}

#[test]
fn the_member_closes_its_cascade_when_its_last_caller_leaves_and_the_owner_goes_on() {
    let (mut pair, a, b, l) = one_conference_on_two_nodes();
    assert_eq!(pair.owner.node.rooms(), 1);
    assert_eq!(
        pair.owner.node.calls(),
        2,
        "the owner's caller and the cascade"
    );
    pair.member.caller_hangs_up(b);
    pair.member.caller_hangs_up(l);
    pair.progress(Duration::from_secs(1));
    assert_eq!(pair.member.node.rooms(), 0);
    assert!(
        sip_lines(&pair.member.log)
            .iter()
            .any(|l| l.starts_with("BYE ")),
        "{:?}",
        sip_lines(&pair.member.log)
    );
    // The calls go once their transactions end (Timer J: 64*T1).
    pair.progress(Duration::from_secs(40));
    assert_eq!(pair.owner.node.calls(), 1, "the cascade hung up");
    assert_eq!(pair.member.node.calls(), 0);
    // The member's legs, written by the member, note the owner.
    let closed: Vec<&CallLeg> = pair
        .member
        .log
        .iter()
        .filter_map(|o| match o {
            Output::Io(IoOutput::CdrClose(leg)) => Some(leg),
            _ => None,
        })
        .collect();
    assert_eq!(closed.len(), 2);
    assert!(
        closed
            .iter()
            .all(|leg| leg.owner_node.as_ref().map(NodeId::as_str) == Some("node-a")),
        "{closed:?}"
    );
    assert_eq!(pair.owner.node.rooms(), 1, "the owner's caller is still in");
    assert!(
        !pair
            .member
            .log
            .iter()
            .any(|o| matches!(o, Output::Io(IoOutput::ReleaseRoom(_)))),
        "the member never releases the owner's lease"
    );
    assert_eq!(pair.member.node.media_stats().cascades_failed, 0);
    // The owner's callers keep hearing each other.
    let c = pair.owner.admitted(4, PARTICIPANT);
    pair.owner.callers[a].level = Some(2000);
    pair.owner.callers[c].level = Some(-5000);
    pair.owner.progress(Duration::from_secs(5));
    they_hear_each_other_only(&mut pair.owner, a, c);
}

#[test]
fn a_cascade_the_owner_refuses_leaves_the_members_room_alone_and_counted() {
    let mut pair = Pair::new();
    // No room on the owner: it answers 404.
    let b = pair.member_admitted(2, PARTICIPANT);
    let c = pair.member_admitted(3, PARTICIPANT);
    pair.progress(Duration::from_secs(1));
    assert_eq!(pair.member.node.media_stats().cascades_failed, 1);
    pair.member.callers[b].level = Some(2000);
    pair.member.callers[c].level = Some(-5000);
    pair.member.progress(Duration::from_secs(5));
    they_hear_each_other_only(&mut pair.member, b, c);
}

/// `member`, its room alone, is told by its heartbeat's claim that the lease is
/// its own now: the room there is the conference's.
fn takes_the_room_over(member: &mut Shell) {
    let conference = member.conference.id;
    assert_eq!(
        member.node.rooms_to_claim().collect::<Vec<_>>(),
        [conference]
    );
    member.answer_claim(RoomOwner::Here);
    assert_eq!(member.node.held_rooms().collect::<Vec<_>>(), [conference]);
    assert_eq!(member.node.rooms_to_claim().count(), 0);
}

/// Caller 1 on the owner, participants 2 and 3 on the member, in the room.
fn two_participants_on_the_member() -> (Pair, usize, usize, usize) {
    let mut pair = Pair::new();
    let a = pair.owner.admitted(1, PARTICIPANT);
    let b = pair.member_admitted(2, PARTICIPANT);
    let c = pair.member_admitted(3, PARTICIPANT);
    pair.progress(Duration::from_secs(1));
    assert_eq!(
        pair.owner.node.calls(),
        2,
        "the owner's caller and the cascade"
    );
    (pair, a, b, c)
}

#[test]
fn a_draining_owner_with_no_caller_of_its_own_hands_the_room_over_to_the_member() {
    let (mut pair, a, b, c) = two_participants_on_the_member();
    let conference = pair.owner.conference.id;
    pair.owner.caller_hangs_up(a);
    pair.progress(Duration::from_secs(1));
    assert_eq!(
        pair.owner.node.rooms(),
        1,
        "the member's callers keep the owner's room"
    );
    let now = pair.owner.now;
    pair.owner.feed(Input::Drain(now));
    pair.progress(Duration::from_secs(1));
    assert_eq!(pair.owner.node.rooms(), 0, "handed over");
    assert!(
        pair.owner
            .log
            .contains(&Output::Io(IoOutput::ReleaseRoom(conference))),
        "the owner gives its lease back"
    );
    assert_eq!(pair.member.node.media_stats().cascades_failed, 1);
    // The member's heartbeat claims the lease, free now: the room there is the
    // conference's.
    takes_the_room_over(&mut pair.member);
    pair.member.callers[b].level = Some(2000);
    pair.member.callers[c].level = Some(-5000);
    pair.member.progress(Duration::from_secs(1));
    they_hear_each_other_only(&mut pair.member, b, c);
}

#[test]
fn a_member_whose_owner_is_lost_keeps_its_callers_together_and_takes_the_room_over_once_free() {
    let (mut pair, _, b, c) = two_participants_on_the_member();
    // The owner is gone: nothing reaches it, nothing comes from it.
    pair.member.callers[b].level = Some(2000);
    pair.member.callers[c].level = Some(-5000);
    pair.member
        .progress(call::RTP_TIMEOUT + Duration::from_secs(1));
    assert_eq!(pair.member.node.media_stats().cascades_failed, 1);
    they_hear_each_other_only(&mut pair.member, b, c);
    // The heartbeat claims it: once the lost owner's lease expired, it is free.
    takes_the_room_over(&mut pair.member);
}

#[test]
fn a_cascade_invite_the_owner_never_answers_is_resent_then_given_up_and_the_member_goes_on_alone() {
    let mut pair = Pair::new();
    // Nothing reaches the owner: the member's INVITE goes unanswered, and its
    // callers are let in by the room there once the owner was silent too long.
    let waited = super::gate::OWNER_WAIT + Duration::from_millis(200);
    let b = pair.member.dial(2);
    pair.member.admit_within(b, PARTICIPANT, waited);
    let c = pair.member.dial(3);
    pair.member.admit_within(c, PARTICIPANT, waited);
    assert_eq!(pair.member.node.media_stats().admissions_checked_alone, 2);
    let invites = |shell: &Shell| {
        sip_lines(&shell.log)
            .iter()
            .filter(|line| line.starts_with("INVITE sip:cascade@"))
            .count()
    };
    pair.member.progress(Duration::from_secs(40));
    // Timer A doubles from T1 until Timer B (64*T1): 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s.
    assert_eq!(
        invites(&pair.member),
        7,
        "{:?}",
        sip_lines(&pair.member.log)
    );
    assert_eq!(pair.member.node.media_stats().cascades_failed, 1);
    assert_eq!(
        pair.member.node.rooms_to_claim().collect::<Vec<_>>(),
        [pair.member.conference.id]
    );
    pair.member.callers[b].level = Some(2000);
    pair.member.callers[c].level = Some(-5000);
    pair.member.progress(Duration::from_secs(1));
    they_hear_each_other_only(&mut pair.member, b, c);
}

/// The owner's INFOs to the member (or the member's to the owner) sent since
/// `since` in `shell`'s log, whose body holds `holding`.
fn infos(shell: &Shell, since: usize, holding: &str) -> Vec<Vec<u8>> {
    shell.log[since..]
        .iter()
        .filter_map(|output| match output {
            Output::Io(IoOutput::SendSip { bytes, .. })
                if bytes.starts_with(b"INFO ")
                    && String::from_utf8_lossy(bytes).contains(holding) =>
            {
                Some(bytes.clone())
            }
            _ => None,
        })
        .collect()
}

/// A moderator on the owner, participant 2 on the member, both talking.
fn a_moderator_on_the_owner_and_a_participant_on_the_member() -> (Pair, usize, usize) {
    let mut pair = Pair::new();
    let m = pair.owner.admitted(1, MODERATOR);
    let b = pair.member_admitted(2, PARTICIPANT);
    pair.progress(Duration::from_secs(1));
    pair.owner.callers[m].level = Some(2000);
    pair.member.callers[b].level = Some(-5000);
    pair.progress(Duration::from_secs(1));
    (pair, m, b)
}

/// What the owner's moderator `m` hears over the next 600 ms.
fn moderator_hears(pair: &mut Pair, m: usize) -> Vec<i16> {
    let since = pair.owner.log.len();
    pair.progress(Duration::from_millis(600));
    let heard = pair.owner.heard(m, since);
    assert!(heard.len() >= 25, "{heard:?}");
    heard
}

fn unheard(heard: &[i16]) -> bool {
    heard.iter().all(|&x| x.abs() <= 16)
}

#[test]
fn lecture_mode_silences_the_members_participants() {
    let (mut pair, m, b) = a_moderator_on_the_owner_and_a_participant_on_the_member();
    let heard = moderator_hears(&mut pair, m);
    assert!(heard.iter().all(|&x| close_to(x, -5000)), "{heard:?}");
    pair.owner.key(m, "*5");
    pair.progress(Duration::from_secs(3));
    let heard = moderator_hears(&mut pair, m);
    assert!(
        unheard(&heard),
        "the member's participant no longer enters the cascade: {heard:?}"
    );
    // The member's live view shows it muted.
    assert!(pair.member.log.iter().any(|o| matches!(
        o,
        Output::Io(IoOutput::Live(LiveUpdate::Put(p))) if p.muted
    )));
    pair.owner.key(m, "*5");
    pair.progress(Duration::from_secs(3));
    let heard = moderator_hears(&mut pair, m);
    assert!(
        heard.iter().all(|&x| close_to(x, -5000)),
        "heard again: {heard:?}"
    );
    let _ = b;
}

#[test]
fn a_moderator_on_the_owner_mutes_a_caller_on_the_member() {
    let (mut pair, m, _) = a_moderator_on_the_owner_and_a_participant_on_the_member();
    let leg_id = cdrs(&pair.member)[0].id;
    let (now, conference) = (pair.owner.now, pair.owner.conference.id);
    // The portal's command, taken by the lease holder.
    pair.owner.feed(Input::Control {
        now,
        conference,
        command: ControlCommand::Mute { leg_id },
    });
    pair.progress(Duration::from_secs(2));
    let heard = moderator_hears(&mut pair, m);
    assert!(unheard(&heard), "muted on the member: {heard:?}");
    let now = pair.owner.now;
    pair.owner.feed(Input::Control {
        now,
        conference,
        command: ControlCommand::Remove { leg_id },
    });
    pair.progress(Duration::from_secs(1));
    let closed: Vec<_> = pair
        .member
        .log
        .iter()
        .filter_map(|o| match o {
            Output::Io(IoOutput::CdrClose(leg)) => Some((leg.id, leg.cause)),
            _ => None,
        })
        .collect();
    assert_eq!(
        closed,
        [(
            leg_id,
            Some(teleconf_domain::DisconnectCause::ModeratorKick)
        )],
        "removed through the member"
    );
}

#[test]
fn a_locked_room_refuses_a_caller_on_the_member() {
    let (mut pair, m, _) = a_moderator_on_the_owner_and_a_participant_on_the_member();
    pair.owner.key(m, "*7");
    pair.progress(Duration::from_secs(3));
    let i = pair.member.dial(3);
    pair.member.ack(i);
    pair.progress(Duration::from_secs(12));
    pair.member.key(i, &format!("{NUMBER}#"));
    pair.progress(Duration::from_secs(5));
    pair.member.key(i, &format!("{PARTICIPANT}#"));
    pair.progress(Duration::from_secs(10));
    assert_eq!(cdrs(&pair.member).len(), 1, "only the first caller is in");
    assert!(
        pair.member
            .sip_sent()
            .iter()
            .any(|line| line.starts_with("BYE sip:"))
    );
}

#[test]
fn the_count_a_member_caller_hears_is_the_whole_room() {
    let (mut pair, _, b) = a_moderator_on_the_owner_and_a_participant_on_the_member();
    // The member's caller was not told it is the first: the owner's caller was.
    assert!(infos(&pair.owner, 0, "first_caller").is_empty());
    assert_eq!(
        infos(&pair.owner, 0, "entry_tone").len(),
        0,
        "the tone is the owner caller's"
    );
    let since = pair.owner.log.len();
    pair.member.key(b, "*#");
    pair.progress(Duration::from_secs(1));
    assert_eq!(
        infos(&pair.owner, since, r#""prompt":{"callers":2}"#).len(),
        1,
        "{:?}",
        pair.owner.sip_sent()
    );
    // A second caller on the member: the owner's caller hears its entry tone,
    // the member's first caller too, told by the owner.
    let since = pair.owner.log.len();
    pair.member_admitted(3, LISTENER);
    pair.progress(Duration::from_secs(1));
    assert_eq!(infos(&pair.owner, since, "entry_tone").len(), 1);
    let since = pair.owner.log.len();
    pair.member.key(b, "*#");
    pair.progress(Duration::from_secs(1));
    assert_eq!(
        infos(&pair.owner, since, r#""prompt":{"callers":3}"#).len(),
        1
    );
}

#[test]
fn an_info_retransmitted_is_applied_once() {
    let (mut pair, m, b) = a_moderator_on_the_owner_and_a_participant_on_the_member();
    let (owner_since, member_since) = (pair.owner.log.len(), pair.member.log.len());
    pair.member.key(b, "*6");
    pair.progress(Duration::from_secs(2));
    assert!(unheard(&moderator_hears(&mut pair, m)), "muted itself");
    pair.member.key(b, "*6");
    pair.progress(Duration::from_secs(2));
    assert!(
        moderator_hears(&mut pair, m)
            .iter()
            .all(|&x| close_to(x, -5000))
    );
    // Each INFO again, as a network retransmitting would: the member's first
    // *6 to the owner, the owner's first mute to the member.
    let keypad = infos(&pair.member, member_since, "mute_self");
    let mute = infos(&pair.owner, owner_since, r#""type":"mute""#);
    assert_eq!((keypad.len(), mute.len()), (2, 2));
    let (oks_owner, oks_member) = (
        pair.owner
            .sip_sent()
            .iter()
            .filter(|l| l.starts_with("SIP/2.0 200"))
            .count(),
        pair.member
            .sip_sent()
            .iter()
            .filter(|l| l.starts_with("SIP/2.0 200"))
            .count(),
    );
    deliver(
        &mut pair.owner,
        MEMBER,
        vec![Datagram::Sip(keypad[0].clone())],
    );
    deliver(
        &mut pair.member,
        OWNER,
        vec![Datagram::Sip(mute[0].clone())],
    );
    pair.progress(Duration::from_secs(1));
    let heard = moderator_hears(&mut pair, m);
    assert!(
        heard.iter().all(|&x| close_to(x, -5000)),
        "neither applied again: {heard:?}"
    );
    let oks = |shell: &Shell| {
        shell
            .sip_sent()
            .iter()
            .filter(|l| l.starts_with("SIP/2.0 200"))
            .count()
    };
    assert!(oks(&pair.owner) > oks_owner, "the owner answers it again");
    assert!(
        oks(&pair.member) > oks_member,
        "the member answers it again"
    );
}

#[test]
fn an_unreadable_room_message_is_answered_400_naming_the_field_and_changes_nothing() {
    let (mut pair, m, b) = a_moderator_on_the_owner_and_a_participant_on_the_member();
    let since = pair.member.log.len();
    pair.member.key(b, "*#");
    pair.progress(Duration::from_secs(1));
    let count = String::from_utf8(infos(&pair.member, since, "count").remove(0)).unwrap();
    // The same INFO, later in the dialog, its command gone.
    let garbled = count
        .replace(r#","command":"count""#, "")
        .replace("Content-Length: ", "Content-Length: 1")
        .replace(" INFO\r\n", "0 INFO\r\n")
        .replace(";branch=z9hG4bK-", ";branch=z9hG4bK-garbled-");
    let garbled = {
        // Content-Length right again: the body is what follows the blank line.
        let (head, body) = garbled.split_once("\r\n\r\n").unwrap();
        let head: String = head
            .lines()
            .map(|line| {
                if line.starts_with("Content-Length:") {
                    format!("Content-Length: {}\r\n", body.len())
                } else {
                    format!("{line}\r\n")
                }
            })
            .collect();
        format!("{head}\r\n{body}")
    };
    let since = pair.owner.log.len();
    deliver(
        &mut pair.owner,
        MEMBER,
        vec![Datagram::Sip(garbled.into_bytes())],
    );
    let answers: Vec<String> = pair.owner.log[since..]
        .iter()
        .filter_map(|o| match o {
            Output::Io(IoOutput::SendSip { bytes, .. }) => {
                Some(String::from_utf8_lossy(bytes).into_owned())
            }
            _ => None,
        })
        .collect();
    assert!(
        answers
            .iter()
            .any(|a| a.starts_with("SIP/2.0 400") && a.contains("command")),
        "{answers:?}"
    );
    let heard = moderator_hears(&mut pair, m);
    assert!(heard.iter().all(|&x| close_to(x, -5000)), "{heard:?}");
}

/// Whether caller `i` of `shell` was played `prompt` (in its access number's
/// language): a stretch of its sound is in what the caller got.
fn hears_prompt(shell: &Shell, i: usize, prompt: &crate::app::prompts::Prompt) -> bool {
    let language = conference_number().greeting_language;
    let clips = crate::app::prompts::default_prompt(language, prompt);
    let Some(crate::app::prompts::Clip::Default(pcm)) = clips.first() else {
        panic!("a default sentence: {prompt:?}");
    };
    // 40 ms from its middle, as the caller's codec carries it.
    let middle = pcm.len() / 2;
    let mut stretch = Vec::new();
    g711::encode_ulaw(&pcm[middle..middle + 320], &mut stretch);
    let got: Vec<u8> = shell
        .rtp_to(i, 0)
        .flat_map(|bytes| rtp::parse(bytes).expect("RTP").payload.to_vec())
        .collect();
    got.windows(stretch.len()).any(|w| w == stretch.as_slice())
}

/// A new caller `n` on the member, its first there of the conference, keys
/// the number and `code`; returns its index.
fn first_call_on_the_member(pair: &mut Pair, n: u32, code: &str) -> usize {
    pair.member_keys(n, code, Duration::from_secs(10))
}

/// A participant `n`'s first call on the member hears `refusal` and is hung
/// up: no leg opened, and the cascade opened to ask the owner closed again
/// (the calls gone after Timer J, 64*T1).
fn first_call_on_the_member_refused(
    pair: &mut Pair,
    n: u32,
    refusal: &crate::app::prompts::Prompt,
) {
    let i = first_call_on_the_member(pair, n, PARTICIPANT);
    assert!(
        hears_prompt(&pair.member, i, refusal),
        "the owner's room's {refusal:?}, heard on the member"
    );
    assert!(hung_up_on(&pair.member, i));
    assert!(cdrs(&pair.member).is_empty(), "no leg opened");
    assert_eq!(cascades_opened_and_closed(&pair.member), (1, 1));
    pair.progress(Duration::from_secs(40));
}

/// Whether the member hung up on its caller `i` (its BYE to the caller).
fn hung_up_on(shell: &Shell, i: usize) -> bool {
    let call_id = format!("Call-ID: {}-4242@", shell.callers[i].n);
    shell.log.iter().any(|output| match output {
        Output::Io(IoOutput::SendSip { bytes, .. }) => {
            let text = String::from_utf8_lossy(bytes);
            text.starts_with("BYE sip:") && text.contains(&call_id)
        }
        _ => false,
    })
}

/// Cascade INVITEs `shell` sent, and its BYEs ending one.
fn cascades_opened_and_closed(shell: &Shell) -> (usize, usize) {
    let lines = sip_lines(&shell.log);
    let count = |start: &str| lines.iter().filter(|l| l.starts_with(start)).count();
    (count("INVITE sip:cascade@"), count("BYE sip:cascade@"))
}

#[test]
fn a_locked_room_refuses_the_first_caller_on_another_node() {
    let mut pair = Pair::new();
    let m = pair.owner.admitted(1, MODERATOR);
    pair.owner.key(m, "*7");
    pair.progress(Duration::from_secs(3));
    // The member has no caller of the conference, no cascade to its owner.
    first_call_on_the_member_refused(&mut pair, 2, &crate::app::prompts::Prompt::Locked);
    assert_eq!(pair.owner.node.calls(), 1, "the moderator alone");
    assert_eq!(pair.owner.node.rooms(), 1);
    // A moderator's first call on the member is let in, into the owner's room.
    let j = first_call_on_the_member(&mut pair, 3, MODERATOR);
    assert!(!hung_up_on(&pair.member, j));
    assert!(!hears_prompt(
        &pair.member,
        j,
        &crate::app::prompts::Prompt::Locked
    ));
    assert_eq!(cdrs(&pair.member).len(), 1, "the moderator is in");
    assert_eq!(
        cdrs(&pair.member)[0]
            .owner_node
            .as_ref()
            .map(NodeId::as_str),
        Some("node-a")
    );
    assert_eq!(
        pair.owner.node.calls(),
        2,
        "the owner's moderator and the cascade"
    );
}

#[test]
fn a_full_room_refuses_the_first_caller_on_another_node() {
    let mut pair = Pair::new();
    pair.owner.conference.max_participants = 2;
    pair.member.conference.max_participants = 2;
    pair.owner.admitted(1, PARTICIPANT);
    pair.owner.admitted(2, PARTICIPANT);
    first_call_on_the_member_refused(&mut pair, 3, &crate::app::prompts::Prompt::Full);
    assert_eq!(pair.owner.node.calls(), 2, "the owner's callers alone");
    assert_eq!(pair.member.node.calls(), 0);
    assert_eq!(pair.member.node.rooms(), 0);
}

#[test]
fn a_first_caller_who_hangs_up_while_the_owner_is_asked_leaves_no_cascade_behind() {
    let mut pair = Pair::new();
    pair.owner.admitted(1, PARTICIPANT);
    let ports = pair.member.node.rtp_ports_left();
    let i = pair.member.dial(2);
    pair.member.ack(i);
    pair.member.progress(Duration::from_secs(12));
    pair.member.key(i, &format!("{NUMBER}#"));
    pair.member.progress(Duration::from_secs(5));
    pair.member.key(i, &format!("{PARTICIPANT}#"));
    // The cascade INVITE is out, its answer not back yet: the caller goes.
    assert_eq!(cascades_opened_and_closed(&pair.member).0, 1);
    pair.member.caller_hangs_up(i);
    pair.progress(Duration::from_secs(40));
    assert!(cdrs(&pair.member).is_empty(), "no leg opened");
    assert_eq!(pair.member.node.calls(), 0);
    assert_eq!(pair.member.node.rooms(), 0);
    assert_eq!(
        pair.member.node.rtp_ports_left(),
        ports,
        "the cascade's port too"
    );
    assert_eq!(pair.owner.node.calls(), 1, "the owner's caller alone");
}

#[test]
fn a_lease_that_cannot_be_read_lets_the_first_caller_in_by_the_room_here_and_is_counted() {
    let mut pair = Pair::new();
    pair.member.room_owner = Some(RoomOwner::Unknown);
    pair.member_admitted(2, PARTICIPANT);
    assert_eq!(pair.member.node.media_stats().admissions_checked_alone, 1);
    assert_eq!(pair.member.node.rooms(), 1);
}
