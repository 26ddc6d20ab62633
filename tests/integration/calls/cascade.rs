//! One conference over two media nodes behind the SIP entry (issue #16): the
//! first caller's node holds the room (its lease), a caller whom Kamailio sends
//! to the other node joins that room through the cascade between the nodes.
//! Three baresip callers, each playing its own tone: what each heard shows the
//! room is whole, the listener unheard, nobody hearing itself.

use std::time::Duration;

use teleconf_adapters::store::RoomStore;
use teleconf_domain::{CallLeg, CallerRole, DisconnectCause};
use teleconf_tests::media::OpenConference;
use teleconf_tests::peers::ScratchDir;
use teleconf_tests::peers::tone::Recording;
use teleconf_tests::sip_entry::SipEntry;
use teleconf_tests::stack::Stack;

use super::edge::wait_for_legs;
use super::entry::{caller, node_with};
use super::sipp_and_baresip::{HEARD, NOT_HEARD, conference_window};

/// How many callers may be dialled through the entry before one lands on the
/// other node (Kamailio's round robin is not strictly per call here).
const TRIES: usize = 4;

#[tokio::test]
async fn three_callers_on_two_nodes_hear_one_room_through_the_cascade() {
    let stack = Stack::new().await;
    let open = OpenConference::create(&stack.store).await;
    let entry = SipEntry::start(&stack, 2).await.unwrap();
    let dir = ScratchDir::new("cascade").unwrap();
    let all: Vec<_> = entry.nodes.iter().map(|node| node.sip).collect();

    // The first participant: its node claims the room.
    let mut a = caller(
        &dir,
        "cascade-a",
        (440.0, CallerRole::Participant),
        &entry,
        &open,
    )
    .await;
    wait_for_legs(&stack, &open, |legs| legs.len() == 1).await;
    let owner = node_with(&stack, &entry, 1).await;
    let member = 1 - owner;
    let lease = stack
        .store
        .room_lease(open.conference.id)
        .await
        .unwrap()
        .expect("the room's lease");
    assert_eq!(lease.owner, entry.nodes[owner].id);
    assert_eq!(lease.cascade, entry.nodes[owner].sip);

    // The second participant, dialled through the entry until it lands on the
    // other node (one that lands on the owner hangs up and is not counted).
    let mut b = None;
    let mut dialled = 1;
    for n in 0..TRIES {
        entry
            .wait_until_active(&all, Duration::from_secs(10))
            .await
            .unwrap();
        let mut phone = caller(
            &dir,
            &format!("cascade-b{n}"),
            (1000.0, CallerRole::Participant),
            &entry,
            &open,
        )
        .await;
        dialled += 1;
        wait_for_legs(&stack, &open, |legs| legs.len() == dialled).await;
        let landed = entry
            .wait_for_heartbeat(
                &stack,
                member,
                |beat| beat.calls >= 1,
                Duration::from_secs(7),
            )
            .await
            .is_ok();
        if landed {
            b = Some(phone);
            break;
        }
        phone.hangup().await.unwrap();
    }
    let mut b = b.unwrap_or_else(|| {
        panic!(
            "{TRIES} calls, none on the other node; logs in {}",
            entry.keep_logs().display()
        )
    });
    // The listener, wherever Kamailio sends it.
    let mut l = caller(
        &dir,
        "cascade-l",
        (1700.0, CallerRole::Listener),
        &entry,
        &open,
    )
    .await;
    wait_for_legs(&stack, &open, |legs| legs.len() == dialled + 1).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    for phone in [&mut a, &mut b, &mut l] {
        phone.hangup().await.unwrap();
    }

    let tones = [440.0, 1000.0, 1700.0];
    let heard: Vec<Recording> = [&a, &b, &l]
        .iter()
        .map(|phone| conference_window(&Recording::read(&phone.heard().unwrap()).unwrap()))
        .collect();
    let share = |who: usize, tone: f64| heard[who].tone_share(tone);
    let report = format!(
        "{}; logs in {}",
        heard
            .iter()
            .map(|r| r.describe(&tones))
            .collect::<Vec<_>>()
            .join(" | "),
        entry.keep_logs().display()
    );
    // Each participant hears the other, through the cascade, and never itself.
    assert!(share(0, 1000.0) > HEARD, "A hears B: {report}");
    assert!(
        share(0, 440.0) < NOT_HEARD,
        "A never hears itself: {report}"
    );
    assert!(share(1, 440.0) > HEARD, "B hears A: {report}");
    assert!(
        share(1, 1000.0) < NOT_HEARD,
        "B never hears itself: {report}"
    );
    // The listener hears both, and nobody hears it.
    assert!(
        share(2, 440.0) > HEARD && share(2, 1000.0) > HEARD,
        "{report}"
    );
    for who in 0..3 {
        assert!(share(who, 1700.0) < NOT_HEARD, "{report}");
    }

    // Each caller's leg written once, by its own node; the cascade is no leg.
    let legs: Vec<CallLeg> = wait_for_legs(&stack, &open, |legs| {
        legs.len() == dialled + 1 && legs.iter().all(|leg| leg.left_at.is_some())
    })
    .await;
    assert!(
        legs.iter()
            .all(|leg| leg.cause == Some(DisconnectCause::CallerHangup)),
        "{legs:?}"
    );
    // Written by the node each caller called, every one noting the one owner.
    assert!(
        legs.iter()
            .all(|leg| leg.owner_node.as_ref() == Some(&entry.nodes[owner].id)),
        "{legs:?}"
    );
    // The room's lease goes with the owner's last caller (the cascade's end).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while stack
        .store
        .room_lease(open.conference.id)
        .await
        .unwrap()
        .is_some()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the lease outlived the room; logs in {}",
            entry.keep_logs().display()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
