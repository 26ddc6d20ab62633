//! The store's client (`teleconf_adapters`' DynamoDB store) through a proxy that cuts
//! the endpoint or loses an answer: an unreachable store is reported as unavailable
//! (retryable), promptly, and the same client works again once the store is back; a
//! create whose answer was lost is no false conflict. What the API answers during an
//! outage is `api::outage`.

use std::time::{Duration, Instant};

use chrono::Utc;
use teleconf_adapters::Error;
use teleconf_adapters::store::{AccountStore, UserStore};
use teleconf_domain::testkit::unique_email;
use teleconf_domain::{Account, Role, User};
use teleconf_tests::stack::Stack;

#[tokio::test]
async fn an_unreachable_store_is_unavailable_then_recovers() {
    let stack = Stack::new().await;
    let (proxy, store) = stack.store_through_proxy().await;

    store.accounts().await.expect("through the proxy");

    proxy.cut();
    let started = Instant::now();
    let err = store.accounts().await.unwrap_err();
    assert!(matches!(err, Error::Unavailable(_)), "{err}");
    assert!(err.is_retryable());
    // Bounded by the SDK's operation timeout, never a hang.
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );

    proxy.restore();
    store.accounts().await.expect("the same client recovers");
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_is_retried_without_a_false_conflict() {
    let stack = Stack::new().await;
    let (proxy, store) = stack.store_through_proxy().await;
    let now = Utc::now();

    // A put: the SDK's retry finds the item its first attempt wrote.
    let account = Account::new("Réponse perdue", now).unwrap();
    proxy.lose_next_answer();
    store
        .create_account(&account)
        .await
        .expect("the retry of an applied create is no conflict");
    assert_eq!(
        store.account(account.id).await.unwrap(),
        Some(account.clone())
    );

    // A transaction (the user and its e-mail): the retry answers as the first
    // attempt did, by its ClientRequestToken.
    let owner = User::new(
        account.id,
        unique_email(),
        "Olivia Owner",
        Role::Owner,
        "a long enough password",
        now,
    )
    .unwrap();
    proxy.lose_next_answer();
    store
        .create_user(&owner)
        .await
        .expect("the retry of an applied transaction is no conflict");
    assert_eq!(store.user(owner.id).await.unwrap(), Some(owner.clone()));

    // A second create of the same thing, asked for again, still conflicts.
    assert!(matches!(
        store.create_account(&account).await,
        Err(Error::Conflict("account"))
    ));
    assert!(matches!(
        store.create_user(&owner).await,
        Err(Error::Conflict(_))
    ));
}
