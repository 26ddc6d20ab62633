//! CDRs that are never lost: the store goes away during a call, and the node
//! itself is killed mid-conference (SIGKILL) and started again.

use std::time::Duration;

use teleconf_adapters::store::CdrStore;
use teleconf_domain::{CallerRole, DisconnectCause};
use teleconf_tests::media::{NodeProcess, OpenConference};
use teleconf_tests::stack::Stack;

use super::edge::{Ua, node_behind_a_proxy, status, wait_for_legs};

#[tokio::test]
async fn cdrs_written_while_the_store_is_away_arrive_once_it_is_back() {
    let (stack, open, proxy, node) = node_behind_a_proxy().await;
    let target = node.uri(&open.access.number);
    let mut caller = Ua::new("127.0.0.1", node.sip).await;
    caller.join(&target, &open, CallerRole::Participant).await;
    wait_for_legs(&stack, &open, |legs| legs.len() == 1).await;

    // The store goes away; the caller hangs up: the close cannot be written.
    proxy.cut();
    let bye = caller.request("BYE", &target, "", "");
    caller.send(&bye).await;
    assert_eq!(status(&caller.final_response().await), "SIP/2.0 200 OK");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let legs = stack
        .store
        .legs_of_conference(open.conference.id)
        .await
        .unwrap();
    assert_eq!(legs[0].left_at, None, "not written while the store is away");

    // Back: the node's retries get it there.
    proxy.restore();
    let legs = wait_for_legs(&stack, &open, |legs| legs[0].left_at.is_some()).await;
    assert_eq!(legs.len(), 1);
    assert_eq!(legs[0].cause, Some(DisconnectCause::CallerHangup));
}

#[tokio::test]
async fn a_node_killed_mid_conference_closes_its_legs_once_on_restart() {
    let stack = Stack::new().await;
    let open = OpenConference::create(&stack.store).await;
    let spool = std::env::temp_dir().join(format!("teleconf-spool-{}", uuid::Uuid::new_v4()));
    let mut node = NodeProcess::start(&stack, &spool).await;
    let target = node.uri(&open.access.number);
    let mut first = Ua::new("127.0.0.1", node.sip).await;
    first.join(&target, &open, CallerRole::Participant).await;
    let mut second = Ua::new("127.0.0.1", node.sip).await;
    second.join(&target, &open, CallerRole::Listener).await;
    wait_for_legs(&stack, &open, |legs| legs.len() == 2).await;
    // Long enough for a heartbeat after the joins.
    tokio::time::sleep(Duration::from_secs(6)).await;

    node.kill().await;
    let legs = stack
        .store
        .legs_of_conference(open.conference.id)
        .await
        .unwrap();
    assert!(
        legs.iter().all(|leg| leg.left_at.is_none()),
        "cut: still open"
    );

    // The node comes back on the same spool: the cut legs are closed at its last
    // heartbeat, once each.
    let node = NodeProcess::start(&stack, &spool).await;
    let legs = wait_for_legs(&stack, &open, |legs| {
        legs.iter().all(|leg| leg.left_at.is_some())
    })
    .await;
    assert_eq!(legs.len(), 2, "one CDR per leg: {legs:?}");
    for leg in &legs {
        assert_eq!(leg.cause, Some(DisconnectCause::NodeRestart));
        let length = leg.duration_ms().unwrap();
        assert!(
            (5_000..60_000).contains(&length),
            "closed at the heartbeat: {length} ms"
        );
    }
    drop(node);
    let _ = std::fs::remove_dir_all(spool);
}
