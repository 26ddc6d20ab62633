//! Numbers (`/v1/numbers`, `/v1/accounts/{id}/numbers`): the provider assigns them, the
//! owner configures them.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use teleconf_domain::testkit::unique_e164;
use teleconf_tests::api::{World, encode_plus};

use super::error_of;

#[tokio::test]
async fn the_provider_assigns_a_number_typed_nanp_and_the_owner_configures_it() {
    let w = World::new().await;
    let api = &w.api;
    let owner = &w.owner.token;
    let provider = &w.provider.token;
    let e164 = unique_e164().to_string();
    let d = &e164[2..];
    let typed = format!("({}) {}-{}", &d[..3], &d[3..6], &d[6..]);
    let assigned_to_a = format!("/v1/accounts/{}/numbers", w.a);

    let created = api
        .expect(
            StatusCode::CREATED,
            Method::POST,
            &assigned_to_a,
            provider,
            Some(json!({ "number": typed, "kind": "local" })),
        )
        .await;
    assert_eq!(created["number"], e164.as_str());
    assert_eq!(created["national"], typed.as_str());
    assert_eq!(created["kind"], "local");
    assert_eq!(created["account_id"], w.a.as_str());
    // Ready for conferences in the account's language; the owner does the rest.
    assert_eq!(created["greeting_language"], "fr");
    assert_eq!(created["filter"], true);
    assert_eq!(created["action"]["type"], "conference_access");
    assert!(created["action"]["prompts"]["greeting"].is_null());
    assert_eq!(created["e911_address"], "");

    let numbers = |list: Value| -> BTreeSet<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|n| n["number"].as_str().unwrap().to_string())
            .collect()
    };
    let both: BTreeSet<String> = [e164.clone(), w.number.clone()].into();
    assert_eq!(numbers(api.get_ok(&assigned_to_a, provider).await), both);
    assert_eq!(numbers(api.get_ok("/v1/numbers", owner).await), both);

    let path = format!("/v1/numbers/{}", encode_plus(&e164));
    assert_eq!(api.get_ok(&path, owner).await["number"], e164.as_str());
    // Operators see the numbers too (they are in every confirmation).
    assert_eq!(
        api.get_ok(&path, &w.op2.token).await["number"],
        e164.as_str()
    );

    // The owner configures it, the 911 address first.
    let (status, body, _) = api
        .call(
            Method::PATCH,
            &path,
            Some(owner),
            Some(json!({ "notes": "Ligne principale" })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error_of(&body)["field"], "e911_address");
    let patched = api
        .expect(
            StatusCode::OK,
            Method::PATCH,
            &path,
            owner,
            Some(json!({
                "notes": "Ligne principale",
                "greeting_language": "en",
                "e911_address": "290-4765 1re Avenue, QUEBEC, QC G1H 2T3",
                "display_name": "Omnivigil",
                "action": { "type": "conference_access", "prompts": { "greeting": w.prompt } },
            })),
        )
        .await;
    assert_eq!(patched["notes"], "Ligne principale");
    assert_eq!(patched["greeting_language"], "en");
    assert_eq!(patched["action"]["prompts"]["greeting"], w.prompt.as_str());
    assert_eq!(patched["kind"], "local");
    assert_eq!(api.get_ok(&path, owner).await, patched);

    // An owner neither registers a number nor drops one: no such route.
    for (method, route) in [
        (Method::POST, "/v1/numbers"),
        (Method::DELETE, path.as_str()),
    ] {
        let (status, body, _) = api
            .call(
                method.clone(),
                route,
                Some(owner),
                Some(json!({ "number": unique_e164().to_string(), "kind": "local" })),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {route}: {body}"
        );
    }

    // A number belongs to one account: B cannot be given A's.
    let (status, body, _) = api
        .call(
            Method::POST,
            &format!("/v1/accounts/{}/numbers", w.b),
            Some(provider),
            Some(json!({ "number": e164, "kind": "toll_free" })),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(error_of(&body)["field"], "number");
    let (status, _, _) = api
        .call(
            Method::DELETE,
            &format!("/v1/accounts/{}/numbers/{}", w.b, encode_plus(&e164)),
            Some(provider),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "A's number is not B's to give back"
    );

    // Taken back: the account no longer has it.
    api.expect(
        StatusCode::NO_CONTENT,
        Method::DELETE,
        &format!("{assigned_to_a}/{}", encode_plus(&e164)),
        provider,
        None,
    )
    .await;
    let (status, _, _) = api.call(Method::GET, &path, Some(owner), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        numbers(api.get_ok("/v1/numbers", owner).await),
        [w.number.clone()].into()
    );
    // The owner's feed says what the provider did.
    let feed = w.activity().await;
    let summaries: Vec<(&str, &str)> = feed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["kind"].as_str().unwrap(), a["summary"].as_str().unwrap()))
        .collect();
    assert!(
        summaries.contains(&("number_created", typed.as_str())),
        "{feed}"
    );
    assert!(
        summaries.contains(&("number_deleted", typed.as_str())),
        "{feed}"
    );
}

#[tokio::test]
async fn the_conference_action_requires_filter() {
    let w = World::new().await;
    let api = &w.api;
    let owner = &w.owner.token;
    let e164 = w.new_number().await;
    let path = format!("/v1/numbers/{}", encode_plus(&e164));

    // Not routed to conferences: no filter needed; routing it needs the filter.
    let (status, answer, _) = api
        .call(
            Method::PATCH,
            &path,
            Some(owner),
            Some(json!({ "filter": false })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(error_of(&answer)["field"], "filter");
    assert_eq!(api.get_ok(&path, owner).await["filter"], true);
    api.expect(
        StatusCode::OK,
        Method::PATCH,
        &path,
        owner,
        Some(json!({ "filter": false, "action": { "type": "none" } })),
    )
    .await;
    let (status, answer, _) = api
        .call(
            Method::PATCH,
            &path,
            Some(owner),
            Some(json!({ "action": { "type": "conference_access" } })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(error_of(&answer)["field"], "filter");
    assert_eq!(api.get_ok(&path, owner).await["action"]["type"], "none");
}
