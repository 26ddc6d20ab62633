//! The live view's controls: queued under the conference for its media node, only
//! while it runs, only for callers on the line.

use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use serde_json::json;
use teleconf_adapters::store::{ControlStore, LiveStore};
use teleconf_domain::{ControlCommand, LiveParticipant};
use teleconf_tests::api::{World, rfc3339};

#[tokio::test]
async fn a_moderator_queues_controls_for_the_running_conference_in_order() {
    let world = World::new().await;
    // Operator 1's conference, open now (access opens 5 minutes before the start); a caller
    // on the line makes it run.
    let start = Utc::now() + Duration::minutes(2);
    let conf = world
        .api
        .expect(
            StatusCode::CREATED,
            Method::POST,
            "/v1/conferences",
            &world.op1.token,
            Some(json!({
                "description": "En direct",
                "start": rfc3339(start),
                "end": rfc3339(start + Duration::hours(1)),
                "record": false,
            })),
        )
        .await;
    let id = conf["id"].as_str().unwrap().to_string();
    let path = format!("/v1/conferences/{id}/controls");
    let api = &world.api;

    let refused = api
        .expect(
            StatusCode::UNPROCESSABLE_ENTITY,
            Method::POST,
            &path,
            &world.op1.token,
            Some(json!({"command": "lock"})),
        )
        .await;
    assert_eq!(refused["error"]["code"], "state");

    let leg = world
        .put_open_leg(&conf, Utc::now() - Duration::seconds(1))
        .await;
    let caller = LiveParticipant {
        leg_id: leg.id,
        conference_id: leg.conference_id,
        account_id: leg.account_id,
        caller_id: leg.caller_id.clone(),
        role: leg.role,
        joined_at: leg.joined_at,
        muted: false,
    };
    api.stack.store.put_live(&caller).await.unwrap();

    for body in [
        json!({"command": "mute", "leg_id": leg.id.to_string()}),
        json!({"command": "mute_all"}),
    ] {
        api.expect(
            StatusCode::ACCEPTED,
            Method::POST,
            &path,
            &world.op1.token,
            Some(body),
        )
        .await;
    }
    // Another operator may not; a caller not on the line and a bad command are named.
    api.expect(
        StatusCode::FORBIDDEN,
        Method::POST,
        &path,
        &world.op2.token,
        Some(json!({"command": "lock"})),
    )
    .await;
    let gone = api
        .expect(
            StatusCode::BAD_REQUEST,
            Method::POST,
            &path,
            &world.op1.token,
            Some(json!({"command": "remove", "leg_id": teleconf_domain::LegId::new().to_string()})),
        )
        .await;
    assert_eq!(gone["error"]["field"], "leg_id");
    let bad = api
        .expect(
            StatusCode::BAD_REQUEST,
            Method::POST,
            &path,
            &world.op1.token,
            Some(json!({"command": "explode"})),
        )
        .await;
    assert_eq!(bad["error"]["field"], "command");

    let queued: Vec<ControlCommand> = api
        .stack
        .store
        .pending_controls(leg.conference_id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.command)
        .collect();
    assert_eq!(
        queued,
        vec![
            ControlCommand::Mute { leg_id: leg.id },
            ControlCommand::MuteAll
        ]
    );
}
