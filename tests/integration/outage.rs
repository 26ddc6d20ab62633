//! An unreachable store is reported as unavailable (retryable), promptly, and the
//! same client works again once the store is back.

use std::time::{Duration, Instant};

use teleconf_adapters::Error;
use teleconf_adapters::store::AccountStore;
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
