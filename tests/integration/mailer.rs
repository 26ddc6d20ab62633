//! The mailer against the emulator: conferences scheduled, changed and cancelled
//! through the API, invitations queued through it, the table's real stream read and
//! handed to the mailer's handler, and the mail read back from the emulator's SES
//! outbox (raw MIME, parsed), `.ics` included.

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use chrono::{DateTime, TimeZone, Utc};
use icalendar::{
    Calendar, CalendarComponent, CalendarDateTime, Component, DatePerhapsTime, EventLike,
};
use serde_json::{Value, json};
use teleconf_adapters::mail::MemoryMailer;
use teleconf_domain::testkit::unique_email;
use teleconf_tests::api::World;
use teleconf_tests::lambdas::{MailLoop, mailer_deps};
use teleconf_tests::outbox::{self, SentMail};

/// A conference of `w`'s owner at fixed local times (RFC 3339 with Toronto's offset)
/// with the seed's codes; the conference JSON.
async fn schedule(w: &World, description: &str, start: &str, end: &str) -> Value {
    w.api
        .expect(
            StatusCode::CREATED,
            Method::POST,
            "/v1/conferences",
            &w.owner.token,
            Some(json!({
                "description": description,
                "start": start,
                "end": end,
                "record": false,
                "codes": {"participant": "69501", "listener": "83269", "moderator": "44444"},
            })),
        )
        .await
}

/// A conference of `w`'s owner on the morning daylight saving time ends in Toronto,
/// 09:30–11:00 EST (14:30–16:00 UTC).
async fn on_dst_day(w: &World, description: &str) -> Value {
    schedule(
        w,
        description,
        "2027-11-07T09:30:00-05:00",
        "2027-11-07T11:00:00-05:00",
    )
    .await
}

/// The mail to `to` whose subject mentions `description`.
async fn mail_about(to: &str, description: &str) -> Vec<SentMail> {
    outbox::sent_to(to)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.subject.contains(description))
        .collect()
}

fn event(ics: &str) -> icalendar::Event {
    let calendar: Calendar = ics.parse().expect("the .ics parses");
    calendar
        .components
        .into_iter()
        .find_map(|c| match c {
            CalendarComponent::Event(e) => Some(e),
            _ => None,
        })
        .expect("a VEVENT")
}

fn utc(t: DateTime<Utc>) -> Option<DatePerhapsTime> {
    Some(DatePerhapsTime::DateTime(CalendarDateTime::Utc(t)))
}

fn national(e164: &str) -> String {
    let d = &e164[2..];
    format!("({}) {}-{}", &d[..3], &d[3..6], &d[6..])
}

#[tokio::test]
async fn a_scheduled_conference_gets_exactly_one_french_confirmation_in_local_time() {
    let w = World::new().await;
    let mut mail = MailLoop::over_ses(&w.api.stack).await;
    // The morning daylight saving time ends in Toronto (EST, UTC−5 from 02:00)…
    let winter = on_dst_day(&w, "Bilan de novembre").await;
    // …and a summer day (EDT, UTC−4).
    let summer = schedule(
        &w,
        "Bilan de juillet",
        "2027-07-15T09:30:00-04:00",
        "2027-07-15T11:00:00-04:00",
    )
    .await;
    assert!(mail.pump().await > 0);
    mail.pump().await;

    for (conf, description, day, start_utc, end_utc) in [
        (
            &winter,
            "Bilan de novembre",
            "2027-11-07",
            Utc.with_ymd_and_hms(2027, 11, 7, 14, 30, 0).unwrap(),
            Utc.with_ymd_and_hms(2027, 11, 7, 16, 0, 0).unwrap(),
        ),
        (
            &summer,
            "Bilan de juillet",
            "2027-07-15",
            Utc.with_ymd_and_hms(2027, 7, 15, 13, 30, 0).unwrap(),
            Utc.with_ymd_and_hms(2027, 7, 15, 15, 0, 0).unwrap(),
        ),
    ] {
        let sent = mail_about(&w.owner.email, description).await;
        assert_eq!(sent.len(), 1, "exactly one confirmation: {sent:#?}");
        let m = &sent[0];
        assert_eq!(m.source, "conferences@teleconf.example");
        assert_eq!(
            m.subject,
            format!("Téléconférence « {description} » – {day} 09:30")
        );
        let number = conf["conference_number"].as_str().unwrap();
        for line in [
            "Bonjour,".to_string(),
            format!("Voici les détails de la téléconférence « {description} »."),
            format!("Numéro d'accès: {}", national(&w.number)),
            format!("Numéro Téléconférence: {number}"),
            format!("Début: {day} 09:30:00"),
            format!("Fin: {day} 11:00:00"),
            "Code d'accès Participant: 69501 (Les participants entendent et sont entendus par tous)".into(),
            "Code d'accès Auditeur: 83269 (Les auditeurs ne peuvent qu'écouter mais ne sont pas entendus)".into(),
            "Code d'accès Modérateur: 44444".into(),
            "Enregistrement: Non activé".into(),
            "peuvent faire *44".into(),
            "Omnivigil Solutions".into(),
        ] {
            assert!(m.body.contains(&line), "{line:?} missing from\n{}", m.body);
        }
        assert!(m.html.contains(number), "the HTML part carries the details");
        let ics = m.calendar().expect("an .ics attachment");
        assert!(ics.contains("METHOD:REQUEST"), "{ics}");
        let e = event(ics);
        assert_eq!(e.get_start(), utc(start_utc));
        assert_eq!(e.get_end(), utc(end_utc));
        assert_eq!(
            e.get_location(),
            Some(format!("tel:{},,{number}#,,44444#", w.number).as_str()),
            "the creator dials in as moderator in one tap"
        );
    }
}

