//! The activity feed: newest first.

use chrono::{Duration, Utc};
use teleconf_domain::{AccountId, Activity, ActivityKind};

use super::account_with_owner;
use crate::store::Store;

pub async fn activity_is_listed_newest_first(store: &impl Store) {
    let (account, owner) = account_with_owner(store).await;
    let now = Utc::now();
    let mut ids = Vec::new();
    for (i, kind) in [
        ActivityKind::UserCreated,
        ActivityKind::ConferenceCreated,
        ActivityKind::CallJoined,
    ]
    .into_iter()
    .enumerate()
    {
        let a = Activity::new(
            account.id,
            now + Duration::seconds(i as i64),
            Some(owner.id),
            kind,
            None,
            format!("entry {i}"),
        );
        store.record_activity(&a).await.unwrap();
        ids.push(a.id);
    }
    let recent: Vec<_> = store
        .recent_activity(account.id, 2)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(recent, vec![ids[2], ids[1]]);
    assert!(
        store
            .recent_activity(AccountId::new(), 10)
            .await
            .unwrap()
            .is_empty()
    );
}
