//! Access numbers: each assigned once.

use teleconf_domain::testkit::access_number;

use super::account_with_owner;
use crate::error::Error;
use crate::store::Store;

pub async fn an_access_number_is_assigned_once(store: &impl Store) {
    let (a, _) = account_with_owner(store).await;
    let (b, _) = account_with_owner(store).await;
    let number = access_number(a.id);
    store.create_number(&number).await.unwrap();
    let mut taken = access_number(b.id);
    taken.number = number.number.clone();
    assert!(matches!(
        store.create_number(&taken).await,
        Err(Error::Conflict("number"))
    ));
    assert_eq!(
        store
            .number(&number.number)
            .await
            .unwrap()
            .unwrap()
            .account_id,
        a.id
    );
    // Another account cannot overwrite it through an update either.
    assert!(matches!(
        store.update_number(&taken).await,
        Err(Error::NotFound("number"))
    ));
    assert_eq!(
        store
            .number(&number.number)
            .await
            .unwrap()
            .unwrap()
            .account_id,
        a.id
    );
}
