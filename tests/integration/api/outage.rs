//! The API over a store it cannot reach: a prompt 503 in the JSON error shape (never
//! a hang, never a 500), then normal answers once the store is back. The store's own
//! client under the same outage is `store_outage`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, Method, StatusCode};
use serde_json::{Value, json};
use teleconf_adapters::process::system_clock;
use teleconf_adapters::store::conformance::account_with_owner;
use teleconf_tests::api::{TestApi, conference_body, retry_after};

use super::error_of;

/// The longest an answer may take while the store is unreachable.
const BOUND: Duration = Duration::from_secs(15);

async fn within_bound(
    what: &str,
    call: impl Future<Output = (StatusCode, Value, HeaderMap)>,
) -> (StatusCode, Value, HeaderMap) {
    let started = Instant::now();
    let answer = tokio::time::timeout(BOUND, call)
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer within {BOUND:?}"));
    assert!(started.elapsed() < BOUND, "{what}: {:?}", started.elapsed());
    answer
}

fn assert_unavailable(what: &str, (status, body, headers): &(StatusCode, Value, HeaderMap)) {
    assert_eq!(*status, StatusCode::SERVICE_UNAVAILABLE, "{what}: {body}");
    let error = error_of(body);
    assert_eq!(error["code"], "unavailable", "{what}: {body}");
    assert!(retry_after(headers).is_some(), "{what}: no Retry-After");
}

#[tokio::test]
async fn an_unreachable_store_answers_503_in_json_promptly_then_the_api_recovers() {
    let stack = TestApi::new().await.stack;
    let (proxy, store) = stack.store_through_proxy().await;
    let api = TestApi::with_store(stack.clone(), Arc::new(store), system_clock());

    // Seeded directly; signed in through the proxy.
    let (_, owner) = account_with_owner(&stack.store).await;
    let password = "a long enough password";
    let token = api.login(owner.email.as_str(), password).await;
    let before = api.get_ok("/v1/conferences", &token).await;

    proxy.cut();
    let answer = within_bound(
        "GET /v1/conferences",
        api.call(Method::GET, "/v1/conferences", Some(&token), None),
    )
    .await;
    assert_unavailable("GET /v1/conferences", &answer);
    let answer = within_bound(
        "POST /v1/conferences",
        api.call(
            Method::POST,
            "/v1/conferences",
            Some(&token),
            Some(conference_body("Pendant la panne", 30)),
        ),
    )
    .await;
    assert_unavailable("POST /v1/conferences", &answer);
    let answer = within_bound(
        "POST /v1/auth/login",
        api.call(
            Method::POST,
            "/v1/auth/login",
            None,
            Some(json!({ "email": owner.email.as_str(), "password": password })),
        ),
    )
    .await;
    assert_unavailable("POST /v1/auth/login", &answer);

    proxy.restore();
    assert_eq!(api.get_ok("/v1/conferences", &token).await, before);
    api.login(owner.email.as_str(), password).await;
}
