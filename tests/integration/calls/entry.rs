//! Calls through the SIP entry (Kamailio) in front of two media nodes
//! (`teleconf_tests::sip_entry`): new calls are spread over the nodes, and a node
//! told to stop (SIGTERM) takes no new call, keeps its calls until they hang up,
//! and exits once empty: no call is cut. The entry's list outlives an outage of
//! the registry.

use std::time::Duration;

use teleconf_domain::{CallLeg, CallerRole, DisconnectCause, NodeState};
use teleconf_tests::media::OpenConference;
use teleconf_tests::peers::ScratchDir;
use teleconf_tests::peers::baresip::Baresip;
use teleconf_tests::peers::tone::write_tone;
use teleconf_tests::sip_entry::SipEntry;
use teleconf_tests::stack::Stack;

use super::edge::wait_for_legs;

/// How long a heartbeat may take to show a change (written every 5 s, the load
/// copied every second).
pub(super) const HEARTBEAT: Duration = Duration::from_secs(15);

/// How long a caller may take to get through the IVR and be admitted, on a
/// loaded machine (three SIP peers and two nodes per test, beside the others).
pub(super) const ADMITTED: Duration = Duration::from_secs(30);

/// A baresip caller playing `tone`, dialled through `entry` into `open` as a
/// participant.
pub(super) async fn participant(
    dir: &ScratchDir,
    name: &str,
    tone: f64,
    entry: &SipEntry,
    open: &OpenConference,
) -> Baresip {
    let uri = entry.uri(&open.access.number);
    caller(dir, name, (tone, CallerRole::Participant), &uri, open).await
}

/// A baresip caller playing `tone`, dialling `uri` (the access number, through
/// the entry or at a node) into `open` in `role`.
pub(super) async fn caller(
    dir: &ScratchDir,
    name: &str,
    (tone, role): (f64, CallerRole),
    uri: &str,
    open: &OpenConference,
) -> Baresip {
    let microphone = dir.join(&format!("{name}.wav"));
    write_tone(&microphone, tone, Duration::from_secs(120)).unwrap();
    let mut phone = Baresip::start(name, &microphone).await.unwrap();
    phone.dial(uri).await.unwrap();
    phone.send_digits(&open.number_keys()).await.unwrap();
    phone.send_digits(&open.code_keys(role)).await.unwrap();
    phone
}

