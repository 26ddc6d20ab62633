//! Bad input gets the documented status (error.rs: 400 for input, 413 for too large),
//! names the field at fault, and stores nothing. Failed logins are refused and then
//! throttled.

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use chrono::{Duration, DurationRound, Utc};
use serde_json::{Value, json};
use teleconf_adapters::store::conformance::account_with_owner;
use teleconf_domain::testkit::unique_email;
use teleconf_tests::api::{Raw, TestApi, World, multipart_wav, retry_after, rfc3339, tone_wav};

use super::error_of;

/// What a refused request must leave as it was.
#[derive(Debug, PartialEq)]
struct Snapshot {
    conferences: Value,
    activity: Value,
    prompts: Vec<String>,
}

async fn snapshot(w: &World) -> Snapshot {
    let mut prompts = w.api.stored_prompts(&w.a).await;
    prompts.sort();
    Snapshot {
        conferences: w.api.get_ok("/v1/conferences", &w.owner.token).await,
        activity: w.activity().await,
        prompts,
    }
}

/// Asserts the documented refusal and that nothing changed.
fn assert_refused(case: &str, res: &Raw, status: StatusCode, field: &str) {
    let body = res.json();
    assert_eq!(res.status, status, "{case}: {}", res.text());
    let error = error_of(&body);
    assert_eq!(
        error["code"],
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            "too_large"
        } else {
            "invalid"
        },
        "{case}: {body}"
    );
    assert_eq!(error["field"], field, "{case}: {body}");
}

fn in_hours(h: i64) -> chrono::DateTime<Utc> {
    Utc::now().duration_trunc(Duration::seconds(1)).unwrap() + Duration::hours(h)
}

fn conference(start: chrono::DateTime<Utc>, end: chrono::DateTime<Utc>) -> Value {
    json!({ "description": "Réunion refusée", "start": rfc3339(start), "end": rfc3339(end), "record": false })
}

#[tokio::test]
async fn a_refused_conference_names_its_field_and_stores_nothing() {
    let w = World::new().await;
    let before = snapshot(&w).await;
    let start = in_hours(48);

    let mut unknown = conference(start, start + Duration::hours(1));
    unknown["colour"] = json!("red");
    let mut duplicate = conference(start, start + Duration::hours(1));
    duplicate["codes"] = json!({ "participant": "12345", "listener": "12345" });
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "malformed JSON",
            br#"{"description": "Reunion", "start": "#.to_vec(),
            "body",
        ),
        (
            "an unknown field",
            serde_json::to_vec(&unknown).unwrap(),
            "colour",
        ),
        (
            "the end before the start",
            serde_json::to_vec(&conference(start, start - Duration::hours(1))).unwrap(),
            "end",
        ),
        (
            "a start in the past",
            serde_json::to_vec(&conference(in_hours(-1), in_hours(1))).unwrap(),
            "start",
        ),
        (
            "a duplicate custom code",
            serde_json::to_vec(&duplicate).unwrap(),
            "codes.listener",
        ),
        (
            "longer than 24 hours",
            serde_json::to_vec(&conference(start, start + Duration::hours(25))).unwrap(),
            "end",
        ),
    ];
    for (case, body, field) in cases {
        let res = w
            .api
            .raw(
                Method::POST,
                "/v1/conferences",
                Some(&w.op1.token),
                &[("content-type", "application/json")],
                body,
            )
            .await;
        assert_refused(case, &res, StatusCode::BAD_REQUEST, field);
        assert_eq!(snapshot(&w).await, before, "{case}: something was stored");
    }
}

