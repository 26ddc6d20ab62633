//! Another node's cascade into a room this node holds (the owner's side).

use super::*;
use crate::app::cascade;

/// The member node's SIP address, inside the nodes' subnet of [`config`].
const MEMBER: &str = "10.0.0.8:5060";

/// Caller `n`'s INVITE made a cascade into `conference`, signed with `secret`.
fn cascade_invite(n: u32, conference: ConferenceId, secret: &[u8]) -> String {
    let secret = CascadeSecret::new(secret).expect("a secret");
    let node: teleconf_domain::NodeId = "node-b".parse().expect("a node id");
    let headers: String = cascade::headers(
        &secret,
        conference,
        &node,
        &format!("{n}-4242@127.0.0.1"),
        utc(13, 40),
    )
    .iter()
    .map(|header| format!("{header}\r\n"))
    .collect();
    invite(n).replacen("\r\nCall-ID:", &format!("\r\n{headers}Call-ID:"), 1)
}

impl Shell {
    /// Another node, at `from`, opens a cascade into the conference signed with
    /// `secret`, and acknowledges our answer; returns its index.
    fn cascade(&mut self, n: u32, from: &str, secret: &[u8]) -> usize {
        let invite = cascade_invite(n, self.conference.id, secret);
        let i = self.send_invite(n, addr(from), &invite);
        self.ack(i);
        i
    }

    fn cascades_refused(&self) -> u64 {
        self.node.media_stats().cascades_refused
    }
}

fn cdrs_opened(shell: &Shell) -> usize {
    shell
        .log
        .iter()
        .filter(|o| matches!(o, Output::Io(IoOutput::CdrOpen(_))))
        .count()
}

