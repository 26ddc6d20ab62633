//! The HTTPS API (functions/api) through the real router, in process, against the
//! emulator: every endpoint's happy path, the authorization matrix, bad input, and a
//! store outage.

mod authz;
mod bad_input;
mod controls;
mod conferences;
mod outage;

/// Every route `teleconf_api::router` serves (method, path as in the OpenAPI
/// document), from functions/api/src/router.rs. `/v1/openapi.json` serves the
/// document itself and is not listed in it.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("POST", "/v1/auth/login"),
    ("POST", "/v1/auth/logout"),
    ("GET", "/v1/me"),
    ("GET", "/v1/accounts"),
    ("POST", "/v1/accounts"),
    ("GET", "/v1/accounts/{id}"),
    ("PATCH", "/v1/accounts/{id}"),
    ("GET", "/v1/accounts/{id}/numbers"),
    ("POST", "/v1/accounts/{id}/numbers"),
    ("DELETE", "/v1/accounts/{id}/numbers/{e164}"),
    ("GET", "/v1/users"),
    ("POST", "/v1/users"),
    ("GET", "/v1/users/{id}"),
    ("PATCH", "/v1/users/{id}"),
    ("DELETE", "/v1/users/{id}"),
    ("GET", "/v1/numbers"),
    ("GET", "/v1/numbers/{e164}"),
    ("PATCH", "/v1/numbers/{e164}"),
    ("GET", "/v1/ip-phones"),
    ("POST", "/v1/ip-phones"),
    ("DELETE", "/v1/ip-phones/{source}"),
    ("POST", "/v1/prompts"),
    ("GET", "/v1/prompts/{id}"),
    ("GET", "/v1/conferences"),
    ("POST", "/v1/conferences"),
    ("GET", "/v1/conferences/{id}"),
    ("PATCH", "/v1/conferences/{id}"),
    ("DELETE", "/v1/conferences/{id}"),
    ("POST", "/v1/conferences/{id}/intro/by-phone"),
    ("GET", "/v1/conferences/{id}/confirmation"),
    ("POST", "/v1/conferences/{id}/invitations"),
    ("GET", "/v1/conferences/{id}/participants"),
    ("POST", "/v1/conferences/{id}/controls"),
    ("GET", "/v1/cdrs"),
    ("GET", "/v1/recordings"),
    ("GET", "/v1/recordings/{id}"),
    ("GET", "/v1/invoices"),
    ("GET", "/v1/invoices/{month}"),
    ("GET", "/v1/exports/{month}"),
    ("GET", "/v1/activity"),
    ("GET", "/v1/openapi.json"),
];

/// The `error` object of an error answer, checked for the documented shape.
fn error_of(body: &serde_json::Value) -> &serde_json::Value {
    let error = &body["error"];
    assert!(error["code"].is_string(), "no error.code in {body}");
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "no error.message in {body}"
    );
    error
}
