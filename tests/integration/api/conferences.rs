//! One happy path (at least) per endpoint of the router, asserting the status and
//! the fields that matter.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Cursor;
use std::str::FromStr;
use std::sync::Arc;

use axum::http::{Method, StatusCode, header};
use chrono::{DateTime, Duration, DurationRound, Offset, Utc};
use chrono_tz::America::Toronto;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use teleconf_adapters::blobs::BlobStore;
use teleconf_adapters::store::{
    CdrStore, ConferenceStore, IntroCodeStore, InvitationStore, InvoiceStore, UserStore,
};
use teleconf_domain::BlobKey;
use teleconf_domain::testkit::{unique_e164, unique_email};
use teleconf_domain::{
    AccessCodes, CallerRole, CodeChoices, Conference, ConferenceId, ConferenceNumber, Email,
    IntroCode, Invoice, InvoiceLine, Language, LegId, Role, Schedule, TaxLine, UserId, YearMonth,
};
use teleconf_tests::api::{
    PASSWORD, TestApi, World, conference_body, create_member, csv_rows, encode_plus, ids,
    multipart_wav, rfc3339, seed_provider_admin, source_segment, tone_wav,
};

use super::{ROUTES, error_of};

fn now_secs() -> DateTime<Utc> {
    Utc::now().duration_trunc(Duration::seconds(1)).unwrap()
}

/// A decimal shown as a JSON string (or number).
fn dec(v: &Value) -> Decimal {
    match v {
        Value::String(s) => Decimal::from_str(s).unwrap(),
        other => Decimal::from_str(&other.to_string()).unwrap(),
    }
}

/// An RFC 3339 time of an answer: the instant, and whether its offset is Toronto's
/// at that instant.
fn toronto_time(v: &Value) -> (DateTime<Utc>, bool) {
    let text = v.as_str().unwrap_or_else(|| panic!("not a time: {v}"));
    let t = DateTime::parse_from_rfc3339(text).unwrap();
    let utc = t.to_utc();
    let expected = utc.with_timezone(&Toronto).offset().fix();
    (utc, *t.offset() == expected)
}

fn is_digits(v: &Value, lens: std::ops::RangeInclusive<usize>) -> bool {
    v.as_str()
        .is_some_and(|s| lens.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()))
}

fn wav_spec_and_frames(bytes: &[u8]) -> (hound::WavSpec, u32) {
    let reader = hound::WavReader::new(Cursor::new(bytes)).expect("a WAV");
    (reader.spec(), reader.duration())
}

// ---------------------------------------------------------------- auth, me, health

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
async fn healthz_answers_ok_without_a_token() {
    let api = TestApi::new().await;
    let res = api.raw(Method::GET, "/healthz", None, &[], vec![]).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.text(), "ok");
}

