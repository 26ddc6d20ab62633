//! Conferences (`/v1/conferences`): the fields of the contract, codes, moves, deletion,
//! what an operator sees, the intro by phone, and the life-cycle rules.

use std::collections::{BTreeMap, BTreeSet};

use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use serde_json::{Value, json};
use teleconf_adapters::store::{ConferenceStore, IntroCodeStore};
use teleconf_domain::testkit::unique_email;
use teleconf_domain::{
    AccessCodes, CodeChoices, Conference, ConferenceId, ConferenceNumber, IntroCode, Language,
    Schedule, UserId,
};
use teleconf_tests::api::{World, conference_body, rfc3339};

use super::{error_of, now_secs, toronto_time};

fn is_digits(v: &Value, lens: std::ops::RangeInclusive<usize>) -> bool {
    v.as_str()
        .is_some_and(|s| lens.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()))
}

#[tokio::test]
async fn a_scheduled_conference_answers_with_the_fields_of_the_contract() {
    let w = World::new().await;
    let start = now_secs() + Duration::hours(30);
    let end = start + Duration::minutes(90);
    let created = w
        .api
        .expect(
            StatusCode::CREATED,
            Method::POST,
            "/v1/conferences",
            &w.op1.token,
            Some(json!({
                "description": "Revue trimestrielle",
                "start": rfc3339(start),
                "end": rfc3339(end),
                "record": true,
                "intro_prompt": w.prompt,
                "language": "en",
            })),
        )
        .await;

    for field in [
        "id",
        "conference_number",
        "description",
        "start",
        "end",
        "record",
        "intro_prompt",
        "language",
        "codes",
        "access_numbers",
        "status",
        "created_by",
    ] {
        assert!(created.get(field).is_some(), "no {field} in {created}");
    }
    assert!(
        created["id"]
            .as_str()
            .unwrap()
            .parse::<ConferenceId>()
            .is_ok()
    );
    assert!(is_digits(&created["conference_number"], 7..=7), "{created}");
    assert_eq!(created["description"], "Revue trimestrielle");
    let (got_start, start_in_toronto) = toronto_time(&created["start"]);
    let (got_end, end_in_toronto) = toronto_time(&created["end"]);
    assert_eq!((got_start, got_end), (start, end));
    assert!(
        start_in_toronto && end_in_toronto,
        "not on Toronto's offset: {} / {}",
        created["start"],
        created["end"]
    );
    assert_eq!(created["record"], true);
    assert_eq!(created["intro_prompt"], w.prompt.as_str());
    assert_eq!(created["language"], "en");
    let codes: Vec<&str> = ["participant", "listener", "moderator"]
        .iter()
        .map(|r| {
            assert!(is_digits(&created["codes"][r], 4..=10), "{created}");
            created["codes"][r].as_str().unwrap()
        })
        .collect();
    assert_eq!(codes.iter().collect::<BTreeSet<_>>().len(), 3, "{codes:?}");
    let numbers = created["access_numbers"].as_array().unwrap();
    assert_eq!(numbers.len(), 1, "{created}");
    assert_eq!(numbers[0]["number"], w.number.as_str());
    assert_eq!(numbers[0]["kind"], "toll_free");
    assert_eq!(created["status"], "scheduled");
    assert_eq!(created["created_by"], w.op1.id.as_str());

    let id = created["id"].as_str().unwrap();
    let read = w
        .api
        .get_ok(&format!("/v1/conferences/{id}"), &w.op1.token)
        .await;
    assert_eq!(read, created);
    assert!(w.conference_ids().await.contains(&id.to_string()));
}

#[tokio::test]
async fn custom_codes_are_kept_and_the_missing_ones_generated() {
    let w = World::new().await;
    let mut body = conference_body("Codes choisis", 28);
    body["codes"] = json!({ "participant": "69501", "listener": "83269", "moderator": "4711" });
    let created = w
        .api
        .expect(
            StatusCode::CREATED,
            Method::POST,
            "/v1/conferences",
            &w.op1.token,
            Some(body),
        )
        .await;
    assert_eq!(
        created["codes"],
        json!({ "participant": "69501", "listener": "83269", "moderator": "4711" })
    );

    let mut body = conference_body("Un code choisi", 29);
    body["codes"] = json!({ "listener": "83269" });
    let created = w
        .api
        .expect(
            StatusCode::CREATED,
            Method::POST,
            "/v1/conferences",
            &w.op1.token,
            Some(body),
        )
        .await;
    let codes = &created["codes"];
    assert_eq!(codes["listener"], "83269");
    assert!(is_digits(&codes["participant"], 4..=10) && is_digits(&codes["moderator"], 4..=10));
    assert_ne!(codes["participant"], codes["moderator"]);
    assert_ne!(codes["participant"], "83269");
    assert_ne!(codes["moderator"], "83269");
}

