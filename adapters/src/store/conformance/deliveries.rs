//! The mailer's ledger: a delivery claimed by one worker until settled.

use chrono::{Duration, DurationRound, Utc};
use teleconf_domain::testkit::unique_email;

use crate::error::Error;
use crate::store::DeliveryStore;

pub async fn a_delivery_is_claimed_by_one_worker_until_settled(store: &impl DeliveryStore) {
    use teleconf_domain::{Claim, DeliveryKey, Outcome};
    let now = Utc::now()
        .duration_trunc(Duration::milliseconds(1))
        .unwrap();
    let lease = Duration::minutes(2);
    let key = DeliveryKey::new(&["test", &unique_email().to_string()]).unwrap();
    assert_eq!(
        store.claim_delivery(&key, now, lease).await.unwrap(),
        Claim::Mine { attempt: 1 }
    );
    assert_eq!(
        store.claim_delivery(&key, now, lease).await.unwrap(),
        Claim::Busy,
        "a fresh claim is held"
    );
    store
        .settle_delivery(
            &key,
            &Outcome::Failed {
                error: "throttled".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        store.claim_delivery(&key, now, lease).await.unwrap(),
        Claim::Mine { attempt: 2 },
        "a failed attempt may be retried"
    );
    let later = now + lease + Duration::seconds(1);
    assert_eq!(
        store.claim_delivery(&key, later, lease).await.unwrap(),
        Claim::Mine { attempt: 3 },
        "a holder that never finished loses its claim after the lease"
    );
    store
        .settle_delivery(
            &key,
            &Outcome::Sent {
                message_id: "m-1".into(),
                at: later,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        store.claim_delivery(&key, later, lease).await.unwrap(),
        Claim::Settled
    );
    let other = DeliveryKey::new(&["test", &unique_email().to_string()]).unwrap();
    assert!(matches!(
        store
            .settle_delivery(&other, &Outcome::Failed { error: "x".into() })
            .await,
        Err(Error::NotFound("delivery"))
    ));
}
