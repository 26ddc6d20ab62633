//! IP phones: each source belongs to one account.

use chrono::{Duration, DurationRound, Utc};
use teleconf_domain::IpPhone;
use teleconf_domain::testkit::unique_ip_phone_sources;

use super::account_with_owner;
use crate::error::Error;
use crate::store::Store;

pub async fn an_ip_phone_belongs_to_one_account(store: &impl Store) {
    let (a, _) = account_with_owner(store).await;
    let (b, _) = account_with_owner(store).await;
    let (address, identity) = unique_ip_phone_sources();
    let now = Utc::now()
        .duration_trunc(Duration::milliseconds(1))
        .unwrap();
    let desk = IpPhone::new(a.id, address.clone(), "Réception", now).unwrap();
    let pbx = IpPhone::new(a.id, identity.clone(), "", now).unwrap();
    store.add_ip_phone(&desk).await.unwrap();
    store.add_ip_phone(&pbx).await.unwrap();

    // A source is one account's: neither the same account nor another takes it again.
    for account in [a.id, b.id] {
        let again = IpPhone::new(account, address.clone(), "", now).unwrap();
        assert!(matches!(
            store.add_ip_phone(&again).await,
            Err(Error::Conflict("source"))
        ));
    }
    let mut listed = store.ip_phones(a.id).await.unwrap();
    listed.sort_by(|x, y| x.source.cmp(&y.source));
    let mut expected = vec![desk.clone(), pbx.clone()];
    expected.sort_by(|x, y| x.source.cmp(&y.source));
    assert_eq!(listed, expected);
    assert!(store.ip_phones(b.id).await.unwrap().is_empty());
    let every = store.all_ip_phones().await.unwrap();
    assert!(every.contains(&desk) && every.contains(&pbx));

    // Another account cannot remove it; its own can, and then the source is free.
    assert!(matches!(
        store.remove_ip_phone(b.id, &address).await,
        Err(Error::NotFound("ip_phone"))
    ));
    assert!(store.ip_phones(a.id).await.unwrap().contains(&desk));
    store.remove_ip_phone(a.id, &address).await.unwrap();
    assert!(matches!(
        store.remove_ip_phone(a.id, &address).await,
        Err(Error::NotFound("ip_phone"))
    ));
    assert_eq!(store.ip_phones(a.id).await.unwrap(), vec![pbx.clone()]);
    assert!(!store.all_ip_phones().await.unwrap().contains(&desk));
    let moved = IpPhone::new(b.id, address.clone(), "", now).unwrap();
    store.add_ip_phone(&moved).await.unwrap();
    assert_eq!(store.ip_phones(b.id).await.unwrap(), vec![moved]);
}
