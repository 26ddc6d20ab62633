//! Users (`/v1/users`): the owner adds, reads, changes and removes users, and the
//! account always keeps an owner.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use serde_json::json;
use teleconf_adapters::store::UserStore;
use teleconf_domain::Role;
use teleconf_domain::testkit::unique_email;
use teleconf_tests::api::{PASSWORD, World, ids};

use super::error_of;

#[tokio::test]
async fn the_owner_adds_reads_changes_and_removes_users() {
    let w = World::new().await;
    let api = &w.api;
    let owner = &w.owner.token;

    let listed: BTreeSet<String> = ids(&api.get_ok("/v1/users", owner).await)
        .into_iter()
        .collect();
    let expected: BTreeSet<String> = [&w.owner, &w.admin, &w.op1, &w.op2]
        .iter()
        .map(|m| m.id.clone())
        .collect();
    assert_eq!(listed, expected);

    let email = unique_email().to_string();
    let created = api
        .expect(
            StatusCode::CREATED,
            Method::POST,
            "/v1/users",
            owner,
            Some(json!({ "email": email, "name": "Noémie Nouvelle", "role": "conference_operator", "password": PASSWORD })),
        )
        .await;
    assert!(created.get("password").is_none(), "{created}");
    assert_eq!(created["account_id"], w.a.as_str());
    let id = created["id"].as_str().unwrap();
    let path = format!("/v1/users/{id}");
    assert_eq!(api.get_ok(&path, owner).await["email"], email.as_str());

    let patched = api
        .expect(
            StatusCode::OK,
            Method::PATCH,
            &path,
            owner,
            Some(json!({ "name": "Noémie Promue", "role": "conference_admin", "password": "another long password" })),
        )
        .await;
    assert_eq!(patched["role"], "conference_admin");
    assert_eq!(patched["name"], "Noémie Promue");
    let token = api.login(&email, "another long password").await;
    assert_eq!(
        api.get_ok("/v1/me", &token).await["user"]["role"],
        "conference_admin"
    );

    api.expect(StatusCode::NO_CONTENT, Method::DELETE, &path, owner, None)
        .await;
    let (status, _, _) = api.call(Method::GET, &path, Some(owner), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A removed user's token opens nothing.
    let (status, _, _) = api.call(Method::GET, "/v1/me", Some(&token), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // E-mails are unique; provider roles are not an account's.
    let (status, body, _) = api
        .call(
            Method::POST,
            "/v1/users",
            Some(owner),
            Some(json!({ "email": w.op1.email, "name": "Clone", "role": "conference_operator", "password": PASSWORD })),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(error_of(&body)["field"], "email");
    let (status, body, _) = api
        .call(
            Method::POST,
            "/v1/users",
            Some(owner),
            Some(json!({ "email": unique_email().to_string(), "name": "Pirate", "role": "provider_admin", "password": PASSWORD })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error_of(&body)["field"], "role");
}

#[tokio::test]
async fn nobody_removes_or_demotes_the_last_owner() {
    let w = World::new().await;
    let api = &w.api;
    let me = format!("/v1/users/{}", w.owner.id);

    let (status, body, _) = api
        .call(Method::DELETE, &me, Some(&w.owner.token), None)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_of(&body)["code"], "state");
    let (status, body, _) = api
        .call(
            Method::PATCH,
            &me,
            Some(&w.owner.token),
            Some(json!({ "role": "conference_admin" })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_of(&body)["field"], "role");
    assert_eq!(
        api.get_ok("/v1/me", &w.owner.token).await["user"]["role"],
        "owner"
    );

    // With a second owner the first may step down; then the second is the last.
    let second = w.new_member("Second Owner", "owner").await;
    api.expect(
        StatusCode::OK,
        Method::PATCH,
        &me,
        &second.token,
        Some(json!({ "role": "conference_admin" })),
    )
    .await;
    let second_path = format!("/v1/users/{}", second.id);
    let (status, _, _) = api
        .call(Method::DELETE, &second_path, Some(&second.token), None)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _, _) = api
        .call(
            Method::PATCH,
            &second_path,
            Some(&second.token),
            Some(json!({ "role": "conference_operator" })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let owners = api
        .get_ok("/v1/users", &second.token)
        .await
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["role"] == "owner")
        .count();
    assert_eq!(owners, 1);
}

#[tokio::test]
async fn two_owners_removing_each_other_at_once_leave_the_account_an_owner() {
    let w = World::new().await;
    let second = w.new_member("Second Owner", "owner").await;
    let first_path = format!("/v1/users/{}", w.owner.id);
    let second_path = format!("/v1/users/{}", second.id);
    let (a, b) = tokio::join!(
        w.api
            .call(Method::DELETE, &second_path, Some(&w.owner.token), None),
        w.api
            .call(Method::DELETE, &first_path, Some(&second.token), None),
    );
    let owners = w
        .api
        .stack
        .store
        .users(w.account_a_id())
        .await
        .unwrap()
        .into_iter()
        .filter(|u| u.role == Role::Owner)
        .count();
    assert!(
        owners >= 1,
        "both removals were accepted ({} and {}): account A has no owner left",
        a.0,
        b.0
    );
}
