//! The router as a whole (`functions/api/src/router.rs`): the OpenAPI document lists
//! every route, and an unknown route is a JSON 404.

use axum::http::{Method, StatusCode};
use teleconf_tests::api::TestApi;

use super::{ROUTES, error_of};

#[tokio::test]
async fn the_openapi_document_lists_every_route_with_its_method() {
    let api = TestApi::new().await;
    let (status, doc, _) = api.call(Method::GET, "/v1/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let missing: Vec<String> = ROUTES
        .iter()
        .filter(|(_, path)| *path != "/v1/openapi.json")
        .filter(|(method, path)| doc["paths"][*path][method.to_lowercase()].is_null())
        .map(|(method, path)| format!("{method} {path}"))
        .collect();
    assert!(
        missing.is_empty(),
        "not in the OpenAPI document: {missing:?}"
    );
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn an_unknown_route_is_a_json_404() {
    let api = TestApi::new().await;
    let (status, body, _) = api.call(Method::GET, "/v1/nothing", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_of(&body)["code"], "not_found");
}
