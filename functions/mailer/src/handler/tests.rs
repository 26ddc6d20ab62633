//! The handler in process, on the sample stream records of `events/` (captured from
//! the table's stream on the emulator), over the in-memory store and mailer.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use aws_lambda_events::dynamodb::Event;
use chrono::{DateTime, Duration, TimeZone, Utc};
use teleconf_adapters::mail::MemoryMailer;
use teleconf_adapters::store::memory::MemoryStore;
use teleconf_adapters::store::{
    AccountStore, ActivityStore, CdrStore, ConferenceStore, InvitationStore, NumberStore, UserStore,
};
use teleconf_domain::mail::{OutgoingMail, Sender};
use teleconf_domain::messages::Branding;
use teleconf_domain::testkit::access_number;
use teleconf_domain::{
    Account, ActivityKind, CallerRole, Conference, DisconnectCause, Invitation, Role, User,
};

use super::{Deps, handle};
use crate::change::Change;

const INSERT: &str = include_str!("../../../../events/mailer-conference-insert.json");
const INVITATIONS: &str = include_str!("../../../../events/mailer-invitations-insert.json");
const MODIFY: &str = include_str!("../../../../events/mailer-conference-modify.json");
const REMOVE: &str = include_str!("../../../../events/mailer-conference-remove.json");
const RECORDING: &str = include_str!("../../../../events/mailer-recording-insert.json");
const ATTENDANCE: &str = include_str!("../../../../events/mailer-attendance-queued.json");

const OWNER: &str = "owner@omnivigil.example";

fn event(json: &str) -> Event {
    serde_json::from_str(json).expect("a sample DynamoDB stream event")
}

/// The conference of a sample record (its new image, or its old one for a REMOVE).
fn conference_of(json: &str) -> Conference {
    event(json)
        .records
        .iter()
        .find_map(|r| match Change::of(r).unwrap() {
            Change::Scheduled(c) | Change::Cancelled(c) => Some(*c),
            Change::Changed { conference, .. } => Some(*conference),
            _ => None,
        })
        .expect("a conference record")
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
}

/// The samples' account (Toronto, French), its owner who scheduled the conferences,
/// its toll-free number, and the conference as stored; the handler's deps.
async fn world() -> (Arc<MemoryStore>, Arc<MemoryMailer>, Deps, Conference) {
    let store = Arc::new(MemoryStore::new());
    let conference = conference_of(INSERT);
    let mut account = Account::new("Omnivigil", now()).unwrap();
    account.id = conference.account_id;
    store.create_account(&account).await.unwrap();
    let mut owner = User::new(
        account.id,
        OWNER.parse().unwrap(),
        "Olivia Owner",
        Role::Owner,
        "correct horse battery staple",
        now(),
    )
    .unwrap();
    owner.id = conference.created_by;
    store.create_user(&owner).await.unwrap();
    let mut number = access_number(account.id);
    number.number = "+18883806331".parse().unwrap();
    store.create_number(&number).await.unwrap();
    store.create_conference(&conference).await.unwrap();
    let mailer = Arc::new(MemoryMailer::default());
    let branding = Branding::default();
    let deps = Deps {
        store: store.clone(),
        mailer: mailer.clone(),
        blobs: Arc::new(teleconf_adapters::blobs::MemoryBlobs::default()),
        sender: Sender {
            name: branding.provider_name.clone(),
            address: "conferences@teleconf.example".parse().unwrap(),
        },
        branding,
        portal_url: "https://portail.example".into(),
        max_attempts: 2,
        lease: Duration::minutes(2),
        clock: Arc::new(now),
    };
    (store, mailer, deps, conference)
}

fn to(mails: &[OutgoingMail], address: &str) -> Vec<OutgoingMail> {
    mails
        .iter()
        .filter(|m| m.to.as_str() == address)
        .cloned()
        .collect()
}

fn ics(mail: &OutgoingMail) -> String {
    let a = mail
        .attachments
        .iter()
        .find(|a| a.filename.ends_with(".ics"))
        .expect("an .ics");
    String::from_utf8(a.data.clone()).unwrap()
}

/// Queues the sample invitations (as the API does) and returns them.
async fn queue_sample_invitations(store: &MemoryStore) -> Vec<Invitation> {
    let invitations: Vec<Invitation> = event(INVITATIONS)
        .records
        .iter()
        .filter_map(|r| match Change::of(r).unwrap() {
            Change::Invited(i) => Some(i),
            _ => None,
        })
        .collect();
    store.queue_invitations(&invitations).await.unwrap();
    invitations
}

