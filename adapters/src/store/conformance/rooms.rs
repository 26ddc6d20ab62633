//! The rooms' leases.

use chrono::{DateTime, TimeDelta, Utc};
use teleconf_domain::{ConferenceId, NodeId, RoomLease};

use crate::store::{Claim, Store};

pub async fn a_room_is_held_by_one_node_until_its_lease_expires_or_is_released(store: &impl Store) {
    let now = DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
    let conference = ConferenceId::new();
    // Unique names: the table is shared by every test of the run.
    let node = |name: &str| -> NodeId { format!("{name}-{conference}").parse().unwrap() };
    let (a, b) = (node("a"), node("b"));
    let lease = |owner: &NodeId, at| {
        RoomLease::new(
            conference,
            owner.clone(),
            "10.0.0.7:5060".parse().unwrap(),
            at,
        )
    };
    assert_eq!(store.room_lease(conference).await.unwrap(), None);

    let first = lease(&a, now);
    assert_eq!(store.claim_room(&first, now).await.unwrap(), Claim::Mine);
    assert_eq!(
        store.claim_room(&lease(&b, now), now).await.unwrap(),
        Claim::Held(first.clone()),
        "a live lease is another node's answer"
    );
    // The holder renews it (its heartbeat).
    let later = now + TimeDelta::seconds(5);
    let renewed = lease(&a, later);
    assert_eq!(
        store.claim_room(&renewed, later).await.unwrap(),
        Claim::Mine
    );
    assert_eq!(
        store.room_lease(conference).await.unwrap(),
        Some(renewed.clone())
    );
    // Another node's release leaves it alone.
    store.release_room(conference, &b).await.unwrap();
    assert_eq!(
        store.room_lease(conference).await.unwrap(),
        Some(renewed.clone())
    );
    // Expired: the next claim takes it over.
    let expired = renewed.expires_at;
    let taken = lease(&b, expired);
    assert_eq!(
        store.claim_room(&taken, expired).await.unwrap(),
        Claim::Mine
    );
    assert_eq!(
        store
            .claim_room(&lease(&a, expired), expired)
            .await
            .unwrap(),
        Claim::Held(taken.clone()),
        "the old holder lost it"
    );
    // Released by its holder: anyone claims it at once; releasing twice is fine.
    store.release_room(conference, &b).await.unwrap();
    store.release_room(conference, &b).await.unwrap();
    assert_eq!(store.room_lease(conference).await.unwrap(), None);
    assert_eq!(
        store
            .claim_room(&lease(&a, expired), expired)
            .await
            .unwrap(),
        Claim::Mine
    );
    store.release_room(conference, &a).await.unwrap();
}
