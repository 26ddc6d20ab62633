//! The finance export (`/v1/exports/{month}`), read by a finance user the provider
//! admin added.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use serde_json::json;
use teleconf_adapters::blobs::BlobStore;
use teleconf_domain::BlobKey;
use teleconf_domain::testkit::unique_email;
use teleconf_tests::api::{PASSWORD, World, create_member, ids};

use super::error_of;

#[tokio::test]
async fn the_provider_admin_adds_a_finance_user_who_reads_the_export() {
    let w = World::new().await;
    let api = &w.api;
    let provider = &w.provider.token;
    let provider_account = api.get_ok("/v1/me", provider).await["account"]["id"].clone();

    // Each new user signs in.
    let finance = create_member(api, &w.provider, "Fanny Finance", "finance").await;
    let second_admin = create_member(api, &w.provider, "Pierre Provider", "provider_admin").await;
    let me = api.get_ok("/v1/me", &finance.token).await;
    assert_eq!(me["user"]["role"], "finance");
    assert_eq!(me["account"]["id"], provider_account);
    let listed: BTreeSet<String> = ids(&api.get_ok("/v1/users", provider).await)
        .into_iter()
        .collect();
    let expected: BTreeSet<String> =
        [w.provider.id.clone(), finance.id.clone(), second_admin.id].into();
    assert_eq!(listed, expected, "the provider's users, and no customer's");

    // The finance user signs in and reads a month's export; nobody else does.
    let month = "2026-10";
    w.api
        .stack
        .blobs
        .put(
            &BlobKey::finance_export(month.parse().unwrap()),
            b"account_id,total\n".to_vec(),
            "text/csv",
        )
        .await
        .unwrap();
    let res = api
        .raw(
            Method::GET,
            &format!("/v1/exports/{month}"),
            Some(&finance.token),
            &[],
            vec![],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(res.text(), "account_id,total\n");
    let (status, _, _) = api
        .call(Method::GET, "/v1/users", Some(&finance.token), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "finance manages nobody");

    // Each side's roles only, refused with the field named.
    for (token, role) in [
        (provider, "owner"),
        (provider, "conference_operator"),
        (&w.owner.token, "finance"),
    ] {
        let (status, body, _) = api
            .call(
                Method::POST,
                "/v1/users",
                Some(token),
                Some(json!({ "email": unique_email().to_string(), "name": "Mauvais Rôle", "role": role, "password": PASSWORD })),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{role}: {body}");
        assert_eq!(error_of(&body)["field"], "role");
    }
    // A customer's user is not the provider's to read.
    let (status, _, _) = api
        .call(
            Method::GET,
            &format!("/v1/users/{}", w.op1.id),
            Some(provider),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