#[tokio::test]
async fn the_sample_insert_sends_one_french_confirmation_to_the_creator() {
    let (_, mailer, deps, c) = world().await;
    let response = handle(&event(INSERT), &deps).await;
    assert!(response.batch_item_failures.is_empty());
    let sent = mailer.sent();
    assert_eq!(sent.len(), 1, "the key record sends nothing: {sent:#?}");
    let m = &sent[0];
    assert_eq!(m.to.as_str(), OWNER);
    assert_eq!(
        m.subject,
        "Téléconférence « Réunion mensuelle » – 2027-11-07 09:30"
    );
    for line in [
        "Numéro d'accès: (888) 380-6331\n".to_string(),
        format!("Numéro Téléconférence: {}\n", c.number.as_str()),
        "Début: 2027-11-07 09:30:00\n".into(),
        "Fin: 2027-11-07 11:00:00\n".into(),
        "Code d'accès Modérateur: 44444".into(),
        "Enregistrement: Activé\n".into(),
    ] {
        assert!(m.text.contains(&line), "{line:?} in\n{}", m.text);
    }
    let ics = ics(m);
    assert!(ics.contains("DTSTART:20271107T143000Z"), "{ics}");
    assert!(ics.contains(&format!(
        "LOCATION:tel:+18883806331\\,\\,{}#\\,\\,44444#",
        c.number.as_str()
    )));

    // The same batch again (a Lambda retry): nothing more.
    assert!(
        handle(&event(INSERT), &deps)
            .await
            .batch_item_failures
            .is_empty()
    );
    assert_eq!(mailer.sent().len(), 1);
}

#[tokio::test]
async fn the_sample_invitations_carry_only_each_invitees_code_in_their_language() {
    let (_, mailer, deps, _) = world().await;
    handle(&event(INVITATIONS), &deps).await;
    let sent = mailer.sent();
    let participant = to(&sent, "participant@client.example");
    let listener = to(&sent, "listener@client.example");
    assert_eq!((participant.len(), listener.len()), (1, 1), "{sent:#?}");
    let p = &participant[0];
    assert!(p.subject.starts_with("Invitation – Téléconférence"));
    assert!(
        p.text
            .contains("69501 (Les participants entendent et sont entendus par tous)")
    );
    let l = &listener[0];
    assert!(
        l.subject
            .starts_with("Invitation – Conference “Réunion mensuelle”")
    );
    assert!(
        l.text
            .contains("83269 (listeners can only listen and are not heard)")
    );
    for (m, others) in [(p, ["83269", "44444"]), (l, ["69501", "44444"])] {
        for other in others {
            assert!(!m.text.contains(other) && !m.html.contains(other) && !ics(m).contains(other));
        }
    }
}

#[tokio::test]
async fn the_sample_change_updates_the_creator_and_every_invitee_once() {
    let (store, mailer, deps, _) = world().await;
    queue_sample_invitations(&store).await;
    handle(&event(MODIFY), &deps).await;
    handle(&event(MODIFY), &deps).await;
    let sent = mailer.sent();
    assert_eq!(sent.len(), 3, "{sent:#?}");
    let owner = &to(&sent, OWNER)[0];
    assert!(owner.subject.starts_with("Modification – Téléconférence"));
    assert!(
        owner.text.contains("Début: 2027-11-07 10:00:00"),
        "{}",
        owner.text
    );
    let listener = &to(&sent, "listener@client.example")[0];
    assert!(listener.subject.starts_with("Updated – Conference"));
    assert!(listener.text.contains("83269") && !listener.text.contains("69501"));
}

#[tokio::test]
async fn the_sample_delete_cancels_with_the_calendar_event() {
    let (_, mailer, deps, _) = world().await;
    let cancelled = conference_of(REMOVE);
    handle(&event(REMOVE), &deps).await;
    let sent = mailer.sent();
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert!(
        sent[0]
            .subject
            .starts_with("Annulation – Téléconférence « Réunion annulée »")
    );
    let ics = ics(&sent[0]);
    assert!(ics.contains("METHOD:CANCEL"), "{ics}");
    assert!(ics.contains(&format!("UID:{}@teleconf", cancelled.id)));
}

#[tokio::test]
async fn the_sample_recording_announces_a_portal_link_never_a_file() {
    let (_, mailer, deps, c) = world().await;
    handle(&event(RECORDING), &deps).await;
    let sent = mailer.sent();
    assert_eq!(sent.len(), 1);
    let m = &sent[0];
    assert!(m.subject.starts_with("Enregistrement disponible"));
    assert!(m.text.contains(&format!(
        "https://portail.example/recordings?conference={}",
        c.id
    )));
    for body in [&m.text, &m.html] {
        assert!(!body.contains("amazonaws") && !body.contains(".wav") && !body.contains("s3"));
    }
    assert!(m.attachments.is_empty());
}