#[tokio::test]
async fn a_refused_change_leaves_the_conference_as_it_was() {
    let w = World::new().await;
    let path = format!("/v1/conferences/{}", w.conf_op1_id());
    let before = snapshot(&w).await;
    let same_as_participant = w.conf_op1["codes"]["participant"].clone();
    let cases = vec![
        (
            "a moderator code equal to the participant code",
            json!({ "codes": { "moderator": same_as_participant } }),
            "codes.moderator",
        ),
        (
            "the end before the start",
            json!({ "start": rfc3339(in_hours(60)), "end": rfc3339(in_hours(59)) }),
            "end",
        ),
        (
            "a start in the past",
            json!({ "start": rfc3339(in_hours(-2)), "end": rfc3339(in_hours(1)) }),
            "start",
        ),
        (
            "longer than 24 hours",
            json!({ "end": rfc3339(in_hours(26 + 25)) }),
            "end",
        ),
        ("an unknown field", json!({ "colour": "red" }), "colour"),
    ];
    for (case, body, field) in cases {
        let res = w
            .api
            .raw(
                Method::PATCH,
                &path,
                Some(&w.op1.token),
                &[("content-type", "application/json")],
                serde_json::to_vec(&body).unwrap(),
            )
            .await;
        assert_refused(case, &res, StatusCode::BAD_REQUEST, field);
        assert_eq!(snapshot(&w).await, before, "{case}: something changed");
    }
    assert_eq!(w.api.get_ok(&path, &w.op1.token).await, w.conf_op1);
}

#[tokio::test]
async fn a_prompt_that_is_not_wav_is_refused_naming_audio_and_not_stored() {
    let w = World::new().await;
    let before = snapshot(&w).await;
    for (case, bytes) in [
        ("text", b"this is not a WAV file at all".to_vec()),
        (
            "a RIFF header and nothing else",
            b"RIFF\x24\0\0\0WAVE".to_vec(),
        ),
        ("empty", Vec::new()),
    ] {
        let res = w.api.upload_prompt(&w.owner.token, bytes).await;
        assert_refused(case, &res, StatusCode::BAD_REQUEST, "audio");
        assert_eq!(snapshot(&w).await, before, "{case}: something was stored");
    }
}

#[tokio::test]
async fn a_prompt_over_10_mb_is_too_large_and_not_stored() {
    let w = World::new().await;
    let before = snapshot(&w).await;
    // A real WAV header in front, so only the size is wrong.
    let mut just_over = tone_wav(8_000, 1, 100);
    just_over.resize(10 * 1024 * 1024 + 1, 0);
    let mut far_over = tone_wav(8_000, 1, 100);
    far_over.resize(12 * 1024 * 1024, 0);
    for (case, bytes) in [("10 MiB + 1 byte", just_over), ("12 MiB", far_over.clone())] {
        let res = w.api.upload_prompt(&w.owner.token, bytes).await;
        assert_refused(case, &res, StatusCode::PAYLOAD_TOO_LARGE, "audio");
        assert_eq!(snapshot(&w).await, before, "{case}: something was stored");
    }

    // The same as a multipart file.
    let (content_type, body) = multipart_wav(&[], "big.wav", far_over);
    let res = w
        .api
        .raw(
            Method::POST,
            "/v1/prompts",
            Some(&w.owner.token),
            &[("content-type", &content_type)],
            body,
        )
        .await;
    assert_refused(
        "multipart, 12 MiB",
        &res,
        StatusCode::PAYLOAD_TOO_LARGE,
        "audio",
    );
    assert_eq!(
        snapshot(&w).await,
        before,
        "multipart: something was stored"
    );
}

#[tokio::test]
async fn a_prompt_longer_than_five_minutes_is_too_large_and_not_stored() {
    let w = World::new().await;
    let before = snapshot(&w).await;
    let res = w
        .api
        .upload_prompt(&w.owner.token, tone_wav(8_000, 1, 301_000))
        .await;
    assert_refused("301 s", &res, StatusCode::PAYLOAD_TOO_LARGE, "audio");
    assert_eq!(snapshot(&w).await, before);
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_the_sixth_attempt_is_throttled_even_when_right() {
    let api = TestApi::new().await;
    // A frozen clock: the five failures and the sixth attempt share one window.
    let now = Utc::now();
    let api = api.at_clock(Arc::new(move || now));
    let (_, user) = account_with_owner(&api.stack.store).await;
    let (_, bystander) = account_with_owner(&api.stack.store).await;
    let right = "a long enough password";
    let login = |email: String, password: &'static str| {
        let api = api.clone();
        async move {
            api.call(
                Method::POST,
                "/v1/auth/login",
                None,
                Some(json!({ "email": email, "password": password })),
            )
            .await
        }
    };

    let (status, _, _) = login(user.email.to_string(), right).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body, _) = login(unique_email().to_string(), right).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "unknown e-mail: {body}");

    for attempt in 1..=5 {
        let (status, body, _) = login(user.email.to_string(), "a wrong password").await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}: {body}"
        );
        assert_eq!(error_of(&body)["code"], "unauthenticated");
    }
    let (status, body, headers) = login(user.email.to_string(), right).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(error_of(&body)["code"], "too_many_attempts");
    let wait = retry_after(&headers).expect("a Retry-After header");
    assert!((1..=15 * 60).contains(&wait), "Retry-After: {wait}");

    // Only that e-mail is locked.
    let (status, _, _) = login(bystander.email.to_string(), right).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_bad_query_parameter_is_a_json_400_naming_it_or_the_query() {
    let w = World::new().await;
    let confirmation = format!("/v1/conferences/{}/confirmation?lang=de", w.conf_op1_id());
    for (path, field) in [
        (confirmation.as_str(), "lang"),
        ("/v1/cdrs?limit=many", "limit"),
        ("/v1/activity?colour=red", "colour"),
    ] {
        let res = w
            .api
            .raw(Method::GET, path, Some(&w.owner.token), &[], vec![])
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{path}");
        let body = res.json();
        // The parameter's name, or `query` as a whole.
        assert!(
            body["error"]["code"] == "invalid"
                && (body["error"]["field"] == field || body["error"]["field"] == "query"),
            "{path}: every error is JSON {{\"error\": {{code, message, field}}}}, got {:?} {:?}",
            res.content_type(),
            res.text()
        );
    }
}

