//! A media node killed mid-conference (`kill -9`) behind the SIP entry loses
//! nothing that was acknowledged: the scheduler's tick reaps it once its heartbeat
//! is older than the limit, closing its callers' legs once as `node_lost` at its
//! last heartbeat and cutting its recording to the segments already in S3; a new
//! caller reaches the surviving node and is admitted.

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use teleconf_adapters::blobs::BlobStore;
use teleconf_adapters::store::{CdrStore, RecordingStore};
use teleconf_domain::{CallerRole, DisconnectCause, NodeState, Recording, RecordingState};
use teleconf_tests::lambdas::{scheduler_deps, tick};
use teleconf_tests::media::OpenConference;
use teleconf_tests::peers::ScratchDir;
use teleconf_tests::sip_entry::{RECORDING_SEGMENT_SECS, SipEntry};
use teleconf_tests::stack::Stack;

use super::edge::wait_for_legs_within;
use super::entry::{HEARTBEAT, caller, node_with, participant};

/// The reaper's limit here: three heartbeats missed (the default is six).
const LOST_AFTER: TimeDelta = TimeDelta::seconds(15);

/// How long a caller may take to get through the IVR and be admitted, on a
/// loaded machine (three SIP peers and two nodes per test).
const ADMITTED: Duration = Duration::from_secs(30);

/// The conference's recording once `done` holds, polling the table.
async fn recording_when(
    stack: &Stack,
    open: &OpenConference,
    done: impl Fn(&Recording) -> bool,
) -> Recording {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let recordings = stack
            .store
            .recordings(open.conference.account_id, Some(open.conference.id))
            .await
            .unwrap();
        if let Some(r) = recordings.into_iter().find(&done) {
            return r;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the recording never got there"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_node_killed_mid_conference_has_its_legs_closed_once_its_recording_kept_and_a_new_caller_goes_to_the_other()
 {
    let stack = Stack::new().await;
    let open = OpenConference::create_with(&stack.store, true).await;
    let mut entry = SipEntry::start(&stack, 2).await.unwrap();
    let dir = ScratchDir::new("lost-node").unwrap();

    // Two callers on one node: the first through the entry, the second straight
    // to the node it landed on (as the trunk may reach a node).
    let mut a = participant(&dir, "lost-a", 440.0, &entry, &open).await;
    wait_for_legs_within(&stack, &open, ADMITTED, |legs| legs.len() == 1).await;
    let lost = node_with(&stack, &entry, 1).await;
    let survivor = 1 - lost;
    let straight = format!(
        "sip:{}@{}",
        open.access.number.as_str(),
        entry.nodes[lost].sip
    );
    let mut b = caller(
        &dir,
        "lost-b",
        (1000.0, CallerRole::Participant),
        &straight,
        &open,
    )
    .await;
    wait_for_legs_within(&stack, &open, ADMITTED, |legs| legs.len() == 2).await;
    entry
        .wait_for_heartbeat(&stack, lost, |beat| beat.calls == 2, HEARTBEAT)
        .await
        .unwrap();

    // Segments reach S3 as the conference goes: two of them, then kill -9.
    let recording = recording_when(&stack, &open, |r| {
        r.state == RecordingState::Recording && r.segments.len() >= 2
    })
    .await;
    entry.kill(lost).await.unwrap();
    let last = entry.heartbeat(&stack, lost).await.unwrap();
    assert_eq!(last.state, NodeState::Active, "it never said it stopped");

    // The scheduler's tick once the node is unheard past the limit.
    let deps = teleconf_scheduler::Deps {
        lost_after: LOST_AFTER,
        ..scheduler_deps(&stack)
    };
    let wait = (last.heartbeat_at + LOST_AFTER + TimeDelta::seconds(1)) - Utc::now();
    tokio::time::sleep(wait.to_std().unwrap_or_default()).await;
    let lost_id = &entry.nodes[lost].id;
    let report = tick(&deps, Utc::now()).await;
    assert!(
        report.reaped.iter().any(|(node, _)| node == lost_id),
        "{report:?}"
    );
    let legs = stack
        .store
        .legs_of_conference(open.conference.id)
        .await
        .unwrap();
    assert_eq!(legs.len(), 2);
    for leg in &legs {
        assert_eq!(leg.node.as_ref(), Some(lost_id));
        assert_eq!(leg.cause, Some(DisconnectCause::NodeLost), "{leg:?}");
        assert_eq!(
            leg.left_at,
            Some(last.heartbeat_at),
            "at its last heartbeat"
        );
    }
    // A second tick changes nothing.
    let again = tick(&deps, Utc::now()).await;
    assert!(again.reaped.iter().all(|(node, _)| node != lost_id));
    assert_eq!(
        stack
            .store
            .legs_of_conference(open.conference.id)
            .await
            .unwrap(),
        legs
    );

    // The recording is cut to the segments it uploaded, each one in S3.
    let cut = stack.store.recording(recording.id).await.unwrap().unwrap();
    assert_eq!(cut.state, RecordingState::Cut);
    assert!(cut.segments.len() >= recording.segments.len(), "{cut:?}");
    for (i, segment) in cut.segments.iter().enumerate() {
        assert_eq!(segment.index as usize, i, "in order, none missing");
        assert_eq!(segment.duration_ms, RECORDING_SEGMENT_SECS * 1000);
        let wav = stack
            .blobs
            .get(&cut.segment_key(segment.index))
            .await
            .unwrap();
        assert_eq!(
            wav.map(|w| w.len() as u64),
            Some(segment.size_bytes),
            "segment {i} in S3"
        );
    }

    // A new caller reaches the surviving node and is admitted: once the entry
    // has dropped the lost node, and past the lost owner's lease (15-20 s).
    entry
        .wait_until_active(&[entry.nodes[survivor].sip], Duration::from_secs(30))
        .await
        .unwrap();
    let lease = (last.heartbeat_at + TimeDelta::seconds(21)) - Utc::now();
    tokio::time::sleep(lease.to_std().unwrap_or_default()).await;
    let mut c = participant(&dir, "lost-c", 1700.0, &entry, &open).await;
    let legs = wait_for_legs_within(&stack, &open, ADMITTED, |legs| legs.len() == 3).await;
    let new = legs.iter().find(|leg| leg.left_at.is_none()).unwrap();
    assert_eq!(new.node.as_ref(), Some(&entry.nodes[survivor].id));
    entry
        .wait_for_heartbeat(&stack, survivor, |beat| beat.participants == 1, HEARTBEAT)
        .await
        .unwrap();

    for phone in [&mut a, &mut b, &mut c] {
        let _ = phone.hangup().await;
    }
}
