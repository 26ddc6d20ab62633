//! CDR legs: written idempotently, listed by conference and by month.

use chrono::Duration;
use teleconf_domain::conference::EARLY_ACCESS;
use teleconf_domain::testkit::unique_e164;
use teleconf_domain::{AccountId, CallLeg, CallerRole, DisconnectCause, LegId, NodeId, YearMonth};

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
        node: None,
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

/// A closed copy of `leg`, closed at `at` as `cause`.
fn closed(leg: &CallLeg, at: chrono::DateTime<chrono::Utc>, cause: DisconnectCause) -> CallLeg {
    let mut leg = leg.clone();
    leg.close(at, cause);
    leg
}

pub async fn a_nodes_open_legs_are_found_and_closed_once(store: &impl Store) {
    let (account, owner) = account_with_owner(store).await;
    let conf = create_conference(store, &owner).await;
    // Unique names: the table is shared by every test of the run.
    let node = |name: &str| -> NodeId { format!("{name}-{}", LegId::new()).parse().unwrap() };
    let (lost, alive) = (node("lost"), node("alive"));
    let joined = conf.schedule.start();
    let leg = |node: &NodeId, seconds: i64| CallLeg {
        id: LegId::new(),
        account_id: account.id,
        conference_id: conf.id,
        conference_number: conf.number.clone(),
        dialled: None,
        caller_id: "+15145550100".into(),
        role: CallerRole::Participant,
        owner_node: None,
        joined_at: joined + Duration::seconds(seconds),
        month: YearMonth::of(joined, account.time_zone),
        left_at: None,
        cause: None,
        quality: None,
        node: Some(node.clone()),
    };
    let (first, second, gone, elsewhere) =
        (leg(&lost, 1), leg(&lost, 2), leg(&lost, 3), leg(&alive, 4));
    for l in [&second, &first, &gone, &elsewhere] {
        store.put_leg(l).await.unwrap();
    }
    let hung_up = closed(
        &gone,
        joined + Duration::seconds(9),
        DisconnectCause::CallerHangup,
    );
    store.put_leg(&hung_up).await.unwrap();
    assert_eq!(
        store.open_legs_of_node(&lost).await.unwrap(),
        vec![first.clone(), second.clone()],
        "only the node's open legs, in join order"
    );

    let at = joined + Duration::seconds(30);
    let reaped = closed(&first, at, DisconnectCause::NodeLost);
    assert!(store.close_open_leg(&reaped).await.unwrap());
    assert!(
        !store.close_open_leg(&reaped).await.unwrap(),
        "a second close changes nothing"
    );
    // The node's own close after a restart comes second: the reaper's stands.
    let restarted = closed(&first, at, DisconnectCause::NodeRestart);
    store.put_leg(&restarted).await.unwrap();
    assert!(!store.close_open_leg(&hung_up).await.unwrap());
    let mut unknown = closed(&first, at, DisconnectCause::NodeLost);
    unknown.id = LegId::new();
    assert!(
        !store.close_open_leg(&unknown).await.unwrap(),
        "a leg never stored is not created"
    );
    let stored = store.legs_of_conference(conf.id).await.unwrap();
    assert!(
        stored.contains(&reaped) && stored.contains(&hung_up),
        "{stored:?}"
    );
    assert!(!stored.iter().any(|l| l.id == unknown.id));
    assert_eq!(store.open_legs_of_node(&lost).await.unwrap(), vec![second]);
    assert_eq!(
        store.open_legs_of_node(&alive).await.unwrap(),
        vec![elsewhere]
    );
}
