//! A conference's confirmation and invitations (`/v1/conferences/{id}/confirmation`,
//! `/v1/conferences/{id}/invitations`).

use axum::http::{Method, StatusCode};
use serde_json::json;
use teleconf_adapters::store::InvitationStore;
use teleconf_domain::testkit::unique_email;
use teleconf_domain::{CallerRole, ConferenceId, Email};
use teleconf_tests::api::World;

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
