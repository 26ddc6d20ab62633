//! Recordings: listed by account and by conference.

use teleconf_domain::{
    AccountId, Conference, NodeId, Recording, RecordingId, RecordingSegment, RecordingState,
};

use super::{account_with_owner, create_conference};
use crate::store::Store;

pub async fn recordings_are_listed_by_account_and_conference(store: &impl Store) {
    let (account, owner) = account_with_owner(store).await;
    let a = create_conference(store, &owner).await;
    let b = create_conference(store, &owner).await;
    let rec = |conference: &Conference| Recording {
        id: RecordingId::new(),
        account_id: account.id,
        conference_id: conference.id,
        started_at: conference.schedule.start(),
        duration_ms: 61_000,
        size_bytes: 976_044,
        state: RecordingState::Complete,
        segments: Vec::new(),
        node: None,
    };
    let (ra, rb) = (rec(&a), rec(&b));
    store.put_recording(&ra).await.unwrap();
    store.put_recording(&ra).await.unwrap();
    store.put_recording(&rb).await.unwrap();
    assert_eq!(store.recording(ra.id).await.unwrap(), Some(ra.clone()));
    assert_eq!(
        store.recordings(account.id, Some(a.id)).await.unwrap(),
        vec![ra.clone()]
    );
    assert_eq!(store.recordings(account.id, None).await.unwrap().len(), 2);
    assert!(
        store
            .recordings(AccountId::new(), None)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn a_lost_nodes_recordings_are_found_and_cut_once(store: &impl Store) {
    let (account, owner) = account_with_owner(store).await;
    let conference = create_conference(store, &owner).await;
    // Unique names: the table is shared by every test of the run.
    let node: NodeId = format!("lost-{}", RecordingId::new()).parse().unwrap();
    let mut recording = Recording {
        id: RecordingId::new(),
        account_id: account.id,
        conference_id: conference.id,
        started_at: conference.schedule.start(),
        duration_ms: 0,
        size_bytes: 0,
        state: RecordingState::Recording,
        segments: Vec::new(),
        node: Some(node.clone()),
    };
    store.put_recording(&recording).await.unwrap();
    recording.add_segment(RecordingSegment {
        index: 0,
        duration_ms: 60_000,
        size_bytes: 960_044,
    });
    store.put_recording(&recording).await.unwrap();
    let done = Recording {
        id: RecordingId::new(),
        state: RecordingState::Complete,
        ..recording.clone()
    };
    store.put_recording(&done).await.unwrap();
    assert_eq!(
        store.recordings_of_node(&node).await.unwrap(),
        vec![recording.clone()],
        "only what it is still recording"
    );

    assert!(store.cut_recording(&recording).await.unwrap());
    assert!(
        !store.cut_recording(&recording).await.unwrap(),
        "a second cut changes nothing"
    );
    let cut = store.recording(recording.id).await.unwrap().unwrap();
    assert_eq!(cut.state, RecordingState::Cut);
    assert_eq!(cut.segments, recording.segments, "the segments kept listed");
    assert!(store.recordings_of_node(&node).await.unwrap().is_empty());
    assert!(
        !store.cut_recording(&done).await.unwrap(),
        "a complete one stays"
    );
}
