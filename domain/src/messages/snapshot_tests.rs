//! Snapshots of every mail body, in French and English, on the seed's conference
//! (2019-06-06 09:30–11:00 in Toronto, toll-free (888) 380-6331, conference 3832257,
//! codes 69501 / 83269 / 44444). Reviewed by eye against the seed's confirmation; a
//! change to any text shows up here as a diff to review (`cargo insta review`, or
//! `INSTA_UPDATE=always` then `git diff`).

use chrono::{DateTime, Duration, Utc};
use chrono_tz::America::Toronto;

use super::Branding;
use super::attendance::AttendanceReport;
use super::confirmation::{Confirmation, Notice};
use super::fixtures::{seed_conference, seed_number, toronto};
use super::recording_ready::RecordingReady;
use crate::{CallLeg, CallerRole, Conference, DisconnectCause, Language, Recording, RecordingId};

/// The seed's day in Toronto, to the second.
fn at(h: u32, m: u32, s: i64) -> DateTime<Utc> {
    toronto(2019, 6, 6, h, m) + Duration::seconds(s)
}

fn notice(notice: Notice, language: Language, roles: &[CallerRole]) -> String {
    let c = seed_conference();
    let r = Confirmation {
        conference: &c,
        access_numbers: &[seed_number()],
        time_zone: Toronto,
        language,
        roles,
        branding: &Branding::default(),
    }
    .render_notice(notice);
    format!("Subject: {}\n\n{}", r.subject, r.text)
}

#[test]
fn confirmation_to_the_creator() {
    for (lang, name) in [(Language::Fr, "fr"), (Language::En, "en")] {
        insta::assert_snapshot!(
            format!("confirmation_{name}"),
            notice(Notice::Confirmation, lang, &CallerRole::ALL)
        );
    }
}

#[test]
fn invitations_carry_one_role_each() {
    for (lang, name) in [(Language::Fr, "fr"), (Language::En, "en")] {
        for (role, rname) in [
            (CallerRole::Participant, "participant"),
            (CallerRole::Listener, "listener"),
            (CallerRole::Moderator, "moderator"),
        ] {
            insta::assert_snapshot!(
                format!("invitation_{rname}_{name}"),
                notice(Notice::Invitation, lang, &[role])
            );
        }
    }
}

#[test]
fn update_and_cancellation() {
    for (lang, name) in [(Language::Fr, "fr"), (Language::En, "en")] {
        insta::assert_snapshot!(
            format!("update_{name}"),
            notice(Notice::Update, lang, &[CallerRole::Participant])
        );
        insta::assert_snapshot!(
            format!("cancellation_{name}"),
            notice(Notice::Cancellation, lang, &CallerRole::ALL)
        );
    }
}

fn leg(
    c: &Conference,
    caller: &str,
    role: CallerRole,
    join: DateTime<Utc>,
    leave: DateTime<Utc>,
) -> CallLeg {
    let mut leg = crate::testkit::leg(c, caller, role, join);
    leg.close(leave, DisconnectCause::CallerHangup);
    leg
}

#[test]
fn attendance_report() {
    let c = seed_conference();
    let legs = [
        leg(
            &c,
            "+15145550101",
            CallerRole::Moderator,
            at(9, 26, 4),
            at(11, 2, 30),
        ),
        leg(
            &c,
            "+14185550102",
            CallerRole::Participant,
            at(9, 31, 0),
            at(10, 15, 45),
        ),
        leg(
            &c,
            "anonymous",
            CallerRole::Listener,
            at(9, 40, 0),
            at(11, 0, 0),
        ),
    ];
    for (lang, name) in [(Language::Fr, "fr"), (Language::En, "en")] {
        let r = AttendanceReport {
            conference: &c,
            legs: &legs,
            time_zone: Toronto,
            language: lang,
            branding: &Branding::default(),
        }
        .render();
        insta::assert_snapshot!(
            format!("attendance_{name}"),
            format!("Subject: {}\n\n{}", r.subject, r.text)
        );
        let empty = AttendanceReport {
            conference: &c,
            legs: &[],
            time_zone: Toronto,
            language: lang,
            branding: &Branding::default(),
        }
        .render();
        insta::assert_snapshot!(format!("attendance_nobody_{name}"), empty.text);
    }
}

/// The recording-ready mail of a 96-minute recording of `c` in `state`, in `lang`.
fn recording_ready_mail(
    c: &crate::Conference,
    state: crate::RecordingState,
    lang: Language,
) -> super::confirmation::Rendered {
    let rec = Recording {
        id: RecordingId::new(),
        account_id: c.account_id,
        conference_id: c.id,
        started_at: at(9, 26, 4),
        duration_ms: (Duration::minutes(96) + Duration::seconds(26)).num_milliseconds() as u64,
        size_bytes: 92_000_000,
        state,
        segments: Vec::new(),
        node: None,
    };
    RecordingReady {
        conference: c,
        recording: &rec,
        portal_url: "https://portail.example",
        time_zone: Toronto,
        language: lang,
        branding: &Branding::default(),
    }
    .render()
}

#[test]
fn recording_ready() {
    let c = seed_conference();
    for (lang, name) in [(Language::Fr, "fr"), (Language::En, "en")] {
        let r = recording_ready_mail(&c, crate::RecordingState::Complete, lang);
        let text = r.text.replace(&c.id.to_string(), "<conference id>");
        insta::assert_snapshot!(
            format!("recording_ready_{name}"),
            format!("Subject: {}\n\n{text}", r.subject)
        );
        assert!(!r.html.contains("s3"), "never a raw S3 URL");
    }
}

#[test]
fn a_cut_recording_says_it_stops_at_the_last_minute_kept() {
    let c = seed_conference();
    for (lang, said) in [
        (Language::Fr, "s'arrête à la dernière minute conservée"),
        (Language::En, "stops at the last minute kept"),
    ] {
        let r = recording_ready_mail(&c, crate::RecordingState::Cut, lang);
        assert!(r.text.contains(said), "{}", r.text);
    }
}