#[tokio::test]
async fn the_openapi_document_lists_every_route_with_its_method() {
    let api = TestApi::new().await;
    let (status, doc, _) = api.call(Method::GET, "/v1/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let missing: Vec<String> = ROUTES
        .iter()
        .filter(|(_, path)| *path != "/v1/openapi.json")
        .filter(|(method, path)| doc["paths"][*path][method.to_lowercase()].is_null())
        .map(|(method, path)| format!("{method} {path}"))
        .collect();
    assert!(
        missing.is_empty(),
        "not in the OpenAPI document: {missing:?}"
    );
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn an_unknown_route_is_a_json_404() {
    let api = TestApi::new().await;
    let (status, body, _) = api.call(Method::GET, "/v1/nothing", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_of(&body)["code"], "not_found");
}

// ---------------------------------------------------------------- accounts

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

// ---------------------------------------------------------------- users

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

// ---------------------------------------------------------------- numbers

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

// ---------------------------------------------------------------- prompts

#[tokio::test]
async fn a_stereo_44_1_khz_prompt_is_stored_as_8_khz_mono_of_the_same_length() {
    let w = World::new().await;
    let res = w
        .api
        .upload_prompt(&w.op1.token, tone_wav(44_100, 2, 1_500))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let body = res.json();
    let duration = body["duration_ms"].as_u64().unwrap();
    assert!((1_490..=1_510).contains(&duration), "{body}");
    let id = body["id"].as_str().unwrap();

    let got = w
        .api
        .raw(
            Method::GET,
            &format!("/v1/prompts/{id}"),
            Some(&w.op2.token),
            &[],
            vec![],
        )
        .await;
    assert_eq!(got.status, StatusCode::OK);
    assert!(got.content_type().starts_with("audio/wav"));
    let (spec, frames) = wav_spec_and_frames(&got.body);
    assert_eq!(
        (spec.sample_rate, spec.channels, spec.bits_per_sample),
        (8_000, 1, 16)
    );
    assert!((11_920..=12_080).contains(&frames), "{frames} frames");
}

#[tokio::test]
async fn a_prompt_uploaded_as_multipart_form_data_is_stored() {
    let w = World::new().await;
    let (content_type, body) = multipart_wav(
        &[("description", "Accueil")],
        "accueil.wav",
        tone_wav(16_000, 1, 800),
    );
    let res = w
        .api
        .raw(
            Method::POST,
            "/v1/prompts",
            Some(&w.admin.token),
            &[("content-type", &content_type)],
            body,
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let created = res.json();
    assert_eq!(created["duration_ms"], 800);
    let path = format!("/v1/prompts/{}", created["id"].as_str().unwrap());

    let got = w
        .api
        .raw(Method::GET, &path, Some(&w.owner.token), &[], vec![])
        .await;
    assert_eq!(got.status, StatusCode::OK);
    let (spec, frames) = wav_spec_and_frames(&got.body);
    assert_eq!((spec.sample_rate, spec.channels), (8_000, 1));
    assert_eq!(frames, 6_400);
    assert!(
        w.api
            .stored_prompts(&w.a)
            .await
            .iter()
            .any(|k| k.contains(created["id"].as_str().unwrap()))
    );

    // Another account's prompt does not exist for B.
    let (status, _, _) = w
        .api
        .call(Method::GET, &path, Some(&w.foreign.token), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

// ---------------------------------------------------------------- conferences

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
async fn the_confirmation_shows_the_number_the_conference_number_and_every_code() {
    let w = World::new().await;
    let conf = &w.conf_op1;
    let national = conf["access_numbers"][0]["national"].as_str().unwrap();
    for (query, label) in [
        ("", "Numéro Téléconférence"),
        ("?lang=en", "Conference number"),
    ] {
        let res = w
            .api
            .raw(
                Method::GET,
                &format!("/v1/conferences/{}/confirmation{query}", w.conf_op1_id()),
                Some(&w.op1.token),
                &[],
                vec![],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        assert!(res.content_type().starts_with("text/plain"));
        let text = res.text();
        assert!(text.contains(label), "{query}: {text}");
        assert!(text.contains(national), "{query}: {text}");
        assert!(
            text.contains(conf["conference_number"].as_str().unwrap()),
            "{query}: {text}"
        );
        for role in ["participant", "listener", "moderator"] {
            assert!(
                text.contains(conf["codes"][role].as_str().unwrap()),
                "{query}: no {role} code in {text}"
            );
        }
    }
}

#[tokio::test]
async fn invitations_are_queued_for_the_mailer_each_with_only_its_role() {
    let w = World::new().await;
    let invitees: Vec<(Email, &str, Option<&str>)> = vec![
        (unique_email(), "participant", None),
        (unique_email(), "listener", Some("en")),
        (unique_email(), "moderator", None),
    ];
    let body = json!({
        "invitees": invitees.iter().map(|(email, role, lang)| {
            let mut i = json!({ "email": email.to_string(), "role": role });
            if let Some(lang) = lang { i["language"] = json!(lang); }
            i
        }).collect::<Vec<_>>()
    });
    let queued = w
        .api
        .expect(
            StatusCode::ACCEPTED,
            Method::POST,
            &format!("/v1/conferences/{}/invitations", w.conf_op1_id()),
            &w.op1.token,
            Some(body),
        )
        .await;
    assert_eq!(queued["queued"], 3);
    assert_eq!(queued["invitation_ids"].as_array().unwrap().len(), 3);

    let conference: ConferenceId = w.conf_op1_id().parse().unwrap();
    let stored = w.api.stack.store.invitations(conference).await.unwrap();
    assert_eq!(stored.len(), 3);
    for (email, role, lang) in &invitees {
        let i = stored
            .iter()
            .find(|i| &i.email == email)
            .unwrap_or_else(|| panic!("{email} not queued"));
        let role: CallerRole = serde_json::from_value(json!(role)).unwrap();
        assert_eq!(i.role, role, "{email}");
        assert_eq!(
            serde_json::to_value(i.language).unwrap(),
            json!(lang.unwrap_or("fr"))
        );
        assert_eq!(i.invited_by.to_string(), w.op1.id);
        assert_eq!(i.conference_id, conference);
    }
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

// ---------------------------------------------------------------- CDRs

/// The legs of every page, following `next_cursor`.
async fn all_pages(w: &World, token: &str, query: &str) -> (Vec<Value>, usize) {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut path = format!("/v1/cdrs?{query}&limit=1");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = w.api.get_ok(&path, token).await;
        pages += 1;
        let got = page["items"].as_array().unwrap();
        assert!(got.len() <= 1, "{page}");
        items.extend(got.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
        assert!(pages < 20, "paging does not end");
    }
    (items, pages)
}

fn leg_ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|l| l["leg_id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn cdrs_are_paged_filtered_by_conference_and_exported_as_csv() {
    let w = World::new().await;
    let base = now_secs() - Duration::hours(2);
    let l1 = w
        .put_leg(&w.conf_op1, base, 60, CallerRole::Participant)
        .await;
    let l2 = w
        .put_leg(
            &w.conf_op1,
            base + Duration::minutes(1),
            125,
            CallerRole::Listener,
        )
        .await;
    let l3 = w
        .put_leg(
            &w.conf_op2,
            base + Duration::minutes(2),
            30,
            CallerRole::Moderator,
        )
        .await;
    let range = format!(
        "from={}&to={}",
        rfc3339(base - Duration::hours(1)),
        rfc3339(Utc::now() + Duration::minutes(1))
    );

    let (items, pages) = all_pages(&w, &w.owner.token, &range).await;
    assert_eq!(
        leg_ids(&items),
        [&l1, &l2, &l3].map(|l| l.id.to_string()).to_vec()
    );
    assert_eq!(pages, 3);
    let first = &items[0];
    assert_eq!(first["conference_id"], w.conf_op1_id());
    assert_eq!(first["conference_number"], w.conf_op1["conference_number"]);
    assert_eq!(first["dialled"], w.number.as_str());
    assert_eq!(first["role"], "participant");
    assert_eq!(first["duration_s"], 60);
    assert_eq!(items[1]["duration_s"], 125);
    assert_eq!(first["cause"], "caller_hangup");
    assert_eq!(toronto_time(&first["joined_at"]), (base, true));

    // One conference only.
    let (items, _) = all_pages(
        &w,
        &w.owner.token,
        &format!("{range}&conference_id={}", w.conf_op1_id()),
    )
    .await;
    assert_eq!(
        leg_ids(&items),
        [&l1, &l2].map(|l| l.id.to_string()).to_vec()
    );

    // CSV: a header row, then every leg.
    let res = w
        .api
        .get_csv(&format!("/v1/cdrs?{range}"), &w.owner.token)
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert!(
        res.content_type().starts_with("text/csv"),
        "{:?}",
        res.headers
    );
    let text = res.text();
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 4, "{text}");
    let header = &rows[0];
    for column in [
        "leg_id",
        "conference_id",
        "conference_number",
        "dialled",
        "role",
        "joined_at",
        "duration_s",
    ] {
        assert!(header.contains(&column), "no {column} in {header:?}");
    }
    let leg_col = header.iter().position(|c| *c == "leg_id").unwrap();
    let role_col = header.iter().position(|c| *c == "role").unwrap();
    for (row, leg) in rows[1..].iter().zip([&l1, &l2, &l3]) {
        assert_eq!(row.len(), header.len(), "{text}");
        assert_eq!(row[leg_col], leg.id.to_string());
        assert_eq!(
            row[role_col],
            serde_json::to_value(leg.role).unwrap().as_str().unwrap()
        );
    }
}

#[tokio::test]
async fn the_cdr_csv_opens_in_a_spreadsheet_with_numbers_as_text_and_no_formula() {
    let w = World::new().await;
    let joined = now_secs() - Duration::hours(1);
    let dialled = w
        .put_leg(&w.conf_op1, joined, 61, CallerRole::Participant)
        .await;
    // A caller ID is what the caller's side sent: anything at all.
    let mut formula = dialled.clone();
    formula.id = LegId::new();
    formula.joined_at = joined + Duration::minutes(1);
    formula.caller_id = "=HYPERLINK(\"http://evil.example\",\"facture\")".into();
    w.api.stack.store.put_leg(&formula).await.unwrap();

    let res = w
        .api
        .get_csv(
            &format!("/v1/cdrs?from={}", rfc3339(joined - Duration::minutes(1))),
            &w.owner.token,
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let rows = csv_rows(&res.body);
    assert_eq!(rows.len(), 2);
    // E.164 numbers are text (a leading ' keeps the +), the formula is shown, not run,
    // and the numbers stay numbers.
    assert_eq!(rows[0]["dialled"], format!("'{}", w.number));
    assert_eq!(rows[0]["caller_id"], "'+15145550100");
    assert_eq!(
        rows[1]["caller_id"],
        "'=HYPERLINK(\"http://evil.example\",\"facture\")"
    );
    assert_eq!(rows[0]["duration_s"], "61");
    assert_eq!(
        rows[0]["conference_number"],
        w.conf_op1["conference_number"]
    );
    // The JSON is the data as it is.
    let json = w
        .api
        .get_ok(
            &format!("/v1/cdrs?from={}", rfc3339(joined - Duration::minutes(1))),
            &w.owner.token,
        )
        .await;
    assert_eq!(json["items"][0]["dialled"], w.number.as_str());
}

#[tokio::test]
async fn an_operator_sees_only_the_cdrs_of_the_conferences_they_created() {
    let w = World::new().await;
    let base = now_secs() - Duration::hours(2);
    let mine = w
        .put_leg(&w.conf_op1, base, 60, CallerRole::Participant)
        .await;
    let theirs = w
        .put_leg(
            &w.conf_op2,
            base + Duration::minutes(1),
            60,
            CallerRole::Participant,
        )
        .await;
    let range = format!(
        "from={}&to={}",
        rfc3339(base - Duration::hours(1)),
        rfc3339(Utc::now() + Duration::minutes(1))
    );
    let page = w
        .api
        .get_ok(&format!("/v1/cdrs?{range}"), &w.op1.token)
        .await;
    assert_eq!(
        leg_ids(page["items"].as_array().unwrap()),
        vec![mine.id.to_string()]
    );
    let page = w
        .api
        .get_ok(&format!("/v1/cdrs?{range}"), &w.op2.token)
        .await;
    assert_eq!(
        leg_ids(page["items"].as_array().unwrap()),
        vec![theirs.id.to_string()]
    );
    let page = w
        .api
        .get_ok(&format!("/v1/cdrs?{range}"), &w.admin.token)
        .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_cdr_range_longer_than_the_limit_is_refused_not_cut_short() {
    let w = World::new().await;
    let joined = now_secs() - Duration::hours(1);
    let leg = w
        .put_leg(&w.conf_op1, joined, 60, CallerRole::Participant)
        .await;
    // From the first day of the month 13 months before the leg's: 14 calendar months.
    let mut month = YearMonth::new(leg.month.year() - 1, leg.month.month()).unwrap();
    month = YearMonth::new(
        if month.month() == 1 {
            month.year() - 1
        } else {
            month.year()
        },
        if month.month() == 1 {
            12
        } else {
            month.month() - 1
        },
    )
    .unwrap();
    let from = month.start_in(Toronto);
    let path = format!(
        "/v1/cdrs?from={}&to={}",
        rfc3339(from),
        rfc3339(joined + Duration::minutes(5))
    );
    let (status, body, _) = w
        .api
        .call(Method::GET, &path, Some(&w.owner.token), None)
        .await;
    match status {
        StatusCode::BAD_REQUEST => assert_eq!(error_of(&body)["field"], "from"),
        StatusCode::OK => assert_eq!(
            leg_ids(body["items"].as_array().unwrap()),
            vec![leg.id.to_string()],
            "a 14-month range answered 200 without the legs of its last month"
        ),
        other => panic!("{other}: {body}"),
    }
}

// ---------------------------------------------------------------- recordings

#[tokio::test]
async fn a_recording_is_listed_and_its_download_link_returns_the_wav() {
    let w = World::new().await;
    let (mine, wav) = w.put_recording(w.conf_op1_id()).await;
    let (theirs, _) = w.put_recording(w.conf_op2_id()).await;

    let all: BTreeSet<String> = ids(&w.api.get_ok("/v1/recordings", &w.owner.token).await)
        .into_iter()
        .collect();
    assert_eq!(all, [mine.id.to_string(), theirs.id.to_string()].into());
    let filtered = w
        .api
        .get_ok(
            &format!("/v1/recordings?conference_id={}", w.conf_op1_id()),
            &w.admin.token,
        )
        .await;
    assert_eq!(ids(&filtered), vec![mine.id.to_string()]);
    let op1 = w.api.get_ok("/v1/recordings", &w.op1.token).await;
    assert_eq!(ids(&op1), vec![mine.id.to_string()]);
    assert!(op1[0]["download_url"].is_null());

    let one = w
        .api
        .get_ok(&format!("/v1/recordings/{}", mine.id), &w.op1.token)
        .await;
    assert_eq!(one["conference_id"], w.conf_op1_id());
    assert_eq!(one["size_bytes"], wav.len() as u64);
    assert_eq!(one["duration_ms"], 300);
    assert!(toronto_time(&one["started_at"]).1);
    let url = one["download_url"].as_str().expect("a download link");
    let res = reqwest::get(url).await.expect("the link answers");
    assert_eq!(res.status(), reqwest::StatusCode::OK);
    assert_eq!(res.bytes().await.unwrap().to_vec(), wav);
}

// ---------------------------------------------------------------- invoices

fn invoice(w: &World, month: &str, total_cents: i64) -> Invoice {
    let month: YearMonth = month.parse().unwrap();
    Invoice {
        number: format!("F-{month}-{}", &w.a[..8]),
        account_id: w.account_a_id(),
        account_name: "Omnivigil A".into(),
        language: Default::default(),
        time_zone: chrono_tz::America::Toronto,
        month,
        currency: "USD".into(),
        lines: vec![
            InvoiceLine {
                conference_id: Some(w.conf_op1_id().parse().unwrap()),
                conference_number: Some(
                    w.conf_op1["conference_number"]
                        .as_str()
                        .unwrap()
                        .parse()
                        .unwrap(),
                ),
                description: "Réunion d'Oscar".into(),
                legs: 3,
                billable_seconds: 600,
                amount: Decimal::new(90, 2),
                adjusted_month: None,
                rate_per_minute: Some(Decimal::new(9, 2)),
            },
            InvoiceLine {
                conference_id: None,
                conference_number: None,
                description: "Crédit".into(),
                legs: 0,
                billable_seconds: 0,
                amount: Decimal::new(-10, 2),
                adjusted_month: None,
                rate_per_minute: None,
            },
        ],
        usage_amount: Decimal::new(80, 2),
        plan_fee: Decimal::ZERO,
        taxes: vec![TaxLine {
            name: "TPS".into(),
            rate: Decimal::new(5, 2),
            amount: Decimal::new(4, 2),
        }],
        total: Decimal::new(total_cents, 2),
        issued_at: Utc::now(),
        due_on: chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
    }
}

#[tokio::test]
async fn invoices_are_listed_and_read_by_month_as_json_or_csv() {
    let w = World::new().await;
    let store = &w.api.stack.store;
    store
        .create_invoice(&invoice(&w, "2026-09", 50))
        .await
        .unwrap();
    store
        .create_invoice(&invoice(&w, "2026-10", 84))
        .await
        .unwrap();

    // The current month's running estimate first, then the issued ones.
    let current = YearMonth::of(Utc::now(), chrono_tz::America::Toronto).to_string();
    let list = w.api.get_ok("/v1/invoices", &w.owner.token).await;
    let months: Vec<(&str, &str)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["month"].as_str().unwrap(), i["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        months,
        [
            (current.as_str(), "estimate"),
            ("2026-10", "issued"),
            ("2026-09", "issued")
        ]
    );
    assert!(list[0]["due_on"].is_null() && list[0]["pdf_url"].is_null());
    assert!(list[1]["pdf_url"].is_string());
    let estimate = w
        .api
        .get_ok(&format!("/v1/invoices/{current}"), &w.owner.token)
        .await;
    assert_eq!(estimate["status"], "estimate");
    assert_eq!(dec(&estimate["total"]), Decimal::ZERO);

    let one = w.api.get_ok("/v1/invoices/2026-10", &w.owner.token).await;
    assert_eq!(one["month"], "2026-10");
    assert_eq!(one["currency"], "USD");
    assert_eq!(dec(&one["total"]), Decimal::new(84, 2));
    assert_eq!(one["lines"].as_array().unwrap().len(), 2);
    assert_eq!(
        one["lines"][0]["conference_number"],
        w.conf_op1["conference_number"]
    );
    assert_eq!(dec(&one["lines"][0]["billable_minutes"]), Decimal::from(10));
    assert_eq!(one["taxes"][0]["name"], "TPS");

    let res = w.api.get_csv("/v1/invoices/2026-10", &w.owner.token).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.content_type().starts_with("text/csv"));
    let text = res.text();
    let lines: Vec<&str> = text.lines().collect();
    // Two lines, then the plan fee, subtotal, one tax and the total.
    assert_eq!(lines.len(), 7, "{text}");
    for column in ["conference_number", "description", "legs", "amount"] {
        assert!(lines[0].split(',').any(|c| c == column), "{text}");
    }
    assert!(lines[1].contains(w.conf_op1["conference_number"].as_str().unwrap()));

    for missing in [
        "/v1/invoices/2026-08",
        "/v1/invoices/2099-01",
        "/v1/invoices/not-a-month",
    ] {
        let (status, body, _) = w
            .api
            .call(Method::GET, missing, Some(&w.owner.token), None)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}: {body}");
        assert_eq!(error_of(&body)["code"], "not_found");
    }
}

#[tokio::test]
async fn every_conference_line_of_an_invoice_csv_gives_its_rate() {
    let w = World::new().await;
    w.put_leg(
        &w.conf_owner,
        now_secs() - Duration::minutes(30),
        125,
        CallerRole::Participant,
    )
    .await;
    let current = YearMonth::of(Utc::now(), chrono_tz::America::Toronto).to_string();
    let res = w
        .api
        .get_csv(&format!("/v1/invoices/{current}"), &w.owner.token)
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let rows = csv_rows(&res.body);
    let line = rows
        .iter()
        .find(|r| r["kind"] == "conference")
        .unwrap_or_else(|| panic!("no conference line: {}", res.text()));
    // 125 s → 3 whole minutes at the plan's 0.09.
    assert_eq!(line["billable_minutes"], "3.00");
    assert_eq!(line["rate"], "0.09");
    assert_eq!(line["amount"], "0.27");
    // The JSON line says it too.
    let json = w
        .api
        .get_ok(&format!("/v1/invoices/{current}"), &w.owner.token)
        .await;
    assert_eq!(
        dec(&json["lines"][0]["rate_per_minute"]),
        Decimal::new(9, 2)
    );
}

// ---------------------------------------------------------------- activity

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

// ---------------------------------------------------------------- life-cycle rules

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
