//! Live-view commands: queued in order, acknowledged.

use chrono::{DateTime, Utc};
use teleconf_domain::{AccountId, ConferenceId, LegId};

use crate::store::Store;

pub async fn live_controls_are_queued_in_order_and_acknowledged(store: &impl Store) {
    use teleconf_domain::{ConferenceControl, ControlCommand, UserId};
    let conference = ConferenceId::new();
    let account = AccountId::new();
    let moderator = UserId::new();
    let now = DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
    let leg = LegId::new();
    let given: Vec<ConferenceControl> = [
        ControlCommand::Mute { leg_id: leg },
        ControlCommand::Lock,
        ControlCommand::MuteAll,
        ControlCommand::Remove { leg_id: leg },
    ]
    .into_iter()
    .map(|command| ConferenceControl::new(conference, account, command, moderator, now))
    .collect();
    assert!(store.pending_controls(conference).await.unwrap().is_empty());
    for control in &given {
        store.queue_control(control).await.unwrap();
    }
    assert_eq!(
        store.pending_controls(conference).await.unwrap(),
        given,
        "in the order given"
    );
    store.ack_control(conference, given[0].id).await.unwrap();
    // Acknowledging twice (a node retrying) is harmless.
    store.ack_control(conference, given[0].id).await.unwrap();
    assert_eq!(
        store.pending_controls(conference).await.unwrap(),
        given[1..].to_vec()
    );
    assert!(
        store
            .pending_controls(ConferenceId::new())
            .await
            .unwrap()
            .is_empty(),
        "another conference's queue is its own"
    );
}
