//! Callers on the line of a running conference.

use chrono::{DateTime, Duration, Utc};
use teleconf_domain::{AccountId, CallerRole, ConferenceId, LegId, LiveParticipant};

use crate::store::Store;

pub async fn live_callers_are_listed_updated_and_removed(store: &impl Store) {
    let conference = ConferenceId::new();
    let now = DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
    let caller = |joined_at, role| LiveParticipant {
        leg_id: LegId::new(),
        conference_id: conference,
        account_id: AccountId::new(),
        caller_id: "+15145550123".into(),
        role,
        joined_at,
        muted: false,
    };
    let first = caller(now, CallerRole::Moderator);
    let mut second = caller(now + Duration::seconds(5), CallerRole::Participant);
    assert!(
        store
            .live_participants(conference)
            .await
            .unwrap()
            .is_empty()
    );
    store.put_live(&second).await.unwrap();
    store.put_live(&first).await.unwrap();
    second.muted = true;
    store.put_live(&second).await.unwrap();
    assert_eq!(
        store.live_participants(conference).await.unwrap(),
        vec![first.clone(), second.clone()],
        "oldest first, the update kept"
    );
    store.remove_live(conference, first.leg_id).await.unwrap();
    assert_eq!(
        store.live_participants(conference).await.unwrap(),
        vec![second]
    );
    assert!(
        store
            .live_participants(ConferenceId::new())
            .await
            .unwrap()
            .is_empty()
    );
}
