//! Failure counters and locks.

use chrono::{DateTime, Duration, Utc};
use teleconf_domain::random;
use teleconf_domain::testkit::unique_email;
use teleconf_domain::{Attempt, CallerSource, Limit};

use crate::store::Store;

pub async fn failures_are_counted_per_attempt_and_window(store: &impl Store) {
    let limit = Limit {
        max_failures: 3,
        window: Duration::minutes(15),
    };
    let who = Attempt::Login(unique_email());
    let now = Utc::now();
    assert_eq!(store.failures(&who, &limit, now).await.unwrap(), 0);
    assert_eq!(store.record_failure(&who, &limit, now).await.unwrap(), 1);
    assert_eq!(store.record_failure(&who, &limit, now).await.unwrap(), 2);
    assert_eq!(store.failures(&who, &limit, now).await.unwrap(), 2);
    // Another attempt kind, and the next window, start from zero.
    assert_eq!(
        store
            .failures(&Attempt::Login(unique_email()), &limit, now)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .failures(&who, &limit, now + Duration::minutes(15))
            .await
            .unwrap(),
        0
    );
}

pub async fn a_lock_holds_until_it_lifts_and_is_only_lengthened(store: &impl Store) {
    let trunk = "198.51.100.7".parse().unwrap();
    let who = Attempt::CodeFrom(CallerSource::new(
        trunk,
        &format!("+1514555{}", random::digits(4, false)),
    ));
    let now = DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
    assert_eq!(store.locked_until(&who, now).await.unwrap(), None);
    let until = now + Duration::minutes(15);
    store.lock(&who, until).await.unwrap();
    assert_eq!(store.locked_until(&who, now).await.unwrap(), Some(until));
    // An earlier end does not shorten it; another attempt is not locked.
    store.lock(&who, now + Duration::minutes(1)).await.unwrap();
    assert_eq!(store.locked_until(&who, now).await.unwrap(), Some(until));
    let other = Attempt::CodeFrom(CallerSource::new(
        trunk,
        &format!("+1438555{}", random::digits(4, false)),
    ));
    assert_eq!(store.locked_until(&other, now).await.unwrap(), None);
    assert_eq!(store.locked_until(&who, until).await.unwrap(), None);
}

pub async fn a_caller_with_a_very_long_caller_id_is_counted_and_locked(store: &impl Store) {
    // A From user far longer than a key may be: it is counted all the same.
    let caller_id = format!("{}{}", random::digits(12, false), "9".repeat(4_000));
    let who = Attempt::CodeFrom(CallerSource::new(
        "198.51.100.7".parse().unwrap(),
        &caller_id,
    ));
    let limit = Limit {
        max_failures: 3,
        window: Duration::minutes(10),
    };
    let now = DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
    assert_eq!(store.record_failure(&who, &limit, now).await.unwrap(), 1);
    assert_eq!(store.record_failure(&who, &limit, now).await.unwrap(), 2);
    assert_eq!(store.failures(&who, &limit, now).await.unwrap(), 2);
    let until = now + Duration::minutes(15);
    store.lock(&who, until).await.unwrap();
    assert_eq!(store.locked_until(&who, now).await.unwrap(), Some(until));
}
