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
