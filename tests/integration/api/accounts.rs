//! Accounts (`/v1/accounts`): the provider admin creates an account whose owner signs
//! in, and times are shown on the account's clock.

use axum::http::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::json;
use teleconf_domain::ConferenceId;
use teleconf_domain::testkit::unique_email;
use teleconf_tests::api::{PASSWORD, TestApi, World, ids, seed_provider_admin};

use super::{dec, error_of, toronto_time};

#[tokio::test]
async fn a_provider_admin_creates_an_account_whose_owner_can_log_in() {
    let api = TestApi::new().await;
    let provider = seed_provider_admin(&api).await;
    let email = unique_email().to_string();
    let created = api
        .expect(
            StatusCode::CREATED,
            Method::POST,
            "/v1/accounts",
            &provider.token,
            Some(json!({
                "name": "Boulangerie Tremblay",
                "time_zone": "America/Vancouver",
                "language": "en",
                "plan": { "participant_limit": 40, "rate_per_minute": "0.08" },
                "owner": { "email": email, "name": "Béatrice Tremblay", "password": PASSWORD },
            })),
        )
        .await;
    let account = &created["account"];
    let id = account["id"].as_str().unwrap();
    assert_eq!(account["name"], "Boulangerie Tremblay");
    assert_eq!(account["time_zone"], "America/Vancouver");
    assert_eq!(account["language"], "en");
    assert_eq!(account["plan"]["participant_limit"], 40);
    assert_eq!(dec(&account["plan"]["rate_per_minute"]), Decimal::new(8, 2));
    assert_eq!(created["owner"]["role"], "owner");
    assert_eq!(created["owner"]["account_id"], id);
    assert_eq!(created["owner"]["email"], email.as_str());

    // The owner signs in and lands in the new account.
    let token = api.login(&email, PASSWORD).await;
    let me = api.get_ok("/v1/me", &token).await;
    assert_eq!(me["account"]["id"], id);
    assert_eq!(me["user"]["role"], "owner");

    // Listed, read, changed.
    let all = api.get_ok("/v1/accounts", &provider.token).await;
    assert!(ids(&all).contains(&id.to_string()));
    let one = api
        .get_ok(&format!("/v1/accounts/{id}"), &provider.token)
        .await;
    assert_eq!(one["name"], "Boulangerie Tremblay");
    let patched = api
        .expect(
            StatusCode::OK,
            Method::PATCH,
            &format!("/v1/accounts/{id}"),
            &provider.token,
            Some(
                json!({ "name": "Boulangerie Tremblay inc.", "plan": { "participant_limit": 50 } }),
            ),
        )
        .await;
    assert_eq!(patched["name"], "Boulangerie Tremblay inc.");
    assert_eq!(patched["plan"]["participant_limit"], 50);
    assert_eq!(dec(&patched["plan"]["rate_per_minute"]), Decimal::new(8, 2));
    let again = api
        .get_ok(&format!("/v1/accounts/{id}"), &provider.token)
        .await;
    assert_eq!(again, patched);

    // An unknown account, and an e-mail already taken.
    let (status, _, _) = api
        .call(
            Method::GET,
            &format!("/v1/accounts/{}", ConferenceId::new()),
            Some(&provider.token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body, _) = api
        .call(
            Method::POST,
            "/v1/accounts",
            Some(&provider.token),
            Some(json!({
                "name": "Doublon",
                "owner": { "email": email, "name": "Autre", "password": PASSWORD },
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(error_of(&body)["field"], "owner.email");
}

#[tokio::test]
async fn times_in_answers_are_shown_on_the_accounts_clock() {
    let w = World::new().await;
    let (_, login, _) = w
        .api
        .call(
            Method::POST,
            "/v1/auth/login",
            None,
            Some(json!({ "email": w.owner.email, "password": PASSWORD })),
        )
        .await;
    let me = w.api.get_ok("/v1/me", &w.owner.token).await;
    let numbers = w.api.get_ok("/v1/numbers", &w.owner.token).await;
    let users = w.api.get_ok("/v1/users", &w.owner.token).await;
    let times = [
        ("conference start", &w.conf_op1["start"]),
        ("POST /v1/auth/login expires_at", &login["expires_at"]),
        ("GET /v1/me user.created_at", &me["user"]["created_at"]),
        (
            "GET /v1/me account.created_at",
            &me["account"]["created_at"],
        ),
        ("GET /v1/numbers created_at", &numbers[0]["created_at"]),
        ("GET /v1/users created_at", &users[0]["created_at"]),
    ];
    let off: Vec<String> = times
        .iter()
        .filter(|(_, v)| !toronto_time(v).1)
        .map(|(what, v)| format!("{what}: {v}"))
        .collect();
    assert!(
        off.is_empty(),
        "times are shown in the account's zone (America/Toronto); in UTC instead:\n{}",
        off.join("\n")
    );
}
