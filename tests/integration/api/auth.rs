//! Signing in and out (`functions/api/src/auth.rs`, `GET /v1/me`): tokens, sessions
//! ended by a sign-out or a password change, and a token's twelve hours.

use std::sync::Arc;

use axum::http::{Method, StatusCode, header};
use chrono::{Duration, Utc};
use serde_json::json;
use teleconf_tests::api::{PASSWORD, World};

use super::error_of;

#[tokio::test]
async fn a_login_returns_a_token_that_opens_me() {
    let w = World::new().await;
    let (status, body, _) = w
        .api
        .call(
            Method::POST,
            "/v1/auth/login",
            None,
            Some(json!({ "email": w.op1.email.to_uppercase(), "password": PASSWORD })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["token"].as_str().unwrap();
    assert!(!token.is_empty());
    assert!(body["expires_at"].is_string(), "{body}");
    assert_eq!(body["user"]["id"], w.op1.id.as_str());
    assert_eq!(body["user"]["role"], "conference_operator");
    assert!(
        body["user"].get("password").is_none(),
        "the hash leaked: {body}"
    );

    let me = w.api.get_ok("/v1/me", token).await;
    assert_eq!(me["user"]["id"], w.op1.id.as_str());
    assert_eq!(me["user"]["email"], w.op1.email.as_str());
    assert_eq!(me["account"]["id"], w.a.as_str());
    assert_eq!(me["account"]["time_zone"], "America/Toronto");

    for token in [None, Some("not-a-token")] {
        let (status, body, headers) = w.api.call(Method::GET, "/v1/me", token, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(error_of(&body)["code"], "unauthenticated");
        assert_eq!(headers[header::WWW_AUTHENTICATE], "Bearer");
    }
}

#[tokio::test]
async fn signing_out_ends_every_session_of_the_user() {
    let w = World::new().await;
    let api = &w.api;
    let other_session = api.login(&w.op1.email, PASSWORD).await;
    api.get_ok("/v1/me", &other_session).await;

    let (status, body, _) = api
        .call(Method::POST, "/v1/auth/logout", Some(&w.op1.token), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    for token in [&w.op1.token, &other_session] {
        let (status, body, _) = api.call(Method::GET, "/v1/me", Some(token), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(error_of(&body)["code"], "unauthenticated");
    }
    // Signing out again with a token already ended: 401.
    let (status, _, _) = api
        .call(Method::POST, "/v1/auth/logout", Some(&w.op1.token), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Nobody else was signed out, and signing in again works.
    api.get_ok("/v1/me", &w.op2.token).await;
    let again = api.login(&w.op1.email, PASSWORD).await;
    assert_eq!(
        api.get_ok("/v1/me", &again).await["user"]["id"],
        w.op1.id.as_str()
    );
}

#[tokio::test]
async fn a_password_change_ends_the_sessions_of_the_old_password() {
    let w = World::new().await;
    let api = &w.api;
    api.expect(
        StatusCode::OK,
        Method::PATCH,
        &format!("/v1/users/{}", w.op1.id),
        &w.owner.token,
        Some(json!({ "password": "a brand new password" })),
    )
    .await;
    let (status, body, _) = api
        .call(Method::GET, "/v1/me", Some(&w.op1.token), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let token = api.login(&w.op1.email, "a brand new password").await;
    api.get_ok("/v1/me", &token).await;
    // The owner who changed it stays signed in; a name change ends nobody's session.
    api.expect(
        StatusCode::OK,
        Method::PATCH,
        &format!("/v1/users/{}", w.op1.id),
        &w.owner.token,
        Some(json!({ "name": "Oscar Renommé" })),
    )
    .await;
    api.get_ok("/v1/me", &token).await;
}

#[tokio::test]
async fn a_token_stops_working_after_twelve_hours() {
    let w = World::new().await;
    let almost = w.api.at_clock(Arc::new(|| {
        Utc::now() + Duration::hours(12) - Duration::minutes(1)
    }));
    let (status, _, _) = almost
        .call(Method::GET, "/v1/me", Some(&w.owner.token), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let later = w.api.at_clock(Arc::new(|| {
        Utc::now() + Duration::hours(12) + Duration::seconds(1)
    }));
    let (status, body, _) = later
        .call(Method::GET, "/v1/me", Some(&w.owner.token), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}
