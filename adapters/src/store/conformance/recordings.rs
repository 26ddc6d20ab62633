//! Recordings: listed by account and by conference.

use teleconf_domain::{AccountId, Conference, Recording, RecordingId};

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