#[tokio::test]
async fn a_patch_moves_the_conference_and_keeps_its_number_and_codes() {
    let w = World::new().await;
    let path = format!("/v1/conferences/{}", w.conf_op1_id());
    let start = now_secs() + Duration::hours(50);
    let end = start + Duration::hours(2);
    let patched = w
        .api
        .expect(
            StatusCode::OK,
            Method::PATCH,
            &path,
            &w.op1.token,
            Some(json!({ "start": rfc3339(start), "end": rfc3339(end), "description": "Réunion déplacée" })),
        )
        .await;
    assert_eq!(toronto_time(&patched["start"]), (start, true));
    assert_eq!(toronto_time(&patched["end"]), (end, true));
    assert_eq!(patched["description"], "Réunion déplacée");
    assert_eq!(
        patched["conference_number"],
        w.conf_op1["conference_number"]
    );
    assert_eq!(patched["codes"], w.conf_op1["codes"]);
    assert_eq!(patched["status"], "scheduled");
    assert_eq!(w.api.get_ok(&path, &w.op1.token).await, patched);

    // Only the end: the start stays.
    let later_end = start + Duration::hours(3);
    let patched = w
        .api
        .expect(
            StatusCode::OK,
            Method::PATCH,
            &path,
            &w.admin.token,
            Some(json!({ "end": rfc3339(later_end) })),
        )
        .await;
    assert_eq!(toronto_time(&patched["start"]).0, start);
    assert_eq!(toronto_time(&patched["end"]).0, later_end);
}

#[tokio::test]
async fn a_conference_moved_out_of_its_access_window_answers_scheduled() {
    let w = World::new().await;
    // Starts in 3 minutes: callers are let in already (5 minutes before the start).
    let start = now_secs() + Duration::minutes(3);
    let soon = w
        .api
        .expect(
            StatusCode::CREATED,
            Method::POST,
            "/v1/conferences",
            &w.op1.token,
            Some(json!({
                "description": "Tout de suite",
                "start": rfc3339(start),
                "end": rfc3339(start + Duration::hours(1)),
                "record": false,
            })),
        )
        .await;
    assert_eq!(soon["status"], "open", "{soon}");
    let path = format!("/v1/conferences/{}", soon["id"].as_str().unwrap());

    let start = now_secs() + Duration::hours(48);
    let moved = w
        .api
        .expect(
            StatusCode::OK,
            Method::PATCH,
            &path,
            &w.op1.token,
            Some(json!({ "start": rfc3339(start), "end": rfc3339(start + Duration::hours(1)) })),
        )
        .await;
    assert_eq!(
        w.api.get_ok(&path, &w.op1.token).await["status"],
        "scheduled"
    );
    assert_eq!(
        moved["status"], "scheduled",
        "the PATCH answer shows the status from before the move: {moved}"
    );
}

#[tokio::test]
async fn a_deleted_conference_is_gone() {
    let w = World::new().await;
    let id = w.conf_owner["id"].as_str().unwrap();
    let path = format!("/v1/conferences/{id}");
    w.api
        .expect(
            StatusCode::NO_CONTENT,
            Method::DELETE,
            &path,
            &w.owner.token,
            None,
        )
        .await;
    let (status, body, _) = w
        .api
        .call(Method::GET, &path, Some(&w.owner.token), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_of(&body)["code"], "not_found");
    assert!(!w.conference_ids().await.contains(&id.to_string()));
    let (status, _, _) = w
        .api
        .call(Method::DELETE, &path, Some(&w.owner.token), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_operator_lists_every_conference_but_sees_the_codes_only_of_their_own() {
    let w = World::new().await;
    let list = w.api.get_ok("/v1/conferences", &w.op1.token).await;
    let by_id: BTreeMap<String, &Value> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap().to_string(), c))
        .collect();
    assert_eq!(by_id.len(), 3, "{list}");
    assert!(by_id[w.conf_op1_id()]["codes"].is_object());
    assert!(by_id[w.conf_op2_id()]["codes"].is_null());
    assert!(by_id[w.conf_owner["id"].as_str().unwrap()]["codes"].is_null());
    let theirs = w
        .api
        .get_ok(
            &format!("/v1/conferences/{}", w.conf_op2_id()),
            &w.op1.token,
        )
        .await;
    assert_eq!(theirs["conference_number"], w.conf_op2["conference_number"]);
    assert!(theirs["codes"].is_null(), "{theirs}");
    // An administrator sees every code.
    let list = w.api.get_ok("/v1/conferences", &w.admin.token).await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|c| c["codes"].is_object())
    );
}

