//! An account with its users, numbers and conferences: read back by every key,
//! updated and deleted.

use chrono::{Duration, Utc};
use teleconf_domain::testkit::{access_number, conference, unique_e164, unique_email};
use teleconf_domain::{Account, AccountId, ConferenceNumber, Language, Schedule};

use super::{account_with_owner, create_conference};
use crate::error::Error;
use crate::store::Store;

pub async fn account_user_number_and_conference_read_back_by_every_key(store: &impl Store) {
    let (account, owner) = account_with_owner(store).await;
    assert_eq!(
        store.account(account.id).await.unwrap().as_ref(),
        Some(&account)
    );
    assert!(
        store
            .accounts()
            .await
            .unwrap()
            .iter()
            .any(|a| a.id == account.id)
    );

    // User: by id, by e-mail, by account.
    assert_eq!(store.user(owner.id).await.unwrap().as_ref(), Some(&owner));
    assert_eq!(
        store.user_by_email(&owner.email).await.unwrap().as_ref(),
        Some(&owner)
    );
    assert_eq!(store.users(account.id).await.unwrap(), vec![owner.clone()]);
    assert!(
        store
            .user_by_email(&unique_email())
            .await
            .unwrap()
            .is_none()
    );

    // Access number: by E.164, by account.
    let number = access_number(account.id);
    store.create_number(&number).await.unwrap();
    assert_eq!(
        store.number(&number.number).await.unwrap().as_ref(),
        Some(&number)
    );
    assert_eq!(
        store.numbers(account.id).await.unwrap(),
        vec![number.clone()]
    );
    assert!(store.number(&unique_e164()).await.unwrap().is_none());

    // Conference: by id, by number, by account.
    let conf = create_conference(store, &owner).await;
    assert_eq!(
        store.conference(conf.id).await.unwrap().as_ref(),
        Some(&conf)
    );
    assert_eq!(
        store
            .conference_by_number(&conf.number)
            .await
            .unwrap()
            .as_ref(),
        Some(&conf)
    );
    assert_eq!(
        store.conferences(account.id).await.unwrap(),
        vec![conf.clone()]
    );
    assert_eq!(store.conferences(AccountId::new()).await.unwrap(), vec![]);
}

pub async fn updates_and_deletes_take_effect(store: &impl Store) {
    let (mut account, owner) = account_with_owner(store).await;
    account.name = "Omnivigil Solutions inc.".into();
    account.language = Language::En;
    store.update_account(&account).await.unwrap();
    assert_eq!(store.account(account.id).await.unwrap().unwrap(), account);
    let ghost = Account::new("Ghost", Utc::now()).unwrap();
    assert!(matches!(
        store.update_account(&ghost).await,
        Err(Error::NotFound("account"))
    ));

    let mut conf = create_conference(store, &owner).await;
    conf.description = "Réunion annuelle".into();
    conf.record = true;
    let start = conf.schedule.start() + Duration::days(1);
    conf.schedule = Schedule::new(start, start + Duration::hours(2)).unwrap();
    store.update_conference(&conf).await.unwrap();
    assert_eq!(store.conference(conf.id).await.unwrap().unwrap(), conf);
    assert_eq!(
        store.conferences(account.id).await.unwrap(),
        vec![conf.clone()]
    );
    assert_eq!(
        store
            .conference_by_number(&conf.number)
            .await
            .unwrap()
            .unwrap(),
        conf
    );

    let mut renumbered = conf.clone();
    renumbered.number = ConferenceNumber::generate();
    assert!(matches!(
        store.update_conference(&renumbered).await,
        Err(Error::NotFound("conference"))
    ));
    assert_eq!(
        store
            .conference_by_number(&renumbered.number)
            .await
            .unwrap(),
        None
    );
    let unknown = conference(&owner, ConferenceNumber::generate());
    assert!(matches!(
        store.update_conference(&unknown).await,
        Err(Error::NotFound("conference"))
    ));

    let mut number = access_number(account.id);
    store.create_number(&number).await.unwrap();
    number.notes = "Ligne principale".into();
    number.greeting_language = Language::En;
    store.update_number(&number).await.unwrap();
    assert_eq!(store.number(&number.number).await.unwrap().unwrap(), number);
    store.delete_number(&number).await.unwrap();
    assert!(store.number(&number.number).await.unwrap().is_none());
    assert!(store.numbers(account.id).await.unwrap().is_empty());

    // Conferences list in start order.
    let later = create_conference(store, &owner).await;
    let ids: Vec<_> = store
        .conferences(account.id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids, vec![later.id, conf.id]);
}
