//! The HTTPS API (functions/api) through the real router, in process, against the
//! emulator: every endpoint's happy path, one module per resource as in
//! `functions/api/src/routes/` (plus `auth` and `router` for `src/auth.rs` and
//! `src/router.rs`), the authorization matrix, bad input, and a store outage. The
//! helpers several of them share sit here.

use std::str::FromStr;

use chrono::{DateTime, Duration, DurationRound, Offset, Utc};
use chrono_tz::America::Toronto;
use rust_decimal::Decimal;
use serde_json::Value;

mod accounts;
mod activity;
mod auth;
mod authz;
mod bad_input;
mod cdrs;
mod conferences;
mod controls;
mod exports;
mod health;
mod invitations;
mod invoices;
mod ip_phones;
mod numbers;
mod outage;
mod prompts;
mod recordings;
mod router;
mod users;

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

fn now_secs() -> DateTime<Utc> {
    Utc::now().duration_trunc(Duration::seconds(1)).unwrap()
}

/// A decimal shown as a JSON string (or number).
fn dec(v: &Value) -> Decimal {
    match v {
        Value::String(s) => Decimal::from_str(s).unwrap(),
        other => Decimal::from_str(&other.to_string()).unwrap(),
    }
}

/// An RFC 3339 time of an answer: the instant, and whether its offset is Toronto's
/// at that instant.
fn toronto_time(v: &Value) -> (DateTime<Utc>, bool) {
    let text = v.as_str().unwrap_or_else(|| panic!("not a time: {v}"));
    let t = DateTime::parse_from_rfc3339(text).unwrap();
    let utc = t.to_utc();
    let expected = utc.with_timezone(&Toronto).offset().fix();
    (utc, *t.offset() == expected)
}
