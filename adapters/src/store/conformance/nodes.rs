//! The media nodes' registry.

use chrono::{DateTime, TimeDelta, Utc};
use teleconf_domain::{NodeHeartbeat, NodeId, NodeState};

use crate::store::Store;

pub async fn a_nodes_heartbeat_replaces_its_last_and_every_node_is_listed(store: &impl Store) {
    let now = DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
    // Unique names: the table is shared by every test of the run.
    let id = |name: &str| -> NodeId {
        format!("{name}-{}", teleconf_domain::ConferenceId::new())
            .parse()
            .unwrap()
    };
    let beat = |node_id: &NodeId, state, at| NodeHeartbeat {
        node_id: node_id.clone(),
        sip: "10.0.0.7:5060".parse().unwrap(),
        state,
        calls: 4,
        participants: 3,
        heartbeat_at: at,
    };
    let (a, b) = (id("a"), id("b"));
    assert_eq!(store.heartbeat(&a).await.unwrap(), None);
    store
        .put_heartbeat(&beat(&a, NodeState::Active, now))
        .await
        .unwrap();
    let later = beat(&a, NodeState::Draining, now + TimeDelta::seconds(5));
    store.put_heartbeat(&later).await.unwrap();
    let other = beat(&b, NodeState::Active, now);
    store.put_heartbeat(&other).await.unwrap();
    assert_eq!(store.heartbeat(&a).await.unwrap(), Some(later.clone()));
    let listed: Vec<NodeHeartbeat> = store
        .heartbeats()
        .await
        .unwrap()
        .into_iter()
        .filter(|h| h.node_id == a || h.node_id == b)
        .collect();
    assert_eq!(listed.len(), 2, "one item per node: {listed:?}");
    assert!(
        listed.contains(&later) && listed.contains(&other),
        "{listed:?}"
    );
}

pub async fn a_lost_node_is_marked_reaped_once_unless_it_came_back(store: &impl Store) {
    let now = DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).unwrap();
    let beat = |name: &str, at| NodeHeartbeat {
        node_id: format!("{name}-{}", teleconf_domain::ConferenceId::new())
            .parse()
            .unwrap(),
        sip: "10.0.0.7:5060".parse().unwrap(),
        state: NodeState::Active,
        calls: 2,
        participants: 2,
        heartbeat_at: at,
    };
    let lost = beat("lost", now - TimeDelta::seconds(40));
    store.put_heartbeat(&lost).await.unwrap();
    assert!(store.mark_reaped(&lost).await.unwrap());
    assert!(
        !store.mark_reaped(&lost).await.unwrap(),
        "a second reaper finds it reaped"
    );
    let stored = store.heartbeat(&lost.node_id).await.unwrap().unwrap();
    assert_eq!(stored.state, NodeState::Reaped);
    assert_eq!(
        stored.heartbeat_at, lost.heartbeat_at,
        "its last heartbeat kept"
    );

    // It came back between the reaper's read and its mark: it stays as it said.
    let back = beat("back", now - TimeDelta::seconds(40));
    store.put_heartbeat(&back).await.unwrap();
    let again = NodeHeartbeat {
        heartbeat_at: now,
        ..back.clone()
    };
    store.put_heartbeat(&again).await.unwrap();
    assert!(!store.mark_reaped(&back).await.unwrap());
    assert_eq!(store.heartbeat(&back.node_id).await.unwrap(), Some(again));
}
