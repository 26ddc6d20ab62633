//! Invitations: queued per conference.

use chrono::Utc;
use teleconf_domain::testkit::unique_email;
use teleconf_domain::{CallerRole, Invitation, InvitationId, Language};

use super::{account_with_owner, create_conference};
use crate::store::Store;

pub async fn invitations_are_queued_per_conference(store: &impl Store) {
    let (_, owner) = account_with_owner(store).await;
    let conf = create_conference(store, &owner).await;
    let invite = |role| Invitation {
        id: InvitationId::new(),
        account_id: owner.account_id,
        conference_id: conf.id,
        email: unique_email(),
        role,
        language: Language::Fr,
        invited_by: owner.id,
        invited_at: Utc::now(),
    };
    let batch = vec![
        invite(CallerRole::Participant),
        invite(CallerRole::Listener),
    ];
    store.queue_invitations(&batch).await.unwrap();
    let mut stored = store.invitations(conf.id).await.unwrap();
    stored.sort_by_key(|i| i.id);
    assert_eq!(stored, batch);
}