/// Which node carries exactly `calls` calls, once one does.
pub(super) async fn node_with(stack: &Stack, entry: &SipEntry, calls: u32) -> usize {
    let deadline = tokio::time::Instant::now() + HEARTBEAT;
    loop {
        for i in 0..entry.nodes.len() {
            if entry
                .heartbeat(stack, i)
                .await
                .is_some_and(|beat| beat.calls == calls)
            {
                return i;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no node carries {calls} call(s); logs in {}",
            entry.keep_logs().display()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn calls_through_the_sip_entry_are_spread_over_the_nodes() {
    let stack = Stack::new().await;
    let open = OpenConference::create(&stack.store).await;
    let entry = SipEntry::start(&stack, 2).await.unwrap();
    let dir = ScratchDir::new("entry-spread").unwrap();
    // Calls one after another go to the nodes in turn: the first to one node,
    // the second to the other, the third back to the first.
    let mut callers = Vec::new();
    let all: Vec<_> = entry.nodes.iter().map(|node| node.sip).collect();
    let mut first = None;
    for n in 0..3 {
        // Both probed up (a probe lost on a loaded machine sets a node inactive
        // until the next one, and the round robin passes it by).
        entry
            .wait_until_active(&all, Duration::from_secs(10))
            .await
            .unwrap();
        let name = format!("spread-{n}");
        callers.push(participant(&dir, &name, 440.0 + 250.0 * n as f64, &entry, &open).await);
        wait_for_legs(&stack, &open, |legs| legs.len() == n + 1).await;
        let node = match first {
            None => node_with(&stack, &entry, 1).await,
            Some(first) => (first + n) % 2,
        };
        first.get_or_insert(node);
        let calls = n as u32 / 2 + 1;
        entry
            .wait_for_heartbeat(&stack, node, |beat| beat.participants == calls, HEARTBEAT)
            .await
            .unwrap_or_else(|error| {
                panic!(
                    "call {n} not on node {node}: {error}; logs in {}",
                    entry.keep_logs().display()
                )
            });
    }
    for caller in &mut callers {
        caller.hangup().await.unwrap();
    }
    every_leg_hung_up_by_its_caller(&stack, &open, callers.len()).await;
}

/// Waits until `open` has `count` legs, all closed, and checks each was closed by
/// its caller: no call was cut. Returns them.
pub(super) async fn every_leg_hung_up_by_its_caller(
    stack: &Stack,
    open: &OpenConference,
    count: usize,
) -> Vec<CallLeg> {
    let legs = wait_for_legs(stack, open, |legs| {
        legs.len() == count && legs.iter().all(|leg| leg.left_at.is_some())
    })
    .await;
    assert!(
        legs.iter()
            .all(|leg| leg.cause == Some(DisconnectCause::CallerHangup)),
        "a call was cut: {legs:?}"
    );
    legs
}

#[tokio::test]
async fn a_draining_node_keeps_its_call_until_it_hangs_up_while_new_calls_go_to_the_other() {
    let stack = Stack::new().await;
    let open = OpenConference::create(&stack.store).await;
    let mut entry = SipEntry::start(&stack, 2).await.unwrap();
    let dir = ScratchDir::new("entry-drain").unwrap();
    let mut a = participant(&dir, "drain-a", 440.0, &entry, &open).await;
    wait_for_legs(&stack, &open, |legs| legs.len() == 1).await;
    let draining = node_with(&stack, &entry, 1).await;
    let other = 1 - draining;

    // ECS stops the task: the node drains, the registry and Kamailio follow.
    entry.terminate(draining).unwrap();
    entry
        .wait_for_heartbeat(
            &stack,
            draining,
            |beat| beat.state == NodeState::Draining,
            HEARTBEAT,
        )
        .await
        .unwrap();
    entry
        .wait_until_active(&[entry.nodes[other].sip], Duration::from_secs(10))
        .await
        .unwrap();

    // New calls go to the other node.
    let mut b = participant(&dir, "drain-b", 1000.0, &entry, &open).await;
    let mut c = participant(&dir, "drain-c", 1700.0, &entry, &open).await;
    wait_for_legs(&stack, &open, |legs| legs.len() == 3).await;
    entry
        .wait_for_heartbeat(&stack, other, |beat| beat.calls == 2, HEARTBEAT)
        .await
        .unwrap();

    // The draining node's call goes on, and the node with it.
    assert!(
        a.wait_for(&["CALL_CLOSED"], Duration::from_secs(3))
            .await
            .is_err(),
        "the draining node's call was cut"
    );
    assert_eq!(
        entry.exited(draining, Duration::from_millis(100)).await,
        None
    );
    // Its caller hangs up: the node, empty, exits by itself (once the BYE's
    // transaction has absorbed any retransmission: 64*T1, 32 s, over UDP).
    a.hangup().await.unwrap();
    let status = entry.exited(draining, Duration::from_secs(45)).await;
    assert!(
        status.is_some_and(|s| s.success()),
        "{status:?}; logs in {}",
        entry.keep_logs().display()
    );
    entry
        .wait_for_heartbeat(
            &stack,
            draining,
            |beat| beat.state == NodeState::Stopped,
            HEARTBEAT,
        )
        .await
        .unwrap();

    b.hangup().await.unwrap();
    c.hangup().await.unwrap();
    every_leg_hung_up_by_its_caller(&stack, &open, 3).await;
}

#[tokio::test]
async fn the_sip_entry_keeps_its_node_list_while_the_registry_is_unreachable() {
    let stack = Stack::new().await;
    let (proxy, _) = stack.store_through_proxy().await;
    let entry = SipEntry::start_with(&stack, 2, Some(proxy.url()))
        .await
        .unwrap();
    let uri = |i: usize| format!("sip:{}", entry.nodes[i].sip);
    let mut both = vec![uri(0), uri(1)];
    both.sort();
    assert_eq!(entry.listed(), both);
    // The sync cannot read the registry; meanwhile a node stops (no call: it
    // drains and exits at once).
    proxy.cut();
    entry.terminate(0).unwrap();
    entry
        .wait_for_heartbeat(&stack, 0, |beat| beat.state != NodeState::Active, HEARTBEAT)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(entry.listed(), both, "the last list stays");
    // Readable again: the list follows the registry.
    proxy.restore();
    entry
        .wait_until_active(&[entry.nodes[1].sip], Duration::from_secs(15))
        .await
        .unwrap();
    assert_eq!(entry.listed(), [uri(1)]);
}
