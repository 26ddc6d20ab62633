//! CDR legs: written idempotently, listed by conference and by month.

use chrono::Duration;
use teleconf_domain::conference::EARLY_ACCESS;
use teleconf_domain::testkit::unique_e164;
use teleconf_domain::{AccountId, CallLeg, CallerRole, DisconnectCause, LegId, YearMonth};

use super::{account_with_owner, create_conference};
use crate::store::Store;

pub async fn legs_are_written_idempotently_and_listed_by_conference_and_month(store: &impl Store) {
    let (account, owner) = account_with_owner(store).await;
    let conf = create_conference(store, &owner).await;
    let joined = conf.schedule.start() - EARLY_ACCESS + Duration::seconds(30);
    let month = YearMonth::of(joined, account.time_zone);
    let mut leg = CallLeg {
        id: LegId::new(),
        account_id: account.id,
        conference_id: conf.id,
        conference_number: conf.number.clone(),
        dialled: Some(unique_e164()),
        caller_id: "+15145550100".into(),
        role: CallerRole::Participant,
        owner_node: None,
        joined_at: joined,
        month,
        left_at: None,
        cause: None,
        quality: None,
    };
    store.put_leg(&leg).await.unwrap();
    store.put_leg(&leg).await.unwrap();
    assert_eq!(
        store.legs_of_conference(conf.id).await.unwrap(),
        vec![leg.clone()]
    );

    let open = leg.clone();
    leg.close(
        joined + Duration::seconds(61),
        DisconnectCause::CallerHangup,
    );
    store.put_leg(&leg).await.unwrap();
    // A replayed open write, or a second close, changes nothing.
    store.put_leg(&open).await.unwrap();
    let mut reclosed = leg.clone();
    reclosed.close(
        joined + Duration::seconds(3600),
        DisconnectCause::NodeRestart,
    );
    store.put_leg(&reclosed).await.unwrap();
    assert_eq!(
        store.legs_of_conference(conf.id).await.unwrap(),
        vec![leg.clone()]
    );
    assert_eq!(leg.duration_ms(), Some(61_000));

    let mut listener = leg.clone();
    listener.id = LegId::new();
    listener.role = CallerRole::Listener;
    listener.joined_at = joined + Duration::seconds(5);
    store.put_leg(&listener).await.unwrap();
    assert_eq!(
        store.legs_of_month(account.id, month).await.unwrap(),
        vec![leg.clone(), listener.clone()]
    );
    assert!(
        store
            .legs_of_month(account.id, month.next())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .legs_of_month(AccountId::new(), month)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.legs_of_conference(conf.id).await.unwrap().len(), 2);
}