#[tokio::test]
async fn an_intro_by_phone_grant_is_an_access_number_and_an_8_digit_code() {
    let w = World::new().await;
    let granted = w
        .api
        .expect(
            StatusCode::CREATED,
            Method::POST,
            &format!("/v1/conferences/{}/intro/by-phone", w.conf_op1_id()),
            &w.op1.token,
            None,
        )
        .await;
    assert_eq!(granted["number"], w.number.as_str());
    assert!(is_digits(&granted["code"], 8..=8), "{granted}");
    let (expires, in_toronto) = toronto_time(&granted["expires_at"]);
    assert!(expires > Utc::now() && in_toronto, "{granted}");

    let code: IntroCode = granted["code"].as_str().unwrap().parse().unwrap();
    let grant = w
        .api
        .stack
        .store
        .intro_grant(&code)
        .await
        .unwrap()
        .expect("the grant is stored");
    assert_eq!(grant.conference_id.to_string(), w.conf_op1_id());
    assert_eq!(grant.granted_to.to_string(), w.op1.id);
}

#[tokio::test]
async fn a_running_conference_keeps_its_start_and_cannot_be_deleted() {
    let w = World::new().await;
    let start = now_secs() + Duration::minutes(3);
    let conf = w
        .api
        .expect(
            StatusCode::CREATED,
            Method::POST,
            "/v1/conferences",
            &w.op1.token,
            Some(json!({
                "description": "En cours",
                "start": rfc3339(start),
                "end": rfc3339(start + Duration::hours(1)),
                "record": false,
            })),
        )
        .await;
    let path = format!("/v1/conferences/{}", conf["id"].as_str().unwrap());
    w.put_open_leg(&conf, Utc::now()).await;
    assert_eq!(w.api.get_ok(&path, &w.op1.token).await["status"], "running");

    let (status, body, _) = w
        .api
        .call(Method::DELETE, &path, Some(&w.op1.token), None)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_of(&body)["code"], "state");
    let later = now_secs() + Duration::hours(30);
    let (status, body, _) = w
        .api
        .call(
            Method::PATCH,
            &path,
            Some(&w.op1.token),
            Some(json!({ "start": rfc3339(later), "end": rfc3339(later + Duration::hours(1)) })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_of(&body)["field"], "start");
    let (status, body, _) = w
        .api
        .call(
            Method::PATCH,
            &path,
            Some(&w.op1.token),
            Some(json!({ "end": rfc3339(now_secs() - Duration::minutes(1)) })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error_of(&body)["field"], "end");
    let read = w.api.get_ok(&path, &w.op1.token).await;
    assert_eq!(toronto_time(&read["start"]).0, start);
}

#[tokio::test]
async fn an_ended_conference_can_no_longer_be_changed_deleted_or_invited_to() {
    let w = World::new().await;
    let start = now_secs() - Duration::hours(26);
    let end = start + Duration::hours(1);
    let op1: UserId = w.op1.id.parse().unwrap();
    let conference = loop {
        let mut c = Conference::schedule(
            w.account_a_id(),
            ConferenceNumber::generate(),
            "Hier",
            Schedule::new(start, end).unwrap(),
            false,
            Language::Fr,
            AccessCodes::from_choices(CodeChoices::default()).unwrap(),
            op1,
            25,
            start - Duration::hours(1),
        )
        .unwrap();
        c.ended_at = Some(end);
        match w.api.stack.store.create_conference(&c).await {
            Ok(()) => break c,
            Err(teleconf_adapters::Error::Conflict(_)) => continue,
            Err(e) => panic!("{e}"),
        }
    };
    let path = format!("/v1/conferences/{}", conference.id);
    assert_eq!(w.api.get_ok(&path, &w.op1.token).await["status"], "ended");
    let attempts = [
        (Method::DELETE, path.clone(), None),
        (
            Method::PATCH,
            path.clone(),
            Some(json!({ "description": "Réécrite" })),
        ),
        (
            Method::POST,
            format!("{path}/invitations"),
            Some(
                json!({ "invitees": [{ "email": unique_email().to_string(), "role": "participant" }] }),
            ),
        ),
        (Method::POST, format!("{path}/intro/by-phone"), None),
    ];
    for (method, p, body) in attempts {
        let (status, answer, _) = w
            .api
            .call(method.clone(), &p, Some(&w.op1.token), body)
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{method} {p}: {answer}"
        );
        assert_eq!(error_of(&answer)["code"], "state");
    }
    assert_eq!(
        w.api.get_ok(&path, &w.op1.token).await["description"],
        "Hier"
    );
}
