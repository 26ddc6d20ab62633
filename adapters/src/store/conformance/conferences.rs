//! Conferences: each conference number taken once.

use teleconf_domain::testkit::conference;

use super::{account_with_owner, create_conference};
use crate::error::Error;
use crate::store::Store;

pub async fn a_second_conference_cannot_take_an_existing_number(store: &impl Store) {
    let (_, owner) = account_with_owner(store).await;
    let first = create_conference(store, &owner).await;
    let (_, other_owner) = account_with_owner(store).await;
    let second = conference(&other_owner, first.number.clone());
    assert!(matches!(
        store.create_conference(&second).await,
        Err(Error::Conflict("conference_number"))
    ));
    // Nothing of the refused conference was stored.
    assert!(store.conference(second.id).await.unwrap().is_none());
    assert_eq!(
        store
            .conference_by_number(&first.number)
            .await
            .unwrap()
            .unwrap()
            .id,
        first.id
    );
    assert!(
        store
            .conferences(other_owner.account_id)
            .await
            .unwrap()
            .is_empty()
    );

    // Deleting the first frees its number.
    store.delete_conference(&first).await.unwrap();
    assert!(
        store
            .conference_by_number(&first.number)
            .await
            .unwrap()
            .is_none()
    );
    store.create_conference(&second).await.unwrap();
    assert_eq!(
        store
            .conference_by_number(&first.number)
            .await
            .unwrap()
            .unwrap()
            .id,
        second.id
    );
}