/// Invites `who` (email, role) to `conference`; the answer.
async fn invite(w: &World, conference: &str, who: &[(&str, &str)]) -> Value {
    let invitees: Vec<Value> = who
        .iter()
        .map(|(email, role)| json!({"email": email, "role": role}))
        .collect();
    w.api
        .expect(
            StatusCode::ACCEPTED,
            Method::POST,
            &format!("/v1/conferences/{conference}/invitations"),
            &w.owner.token,
            Some(json!({ "invitees": invitees })),
        )
        .await
}

#[tokio::test]
async fn each_invitee_receives_only_the_code_of_their_role() {
    let w = World::new().await;
    let mut mail = MailLoop::over_ses(&w.api.stack).await;
    let conf = on_dst_day(&w, "Assemblée annuelle").await;
    let id = conf["id"].as_str().unwrap();
    let participant = unique_email().to_string();
    let listener = unique_email().to_string();
    invite(
        &w,
        id,
        &[(&participant, "participant"), (&listener, "listener")],
    )
    .await;
    mail.pump().await;

    for (to, own, meaning, others) in [
        (
            &participant,
            "69501",
            "Les participants entendent et sont entendus par tous",
            ["83269", "44444"],
        ),
        (
            &listener,
            "83269",
            "Les auditeurs ne peuvent qu'écouter mais ne sont pas entendus",
            ["69501", "44444"],
        ),
    ] {
        let sent = mail_about(to, "Assemblée annuelle").await;
        assert_eq!(sent.len(), 1, "{sent:#?}");
        let m = &sent[0];
        assert!(
            m.subject
                .starts_with("Invitation – Téléconférence « Assemblée annuelle »")
        );
        assert!(m.body.contains(&format!("{own} ({meaning})")), "{}", m.body);
        let ics = m.calendar().unwrap();
        for other in others {
            assert!(!m.body.contains(other), "{other} leaked to {to}");
            assert!(!m.html.contains(other), "{other} leaked to {to}");
            assert!(!ics.contains(other), "{other} leaked to {to}'s .ics");
        }
        assert!(!m.body.contains("Commandes du clavier"), "no keypad help");
        assert!(
            event(ics)
                .get_location()
                .unwrap()
                .ends_with(&format!(",,{own}#"))
        );
    }
}