/// The sample recording record as `event_name`, its new image in `new` state and
/// its old image (if any) in `old` state.
fn recording_record(event_name: &str, new: &str, old: Option<&str>) -> Event {
    let mut e: serde_json::Value = serde_json::from_str(RECORDING).unwrap();
    let record = &mut e["Records"][0];
    record["eventName"] = event_name.into();
    let image = record["dynamodb"]["NewImage"].clone();
    let with = |state: &str| {
        let mut image = image.clone();
        image["state"] = serde_json::json!({ "S": state });
        image
    };
    record["dynamodb"]["NewImage"] = with(new);
    if let Some(old) = old {
        record["dynamodb"]["OldImage"] = with(old);
    }
    serde_json::from_value(e).unwrap()
}

#[tokio::test]
async fn a_recording_in_segments_is_announced_once_when_it_is_ready() {
    let (_, mailer, deps, _) = world().await;
    // Its first segments, then done whole; a rewrite of a complete item after.
    for (name, new, old) in [
        ("INSERT", "recording", None),
        ("MODIFY", "recording", Some("recording")),
        ("MODIFY", "complete", Some("recording")),
        ("MODIFY", "complete", Some("complete")),
    ] {
        handle(&recording_record(name, new, old), &deps).await;
    }
    assert_eq!(mailer.sent().len(), 1);

    // A lost node's recording, cut by the reaper to the segments kept.
    let (_, mailer, deps, _) = world().await;
    handle(&recording_record("INSERT", "recording", None), &deps).await;
    assert!(mailer.sent().is_empty(), "nothing while it records");
    handle(&recording_record("MODIFY", "cut", Some("recording")), &deps).await;
    assert_eq!(mailer.sent().len(), 1);
}

#[tokio::test]
async fn the_sample_queued_report_lists_every_leg() {
    let (store, mailer, deps, c) = world().await;
    for (caller, role, join, secs) in [
        ("+15145550101", CallerRole::Moderator, 0, 5_400),
        ("+14185550102", CallerRole::Participant, 60, 600),
    ] {
        let joined = c.schedule.start() + Duration::seconds(join);
        let mut leg = teleconf_domain::testkit::leg(&c, caller, role, joined);
        leg.close(
            joined + Duration::seconds(secs),
            DisconnectCause::CallerHangup,
        );
        store.put_leg(&leg).await.unwrap();
    }
    handle(&event(ATTENDANCE), &deps).await;
    handle(&event(ATTENDANCE), &deps).await;
    let sent = mailer.sent();
    assert_eq!(sent.len(), 1);
    let text = &sent[0].text;
    assert!(sent[0].subject.starts_with("Rapport de présence"));
    assert!(
        text.contains(
            "+15145550101 | Modérateur | 2027-11-07 09:30:00 | 2027-11-07 11:00:00 | 01:30:00"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "+14185550102 | Participant | 2027-11-07 09:31:00 | 2027-11-07 09:41:00 | 00:10:00"
        ),
        "{text}"
    );
}

#[tokio::test]
async fn a_failing_mailer_is_retried_then_dead_lettered_in_the_activity_feed() {
    let (store, mailer, deps, c) = world().await;
    mailer.set_failing(true);
    let batch = event(INSERT);
    let first = handle(&batch, &deps).await;
    assert_eq!(first.batch_item_failures.len(), 1);
    assert_eq!(
        first.batch_item_failures[0].item_identifier, batch.records[1].change.sequence_number,
        "the conference's record is the one to retry"
    );
    // The retry is the last attempt (max 2): the mail is given up, and reported.
    let second = handle(&batch, &deps).await;
    assert!(second.batch_item_failures.is_empty());
    let feed = store.recent_activity(c.account_id, 10).await.unwrap();
    let dead: Vec<_> = feed
        .iter()
        .filter(|a| a.kind == ActivityKind::DeliveryFailed)
        .collect();
    assert_eq!(dead.len(), 1, "{feed:#?}");
    assert!(dead[0].summary.starts_with(&format!(
        "confirmation to {OWNER} not sent after 2 attempt(s)"
    )));
    assert_eq!(dead[0].conference_id, Some(c.id));
    // Settled: SES back, a replay sends nothing.
    mailer.set_failing(false);
    handle(&batch, &deps).await;
    assert!(mailer.sent().is_empty());
}

#[tokio::test]
async fn a_store_outage_fails_the_record_and_a_retry_sends_it() {
    let (store, mailer, deps, _) = world().await;
    store.set_unavailable(true);
    assert_eq!(
        handle(&event(INSERT), &deps)
            .await
            .batch_item_failures
            .len(),
        1
    );
    store.set_unavailable(false);
    assert!(
        handle(&event(INSERT), &deps)
            .await
            .batch_item_failures
            .is_empty()
    );
    assert_eq!(mailer.sent().len(), 1);
}
