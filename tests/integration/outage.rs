//! An unreachable store is reported as unavailable (retryable), promptly, and the
//! same client works again once the store is back.

use std::time::{Duration, Instant};

use teleconf_core::Error;
use teleconf_core::aws::Clients;
use teleconf_core::store::AccountStore;
use teleconf_core::store::dynamo::DynamoStore;
use teleconf_tests::proxy::Proxy;
use teleconf_tests::stack::{Stack, emulator_sdk_config};

#[tokio::test]
async fn an_unreachable_store_is_unavailable_then_recovers() {
    let stack = Stack::new().await;
    let target = stack
        .settings
        .endpoint_url
        .clone()
        .unwrap()
        .trim_start_matches("http://")
        .to_string();
    let proxy = Proxy::start(target).await.unwrap();
    let mut settings = stack.settings.clone();
    settings.endpoint_url = Some(proxy.url());
    let clients = Clients::from_sdk_config(&emulator_sdk_config(&settings).await, &settings);
    let store = DynamoStore::new(clients.dynamodb, &settings.table);

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