#[tokio::test]
async fn a_change_and_a_cancellation_reach_the_creator_and_the_invitees() {
    let w = World::new().await;
    let mut mail = MailLoop::over_ses(&w.api.stack).await;
    let conf = on_dst_day(&w, "Comité de direction").await;
    let id = conf["id"].as_str().unwrap().to_string();
    let guest = unique_email().to_string();
    invite(&w, &id, &[(&guest, "listener")]).await;
    w.api
        .expect(
            StatusCode::OK,
            Method::PATCH,
            &format!("/v1/conferences/{id}"),
            &w.owner.token,
            Some(json!({"start": "2027-11-07T10:00:00-05:00"})),
        )
        .await;
    mail.pump().await;

    for to in [&w.owner.email, &guest] {
        let updates: Vec<SentMail> = mail_about(to, "Comité de direction")
            .await
            .into_iter()
            .filter(|m| m.subject.starts_with("Modification"))
            .collect();
        assert_eq!(updates.len(), 1, "{to}: {updates:#?}");
        assert!(updates[0].body.contains("a été modifiée"));
        assert!(updates[0].body.contains("Début: 2027-11-07 10:00:00"));
        let e = event(updates[0].calendar().unwrap());
        assert_eq!(
            e.get_start(),
            utc(Utc.with_ymd_and_hms(2027, 11, 7, 15, 0, 0).unwrap())
        );
    }
    let guest_update = &mail_about(&guest, "Modification").await[0];
    assert!(guest_update.body.contains("83269") && !guest_update.body.contains("69501"));

    w.api
        .expect(
            StatusCode::NO_CONTENT,
            Method::DELETE,
            &format!("/v1/conferences/{id}"),
            &w.owner.token,
            None,
        )
        .await;
    mail.pump().await;
    for to in [&w.owner.email, &guest] {
        let cancels: Vec<SentMail> = mail_about(to, "Comité de direction")
            .await
            .into_iter()
            .filter(|m| m.subject.starts_with("Annulation"))
            .collect();
        assert_eq!(cancels.len(), 1, "{to}: {cancels:#?}");
        assert!(cancels[0].body.contains("est annulée"));
        assert!(
            !cancels[0].body.contains("83269"),
            "no code in a cancellation"
        );
        let ics = cancels[0].calendar().unwrap();
        assert!(ics.contains("METHOD:CANCEL"), "{ics}");
        assert!(ics.contains(&format!("UID:{id}@teleconf")));
    }
}

#[tokio::test]
async fn a_stream_record_delivered_twice_sends_one_mail() {
    let w = World::new().await;
    let mut mail = MailLoop::over_ses(&w.api.stack).await;
    on_dst_day(&w, "Réunion en double").await;
    mail.pump().await;
    assert_eq!(
        mail_about(&w.owner.email, "Réunion en double").await.len(),
        1
    );

    // Lambda delivers the very same batch again (a retry after a timeout).
    let events = mail.events.lock().unwrap().clone();
    assert!(!events.is_empty());
    for event in &events {
        let response = teleconf_mailer::handle(event, &mail.deps).await;
        assert!(response.batch_item_failures.is_empty());
    }
    // And the reader reads the stream again from its oldest record.
    let mut again = MailLoop::new(&w.api.stack, mail.deps.clone()).await;
    again.pump().await;
    assert_eq!(
        mail_about(&w.owner.email, "Réunion en double").await.len(),
        1,
        "still exactly one confirmation"
    );
}

#[tokio::test]
async fn a_failing_ses_is_retried_then_dead_lettered_and_shown_in_the_activity_feed() {
    let w = World::new().await;
    let failing = Arc::new(MemoryMailer::default());
    failing.set_failing(true);
    let deps = mailer_deps(&w.api.stack, failing.clone());
    assert_eq!(deps.max_attempts, 3);
    let mut mail = MailLoop::new(&w.api.stack, deps).await;
    // The World's three conferences call for three confirmations. The first fails and
    // its record is read again at each poll, as Lambda retries a reported batch item
    // failure; its third attempt dead-letters it and the stream moves on to the next.
    mail.pump().await;
    let first = mail.events.lock().unwrap().len();
    mail.pump().await;
    assert!(
        mail.events.lock().unwrap().len() > first,
        "the failed record is read again"
    );
    for _ in 0..12 {
        mail.pump().await;
    }
    assert!(failing.sent().is_empty());
    let feed = w.activity().await;
    let dead: Vec<&Value> = feed
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "delivery_failed")
        .collect();
    assert_eq!(dead.len(), 3, "each dead letter is in the feed: {feed:#}");
    assert!(
        dead.iter()
            .any(|a| a["summary"].as_str().unwrap().contains("confirmation to")),
        "{dead:#?}"
    );
    assert!(
        dead.iter().all(|a| a["summary"]
            .as_str()
            .unwrap()
            .contains("after 3 attempt(s)")),
        "{dead:#?}"
    );

    // Once SES is back, the settled dead letters are not resent; new mail goes out.
    failing.set_failing(false);
    on_dst_day(&w, "Après la panne").await;
    mail.pump().await;
    let sent = failing.sent();
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert!(sent[0].subject.contains("Après la panne"));
}