#[tokio::test]
async fn a_method_a_route_does_not_have_is_answered_in_json() {
    let api = TestApi::new().await;
    let res = api
        .raw(Method::PUT, "/v1/conferences", None, &[], vec![])
        .await;
    assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(
        res.json()["error"]["code"].is_string(),
        "every error is JSON {{\"error\": {{code, message}}}}, got {:?} {:?}",
        res.content_type(),
        res.text()
    );
}

#[tokio::test]
async fn a_json_body_without_the_json_content_type_is_refused_naming_the_body() {
    let w = World::new().await;
    let before = snapshot(&w).await;
    let res = w
        .api
        .raw(
            Method::POST,
            "/v1/conferences",
            Some(&w.op1.token),
            &[("content-type", "text/plain")],
            serde_json::to_vec(&conference(in_hours(30), in_hours(31))).unwrap(),
        )
        .await;
    assert_refused("text/plain", &res, StatusCode::BAD_REQUEST, "body");
    assert_eq!(snapshot(&w).await, before);
}

#[tokio::test]
async fn a_refused_ip_phone_names_its_field_and_stores_nothing() {
    let w = World::new().await;
    let before = snapshot(&w).await;
    let long_label = "x".repeat(101);
    let cases: Vec<(&str, Value, &str)> = vec![
        ("no source", json!({ "label": "Réception" }), "source"),
        ("a word", json!({ "source": "reception" }), "source"),
        (
            "the unspecified address",
            json!({ "source": "0.0.0.0" }),
            "source",
        ),
        (
            "a multicast address",
            json!({ "source": "224.0.0.1" }),
            "source",
        ),
        (
            "an identity without user",
            json!({ "source": "sip:pbx.example" }),
            "source",
        ),
        (
            "an identity with a port",
            json!({ "source": "sip:desk@pbx.example:5060" }),
            "source",
        ),
        (
            "a tel: URI",
            json!({ "source": "tel:+15145550123" }),
            "source",
        ),
        (
            "a number for a source",
            json!({ "source": 19216801 }),
            "source",
        ),
        (
            "a label over 100 characters",
            json!({ "source": "192.0.2.44", "label": long_label }),
            "label",
        ),
        (
            "an unknown field",
            json!({ "source": "192.0.2.44", "account_id": w.b }),
            "account_id",
        ),
    ];
    for (case, body, field) in cases {
        let res = w
            .api
            .raw(
                Method::POST,
                "/v1/ip-phones",
                Some(&w.owner.token),
                &[("content-type", "application/json")],
                serde_json::to_vec(&body).unwrap(),
            )
            .await;
        assert_refused(case, &res, StatusCode::BAD_REQUEST, field);
        assert_eq!(snapshot(&w).await, before, "{case}: something was stored");
        assert_eq!(
            w.api.get_ok("/v1/ip-phones", &w.owner.token).await,
            json!([]),
            "{case}: a phone was stored"
        );
    }
}
