//! The activity feed (`/v1/activity`): the account's changes, newest first.

use axum::http::{Method, StatusCode};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use teleconf_tests::api::{World, encode_plus, tone_wav};

use super::toronto_time;

fn kinds(feed: &Value) -> Vec<String> {
    feed.as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_activity_lists_the_changes_newest_first() {
    let w = World::new().await;
    // What building the world changed, newest first.
    assert_eq!(
        kinds(&w.activity().await),
        [
            "prompt_uploaded",
            "conference_created",
            "conference_created",
            "conference_created",
            "number_updated",
            "number_created",
            "user_created",
            "user_created",
            "user_created",
        ]
    );

    w.api
        .expect(
            StatusCode::OK,
            Method::PATCH,
            &format!("/v1/conferences/{}", w.conf_op1_id()),
            &w.op1.token,
            Some(json!({ "description": "Réunion renommée" })),
        )
        .await;
    w.api
        .expect(
            StatusCode::NO_CONTENT,
            Method::DELETE,
            &format!("/v1/conferences/{}", w.conf_owner["id"].as_str().unwrap()),
            &w.owner.token,
            None,
        )
        .await;
    w.api
        .expect(
            StatusCode::OK,
            Method::PATCH,
            &format!("/v1/numbers/{}", encode_plus(&w.number)),
            &w.owner.token,
            Some(json!({ "notes": "Changée" })),
        )
        .await;

    let feed = w.api.get_ok("/v1/activity", &w.op2.token).await;
    let got = kinds(&feed);
    assert_eq!(
        got[..3],
        ["number_updated", "conference_deleted", "conference_updated"],
        "{feed}"
    );
    assert_eq!(got.len(), 12, "{feed}");
    let updated = &feed[2];
    assert_eq!(updated["actor"], w.op1.id.as_str());
    assert_eq!(updated["conference_id"], w.conf_op1_id());
    assert_eq!(updated["summary"], "Réunion renommée");
    let times: Vec<DateTime<Utc>> = feed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| toronto_time(&a["at"]).0)
        .collect();
    assert!(times.windows(2).all(|p| p[0] >= p[1]), "{feed}");

    let limited = w.api.get_ok("/v1/activity?limit=2", &w.op2.token).await;
    assert_eq!(kinds(&limited), ["number_updated", "conference_deleted"]);
}

#[tokio::test]
async fn uploading_a_prompt_writes_an_activity_entry() {
    let w = World::new().await;
    let before = w.activity().await.as_array().unwrap().len();
    let res = w
        .api
        .upload_prompt(&w.op1.token, tone_wav(8_000, 1, 200))
        .await;
    assert_eq!(res.status, StatusCode::CREATED);
    let after = w.activity().await;
    assert_eq!(
        after.as_array().unwrap().len(),
        before + 1,
        "every change writes an activity entry; a prompt upload wrote none: {after}"
    );
    assert_eq!(after[0]["actor"], w.op1.id.as_str());
}
