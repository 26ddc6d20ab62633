//! `GET /healthz`: the health check answers without a token.

use axum::http::{Method, StatusCode};
use teleconf_tests::api::TestApi;

#[tokio::test]
async fn healthz_answers_ok_without_a_token() {
    let api = TestApi::new().await;
    let res = api.raw(Method::GET, "/healthz", None, &[], vec![]).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.text(), "ok");
}
