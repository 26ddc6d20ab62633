//! The rooms' leases: who holds a conference's room decides where it opens.

use super::*;

fn claims(log: &[Output]) -> Vec<&IoOutput> {
    log.iter()
        .filter_map(|output| match output {
            Output::Io(io @ (IoOutput::ClaimRoom(_) | IoOutput::ReleaseRoom(_))) => Some(io),
            _ => None,
        })
        .collect()
}

#[test]
fn the_first_join_claims_the_rooms_lease_and_the_last_leave_releases_it() {
    let mut shell = Shell::new(config(PORTS));
    let conference = shell.conference.id;
    let a = shell.admitted(1, PARTICIPANT);
    let b = shell.admitted(2, PARTICIPANT);
    assert_eq!(
        claims(&shell.log),
        [&IoOutput::ClaimRoom(conference)],
        "claimed once"
    );
    assert_eq!(shell.node.held_rooms().collect::<Vec<_>>(), [conference]);
    for i in [a, b] {
        shell.caller_hangs_up(i);
        shell.progress(Duration::from_millis(40));
    }
    assert_eq!(shell.node.rooms(), 0);
    assert_eq!(
        claims(&shell.log),
        [
            &IoOutput::ClaimRoom(conference),
            &IoOutput::ReleaseRoom(conference)
        ]
    );
    assert_eq!(shell.node.held_rooms().count(), 0);
}

#[test]
fn joins_wait_for_the_claim_and_go_in_together_once_it_is_answered() {
    let mut shell = Shell::new(config(PORTS));
    shell.room_owner = None;
    let conference = shell.conference.id;
    let a = shell.admitted(1, PARTICIPANT);
    let b = shell.admitted(2, PARTICIPANT);
    assert_eq!(shell.claims, [conference], "one claim for both joins");
    assert_eq!(shell.node.rooms(), 0, "no room before the answer");
    shell.answer_claim(RoomOwner::Here);
    assert_eq!(shell.node.rooms(), 1);
    shell.callers[a].level = Some(2000);
    shell.callers[b].level = Some(-5000);
    // The first caller's announcement plays now, not at its admission.
    shell.progress(Duration::from_secs(5));
    they_hear_each_other_only(&mut shell, a, b);
}

#[test]
fn a_caller_who_hangs_up_while_the_claim_waits_never_enters_the_room() {
    let mut shell = Shell::new(config(PORTS));
    shell.room_owner = None;
    let conference = shell.conference.id;
    let a = shell.admitted(1, PARTICIPANT);
    shell.caller_hangs_up(a);
    shell.progress(Duration::from_millis(40));
    shell.answer_claim(RoomOwner::Here);
    assert_eq!(shell.node.rooms(), 0, "nobody went in");
    assert_eq!(
        claims(&shell.log),
        [
            &IoOutput::ClaimRoom(conference),
            &IoOutput::ReleaseRoom(conference)
        ],
        "the lease claimed for nobody is given back"
    );
}

#[test]
fn a_store_away_at_the_claim_opens_the_room_here_counted_and_held_for_the_heartbeat() {
    let mut shell = Shell::new(config(PORTS));
    shell.room_owner = Some(RoomOwner::Unknown);
    let conference = shell.conference.id;
    let a = shell.admitted(1, PARTICIPANT);
    let b = shell.admitted(2, PARTICIPANT);
    assert_eq!(shell.node.rooms(), 1);
    assert_eq!(shell.node.media_stats().rooms_unleased, 1);
    assert_eq!(
        shell.node.held_rooms().collect::<Vec<_>>(),
        [conference],
        "the heartbeat claims it when the store is back"
    );
    shell.callers[a].level = Some(2000);
    shell.callers[b].level = Some(-5000);
    shell.progress(Duration::from_millis(500));
    they_hear_each_other_only(&mut shell, a, b);
}

#[test]
fn without_a_cascade_a_room_whose_lease_another_node_holds_is_counted_and_neither_renewed_nor_released()
 {
    let mut config = config(PORTS);
    config.cascade = None;
    let mut shell = Shell::new(config);
    shell.room_owner = Some(RoomOwner::Elsewhere {
        node: "node-b".parse().unwrap(),
        cascade: addr("10.0.0.8:5060"),
    });
    let conference = shell.conference.id;
    let a = shell.admitted(1, PARTICIPANT);
    assert_eq!(shell.node.media_stats().rooms_owned_elsewhere, 1);
    assert_eq!(shell.node.held_rooms().count(), 0, "not ours to renew");
    shell.caller_hangs_up(a);
    shell.progress(Duration::from_millis(40));
    assert_eq!(shell.node.rooms(), 0);
    assert_eq!(
        claims(&shell.log),
        [&IoOutput::ClaimRoom(conference)],
        "another node's lease is never released by this one"
    );
}
