//! IP phones (`/v1/ip-phones`): the owner adds, lists and removes the account's phones.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use teleconf_tests::api::{World, source_segment};

use super::error_of;

#[tokio::test]
async fn the_owner_adds_lists_and_removes_the_accounts_ip_phones() {
    let w = World::new().await;
    let api = &w.api;
    let owner = &w.owner.token;
    let (address, identity) = teleconf_domain::testkit::unique_ip_phone_sources();
    let (address, identity) = (address.to_string(), identity.to_string());

    let desk = api
        .expect(
            StatusCode::CREATED,
            Method::POST,
            "/v1/ip-phones",
            owner,
            Some(json!({ "source": format!("  [{}] ", address.to_uppercase()), "label": "Réception" })),
        )
        .await;
    assert_eq!(desk["source"], address.as_str(), "stored in canonical form");
    assert_eq!(desk["kind"], "address");
    assert_eq!(desk["label"], "Réception");
    assert!(
        desk["added_at"]
            .as_str()
            .is_some_and(|t| t.ends_with(":00"))
    );
    let typed = identity
        .replacen("sip:", "SIPS:", 1)
        .replace("pbx.example", "PBX.Example");
    let pbx = api
        .expect(
            StatusCode::CREATED,
            Method::POST,
            "/v1/ip-phones",
            owner,
            Some(json!({ "source": typed })),
        )
        .await;
    assert_eq!(pbx["source"], identity.as_str());
    assert_eq!(pbx["kind"], "sip_identity");
    assert_eq!(pbx["label"], "");

    let listed = api.get_ok("/v1/ip-phones", owner).await;
    let sources: BTreeSet<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources, [address.as_str(), identity.as_str()].into());

    // One source, one account: B cannot take A's, nor A twice.
    for token in [&w.foreign.token, owner] {
        let (status, body, _) = api
            .call(
                Method::POST,
                "/v1/ip-phones",
                Some(token),
                Some(json!({ "source": identity })),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert_eq!(error_of(&body)["field"], "source");
    }
    assert_eq!(
        api.get_ok("/v1/ip-phones", &w.foreign.token).await,
        json!([])
    );

    // B cannot remove A's phone; A can, and the source is free again.
    let path = format!("/v1/ip-phones/{}", source_segment(&identity));
    let (status, _, _) = api
        .call(Method::DELETE, &path, Some(&w.foreign.token), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    api.expect(StatusCode::NO_CONTENT, Method::DELETE, &path, owner, None)
        .await;
    let (status, _, _) = api.call(Method::DELETE, &path, Some(owner), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let left = api.get_ok("/v1/ip-phones", owner).await;
    assert_eq!(left.as_array().unwrap().len(), 1);
    assert_eq!(left[0]["source"], address.as_str());
    api.expect(
        StatusCode::CREATED,
        Method::POST,
        "/v1/ip-phones",
        &w.foreign.token,
        Some(json!({ "source": identity })),
    )
    .await;

    let kinds: Vec<Value> = w
        .activity()
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].clone())
        .collect();
    assert!(kinds.contains(&json!("ip_phone_added")), "{kinds:?}");
    assert!(kinds.contains(&json!("ip_phone_removed")), "{kinds:?}");
}