#[test]
fn a_signed_cascade_joins_the_held_room_as_one_talker_without_ivr_cdr_or_count() {
    let mut shell = Shell::new(config(PORTS));
    let a = shell.admitted(1, PARTICIPANT);
    let b = shell.admitted(2, PARTICIPANT);
    let since = shell.log.len();
    let c = shell.cascade(3, MEMBER, CASCADE_SECRET);
    // Answered, then told the room's figures (its callers' checks wait on them).
    assert_eq!(
        sip_lines(&shell.log[since..]),
        [
            "SIP/2.0 100 Trying",
            "SIP/2.0 200 OK",
            "INFO sip:sipp@127.0.0.1:5061 SIP/2.0"
        ],
    );
    let told = shell.log[since..].iter().find_map(|o| match o {
        Output::Io(IoOutput::SendSip { bytes, .. }) if bytes.starts_with(b"INFO ") => {
            Some(String::from_utf8_lossy(bytes).into_owned())
        }
        _ => None,
    });
    assert!(
        told.is_some_and(|info| info.ends_with(r#"{"type":"room","callers":2,"locked":false}"#)),
        "{:?}",
        shell.sip_sent()
    );
    assert_eq!(cdrs_opened(&shell), 2, "a cascade is no billed leg");
    // The member's callers' sum comes on the cascade.
    shell.callers[a].level = Some(2000);
    shell.callers[b].level = Some(-5000);
    shell.callers[c].level = Some(1000);
    shell.progress(Duration::from_millis(500));
    let since = shell.log.len();
    shell.progress(Duration::from_millis(500));
    let (a_hears, b_hears, c_hears) = (
        shell.heard(a, since),
        shell.heard(b, since),
        shell.heard(c, since),
    );
    assert!(
        c_hears.len() >= 20,
        "the cascade gets the room: {c_hears:?}"
    );
    assert!(
        a_hears.iter().all(|&l| close_to(l, -4000)),
        "A hears B and the member's callers: {a_hears:?}"
    );
    assert!(
        b_hears.iter().all(|&l| close_to(l, 3000)),
        "B hears A and the member's callers: {b_hears:?}"
    );
    assert!(
        c_hears.iter().all(|&l| close_to(l, -3000)),
        "the member gets A and B, never its own callers back: {c_hears:?}"
    );
    // `*0`'s count is of the callers, not the cascade; the room stays while the
    // cascade is in, and goes with it.
    shell.caller_hangs_up(a);
    shell.caller_hangs_up(b);
    shell.progress(Duration::from_millis(100));
    assert_eq!(shell.node.rooms(), 1, "the member's callers are still in");
    shell.caller_hangs_up(c);
    shell.progress(Duration::from_millis(100));
    assert_eq!(shell.node.rooms(), 0);
    assert_eq!(cdrs_opened(&shell), 2);
}

#[test]
fn a_listener_on_the_owner_is_never_heard_through_the_cascade() {
    let mut shell = Shell::new(config(PORTS));
    let a = shell.admitted(1, PARTICIPANT);
    let l = shell.admitted(2, LISTENER);
    let c = shell.cascade(3, MEMBER, CASCADE_SECRET);
    shell.callers[a].level = Some(2000);
    shell.callers[l].level = Some(-8000);
    shell.callers[c].level = Some(0);
    shell.progress(Duration::from_millis(500));
    let since = shell.log.len();
    shell.progress(Duration::from_millis(500));
    let c_hears = shell.heard(c, since);
    assert!(c_hears.len() >= 20, "{c_hears:?}");
    assert!(
        c_hears.iter().all(|&x| close_to(x, 2000)),
        "the cascade carries A, never the listener: {c_hears:?}"
    );
}

#[test]
fn a_cascade_invite_unsigned_from_a_stranger_or_through_the_sip_entry_gets_403_and_is_counted() {
    let mut config = config(PORTS);
    config.entry_sources = "127.0.0.2".parse().expect("the entry");
    let mut shell = Shell::new(config);
    shell.admitted(1, PARTICIPANT);
    let conference = shell.conference.id;
    let cases = [
        (
            "another secret",
            MEMBER,
            cascade_invite(3, conference, b"not the nodes' secret at all"),
        ),
        (
            "not a node's address",
            "10.0.1.8:5060",
            cascade_invite(4, conference, CASCADE_SECRET),
        ),
        (
            "through the SIP entry",
            "127.0.0.2:5060",
            cascade_invite(5, conference, CASCADE_SECRET),
        ),
        (
            "from the trunk",
            "127.0.0.1:5061",
            cascade_invite(6, conference, CASCADE_SECRET),
        ),
        (
            "no signature",
            MEMBER,
            with_header(
                &invite(7),
                &format!("{}: {conference}", cascade::CONFERENCE_HEADER),
            ),
        ),
    ];
    for (n, (why, from, text)) in cases.iter().enumerate() {
        let since = shell.log.len();
        shell.datagram(addr(from), text);
        assert_eq!(
            sip_lines(&shell.log[since..]),
            ["SIP/2.0 403 Forbidden"],
            "{why}"
        );
        assert_eq!(shell.cascades_refused(), n as u64 + 1, "{why}");
    }
    assert_eq!(shell.node.calls(), 1, "none became a call");
}

#[test]
fn a_cascade_into_a_room_not_held_here_gets_404() {
    let mut shell = Shell::new(config(PORTS));
    let since = shell.log.len();
    let conference = shell.conference.id;
    shell.datagram(addr(MEMBER), &cascade_invite(3, conference, CASCADE_SECRET));
    assert_eq!(
        sip_lines(&shell.log[since..]),
        ["SIP/2.0 404 Not Found"],
        "no room here"
    );
    // A room opened here while another node holds the lease is not this node's.
    shell.room_owner = Some(RoomOwner::Elsewhere {
        node: "node-c".parse().expect("a node id"),
        cascade: addr("10.0.0.9:5060"),
    });
    // (its owner, asked for its room's figures, silent: let in by the room here)
    let i = shell.dial(1);
    shell.admit_within(
        i,
        PARTICIPANT,
        super::gate::OWNER_WAIT + Duration::from_millis(200),
    );
    let since = shell.log.len();
    shell.datagram(addr(MEMBER), &cascade_invite(4, conference, CASCADE_SECRET));
    assert_eq!(sip_lines(&shell.log[since..]), ["SIP/2.0 404 Not Found"]);
    assert_eq!(shell.cascades_refused(), 0, "signed, only misdirected");
}

/// `message` with one more header before its Call-ID.
fn with_header(message: &str, header: &str) -> String {
    message.replacen("\r\nCall-ID:", &format!("\r\n{header}\r\nCall-ID:"), 1)
}
