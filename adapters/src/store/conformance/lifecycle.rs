//! Lifecycles and queued mail: found by start, each transition written once.

use chrono::Duration;
use teleconf_domain::AccountId;

use super::{account_with_owner, create_conference};
use crate::store::{LifecycleStore, Store};

pub async fn conferences_are_found_by_their_start(store: &(impl Store + LifecycleStore)) {
    let (_, owner) = account_with_owner(store).await;
    let c = create_conference(store, &owner).await;
    let start = c.schedule.start();
    let found = |from, to| async move {
        store
            .conferences_starting(owner.account_id, from, to)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(found(start, start).await, vec![c.id], "both ends included");
    assert_eq!(
        found(start - Duration::hours(1), start + Duration::hours(1)).await,
        vec![c.id]
    );
    assert!(
        found(
            start + Duration::milliseconds(1),
            start + Duration::hours(1)
        )
        .await
        .is_empty()
    );
    assert!(
        found(
            start - Duration::hours(1),
            start - Duration::milliseconds(1)
        )
        .await
        .is_empty()
    );
    let other = AccountId::new();
    assert!(
        store
            .conferences_starting(other, start, start)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn each_transition_is_written_once_and_only_from_its_status(
    store: &(impl Store + LifecycleStore),
) {
    use teleconf_domain::{ConferenceStatus, Lifecycle, Step};
    let (_, owner) = account_with_owner(store).await;
    let c = create_conference(store, &owner).await;
    assert_eq!(store.lifecycle(c.id).await.unwrap(), None);
    let scheduled = Lifecycle::scheduled(c.id, c.account_id);
    let open = scheduled.after(Step {
        from: ConferenceStatus::Scheduled,
        to: ConferenceStatus::Open,
        at: c.schedule.opens_at(),
    });
    assert!(
        store
            .advance_lifecycle(ConferenceStatus::Scheduled, &open, None)
            .await
            .unwrap()
    );
    assert!(
        !store
            .advance_lifecycle(ConferenceStatus::Scheduled, &open, None)
            .await
            .unwrap(),
        "a second writer of the same transition writes nothing"
    );
    assert_eq!(store.lifecycle(c.id).await.unwrap(), Some(open.clone()));
    let running = open.after(Step {
        from: ConferenceStatus::Open,
        to: ConferenceStatus::Running,
        at: c.schedule.start(),
    });
    assert!(
        !store
            .advance_lifecycle(ConferenceStatus::Running, &running, None)
            .await
            .unwrap(),
        "not from a status it is not in"
    );
    assert!(
        store
            .advance_lifecycle(ConferenceStatus::Open, &running, None)
            .await
            .unwrap()
    );
    assert_eq!(
        store.lifecycle(c.id).await.unwrap().map(|l| l.status),
        Some(ConferenceStatus::Running)
    );
}

pub async fn a_queued_mail_is_queued_once_with_its_transition(
    store: &(impl Store + LifecycleStore),
) {
    use teleconf_domain::{ConferenceStatus, Lifecycle, QueuedMail, QueuedMailKind, Step};
    let (_, owner) = account_with_owner(store).await;
    let c = create_conference(store, &owner).await;
    let open = Lifecycle::scheduled(c.id, c.account_id).after(Step {
        from: ConferenceStatus::Scheduled,
        to: ConferenceStatus::Open,
        at: c.schedule.opens_at(),
    });
    assert!(
        store
            .advance_lifecycle(ConferenceStatus::Scheduled, &open, None)
            .await
            .unwrap()
    );
    let ended = open.after(Step {
        from: ConferenceStatus::Open,
        to: ConferenceStatus::Ended,
        at: c.schedule.end(),
    });
    let mail = QueuedMail {
        conference_id: c.id,
        account_id: c.account_id,
        kind: QueuedMailKind::AttendanceReport,
        queued_at: c.schedule.end(),
    };
    assert!(
        store
            .advance_lifecycle(ConferenceStatus::Open, &ended, Some(&mail))
            .await
            .unwrap()
    );
    assert!(
        !store
            .advance_lifecycle(ConferenceStatus::Open, &ended, Some(&mail))
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .queued_mail(c.id, QueuedMailKind::AttendanceReport)
            .await
            .unwrap(),
        Some(mail)
    );
    assert_eq!(store.lifecycle(c.id).await.unwrap(), Some(ended));
}
