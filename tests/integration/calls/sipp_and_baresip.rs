//! Real SIP user agents call the media node: sipp keys the codes as RFC 4733 and
//! reaches the conference; three baresip callers talk, each playing its own tone
//! as its microphone, and what each one heard shows who was heard, a stranger
//! sending its own tone and keys to every port of the node included. The peers
//! come from `make deps-sip`; the harness is `teleconf_tests::peers`.

use std::time::Duration;

use teleconf_domain::{CallLeg, CallerRole, DisconnectCause};
use teleconf_tests::api::TestApi;
use teleconf_tests::media::{MediaNode, OpenConference};
use teleconf_tests::peers::ScratchDir;
use teleconf_tests::peers::baresip::Baresip;
use teleconf_tests::peers::sipp::{self, DialPlan};
use teleconf_tests::peers::stranger::Stranger;
use teleconf_tests::peers::tone::{Recording, write_tone};
use teleconf_tests::stack::Stack;

use super::edge::wait_for_legs;

/// A tone's share of a recording above which it was heard: a talker alone gives
/// ~1.0, two talkers mixed ~0.5 each.
const HEARD: f64 = 0.3;
/// A tone's share below which it was not heard at all.
const NOT_HEARD: f64 = 0.01;

#[tokio::test]
async fn a_sipp_caller_keys_number_and_code_as_rfc4733_and_reaches_the_conference() {
    let stack = Stack::new().await;
    let open = OpenConference::create(&stack.store).await;
    let node = MediaNode::start(&stack).await;
    let mut plan = DialPlan::new(
        open.access.number.as_str(),
        open.conference.number.as_str(),
        open.conference.codes.code(CallerRole::Participant).as_str(),
    );
    plan.stay = Duration::from_secs(1);

    let run = sipp::dial_and_enter_codes(node.sip, &plan).await;
    if let Err(error) = run {
        panic!("{error:#}");
    }
    // Reached the conference: its leg was opened at admission, and closed by
    // sipp's BYE.
    let legs = wait_for_legs(&stack, &open, |legs| {
        legs.len() == 1 && legs[0].left_at.is_some()
    })
    .await;
    let leg = &legs[0];
    assert_eq!(leg.role, CallerRole::Participant);
    assert_eq!(leg.dialled.as_ref(), Some(&open.access.number));
    assert_eq!(leg.cause, Some(DisconnectCause::CallerHangup));
}

#[tokio::test]
async fn two_baresip_participants_hear_each_other_and_nobody_hears_the_listener() {
    two_participants_and_a_listener(&[]).await;
}

/// The same conference with the node's RTP on its epoll fallback (the suite
/// runs io_uring, `TELECONF_MEDIA_IO` unset).
#[tokio::test]
async fn on_the_epoll_fallback_two_participants_hear_each_other_and_nobody_hears_the_listener() {
    two_participants_and_a_listener(&[("TELECONF_MEDIA_IO", "epoll")]).await;
}

async fn two_participants_and_a_listener(settings: &[(&str, &str)]) {
    let stack = Stack::new().await;
    let open = OpenConference::create(&stack.store).await;
    let node = MediaNode::start_with_settings(&stack, settings).await;
    let dir = ScratchDir::new("conference").unwrap();
    // All three in the room, then three seconds of conference.
    let mut phones = in_the_conference(&stack, &open, &node, &dir, &ONE_ROOM).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    for phone in &mut phones {
        phone.hangup().await.unwrap();
    }

    one_room_was_heard(&phones);

    let legs: Vec<CallLeg> = wait_for_legs(&stack, &open, |legs| {
        legs.len() == 3 && legs.iter().all(|leg| leg.left_at.is_some())
    })
    .await;
    let listeners = legs
        .iter()
        .filter(|leg| leg.role == CallerRole::Listener)
        .count();
    assert_eq!(listeners, 1);
}

#[tokio::test]
async fn a_stranger_sending_a_tone_and_keys_to_every_port_is_heard_by_nobody_keys_nothing_and_gets_nothing()
 {
    let stack = Stack::new().await;
    let open = OpenConference::create(&stack.store).await;
    let node = MediaNode::start(&stack).await;
    let dir = ScratchDir::new("stranger").unwrap();
    // A moderator and two participants; 2300 Hz is the stranger's, no harmonic of theirs.
    let callers = [
        (440.0, CallerRole::Moderator),
        (1000.0, CallerRole::Participant),
        (1700.0, CallerRole::Participant),
    ];
    const STRANGER_TONE: f64 = 2300.0;
    let mut phones = in_the_conference(&stack, &open, &node, &dir, &callers).await;

    // Strangers on the trunk's own host and on another address send their tone to
    // every port, and key *5 (mute all), *9 (remove the last caller), *6 (mute).
    let keys = "*5*9*6";
    let strangers = [
        Stranger::start("127.0.0.1", node.rtp_ports.clone(), STRANGER_TONE, keys)
            .await
            .unwrap(),
        Stranger::start("127.0.0.2", node.rtp_ports.clone(), STRANGER_TONE, keys)
            .await
            .unwrap(),
    ];
    tokio::time::sleep(Duration::from_secs(4)).await;
    for phone in &mut phones {
        phone.hangup().await.unwrap();
    }
    let mut outcomes = Vec::new();
    for stranger in strangers {
        outcomes.push(stranger.stop().await);
    }

    let mut tones: Vec<f64> = callers.iter().map(|(tone, _)| *tone).collect();
    tones.push(STRANGER_TONE);
    let heard: Vec<Recording> = phones
        .iter()
        .map(|phone| conference_window(&Recording::read(&phone.heard().unwrap()).unwrap()))
        .collect();
    let report = heard
        .iter()
        .map(|r| r.describe(&tones))
        .collect::<Vec<_>>()
        .join(" | ");
    for (who, recording) in heard.iter().enumerate() {
        assert!(
            recording.tone_share(STRANGER_TONE) < NOT_HEARD,
            "caller {who} hears the stranger: {report}"
        );
        // Nobody was muted nor removed by the stranger's keys: each hears the
        // two others, and not itself.
        for (other, (tone, _)) in callers.iter().enumerate() {
            if other == who {
                assert!(recording.tone_share(*tone) < NOT_HEARD, "{report}");
            } else {
                assert!(recording.tone_share(*tone) > 0.2, "{report}");
            }
        }
    }
    for outcome in &outcomes {
        assert!(outcome.sent > 1_000, "{outcome:?}");
        assert_eq!(outcome.received, 0, "a stranger gets nothing: {outcome:?}");
    }
    let legs: Vec<CallLeg> = wait_for_legs(&stack, &open, |legs| {
        legs.len() == 3 && legs.iter().all(|leg| leg.left_at.is_some())
    })
    .await;
    assert!(
        legs.iter()
            .all(|leg| leg.cause == Some(DisconnectCause::CallerHangup)),
        "nobody removed: {legs:?}"
    );
    let dropped = node.stats.read().rtp_dropped;
    assert!(dropped.foreign_source > 1_000, "{dropped:?}");
}

/// Two participants and a listener, each playing its tone (no tone a harmonic
/// of another).
pub(super) const ONE_ROOM: [(f64, CallerRole); 3] = [
    (440.0, CallerRole::Participant),
    (1000.0, CallerRole::Participant),
    (1700.0, CallerRole::Listener),
];

/// What the three callers of [`ONE_ROOM`] heard in the two seconds before the
/// first hang-up shows one room: each participant hears the other and never
/// itself, the listener hears both, nobody hears the listener.
pub(super) fn one_room_was_heard<P: std::borrow::Borrow<Baresip>>(phones: &[P]) {
    let heard: Vec<Recording> = phones
        .iter()
        .map(|phone| {
            let heard = phone.borrow().heard().unwrap();
            conference_window(&Recording::read(&heard).unwrap())
        })
        .collect();
    let tones = ONE_ROOM.map(|(tone, _)| tone);
    let report = heard
        .iter()
        .map(|r| r.describe(&tones))
        .collect::<Vec<_>>()
        .join(" | ");
    let share = |who: usize, tone: usize| heard[who].tone_share(tones[tone]);
    assert!(share(0, 1) > HEARD, "the first hears the second: {report}");
    assert!(
        share(0, 0) < NOT_HEARD,
        "the first never hears itself: {report}"
    );
    assert!(share(1, 0) > HEARD, "the second hears the first: {report}");
    assert!(
        share(1, 1) < NOT_HEARD,
        "the second never hears itself: {report}"
    );
    assert!(
        share(2, 0) > HEARD && share(2, 1) > HEARD,
        "the listener hears both: {report}"
    );
    for who in 0..3 {
        assert!(
            share(who, 2) < NOT_HEARD,
            "nobody hears the listener: {report}"
        );
    }
}

/// One baresip caller per `(tone, role)`, its tone as its microphone: each dials
/// `node` and keys `open`'s number and its role's code; returned once all are in
/// the room.
async fn in_the_conference(
    stack: &Stack,
    open: &OpenConference,
    node: &MediaNode,
    dir: &ScratchDir,
    callers: &[(f64, CallerRole)],
) -> Vec<Baresip> {
    let uri = node.uri(&open.access.number);
    let mut phones = Vec::new();
    for (i, (tone, role)) in callers.iter().enumerate() {
        let microphone = dir.join(&format!("{tone}.wav"));
        write_tone(&microphone, *tone, Duration::from_secs(60)).unwrap();
        let mut phone = Baresip::start(&format!("caller{i}"), &microphone)
            .await
            .unwrap();
        phone.dial(&uri).await.unwrap();
        phone.send_digits(&open.number_keys()).await.unwrap();
        phone.send_digits(&open.code_keys(*role)).await.unwrap();
        phones.push(phone);
    }
    wait_for_legs(stack, open, |legs| legs.len() == callers.len()).await;
    phones
}

/// The two seconds of a caller's recording that end half a second before it
/// ends: everyone was in the room then (the first hang-up comes at the end of the
/// first caller's recording).
pub(super) fn conference_window(heard: &Recording) -> Recording {
    let tail = heard.last(Duration::from_millis(2_500));
    let rate = tail.sample_rate();
    let keep = usize::try_from(rate * 2).unwrap_or(usize::MAX);
    let samples = tail.samples();
    Recording::from_samples(rate, samples[..keep.min(samples.len())].to_vec())
}

#[tokio::test]
async fn a_recorded_conference_of_two_talkers_is_a_wav_in_s3_with_both_tones_listed_by_the_api() {
    let api = TestApi::new().await;
    let stack = &api.stack;
    let open = OpenConference::create_with(&stack.store, true).await;
    let node = MediaNode::start(stack).await;
    let dir = ScratchDir::new("recorded").unwrap();
    let talkers = [440.0, 1000.0].map(|tone| (tone, CallerRole::Participant));
    let mut phones = in_the_conference(stack, &open, &node, &dir, &talkers).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    for phone in &mut phones {
        phone.hangup().await.unwrap();
    }

    // The last caller gone, the recording is uploaded whole and listed.
    let token = api
        .login(open.owner.email.as_str(), "a long enough password")
        .await;
    let path = format!("/v1/recordings?conference_id={}", open.conference.id);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let listed = loop {
        let listed = api.get_ok(&path, &token).await;
        if listed[0]["state"] == "complete" {
            break listed;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no recording listed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let id = listed[0]["id"].as_str().expect("an id").to_string();
    let one = api.get_ok(&format!("/v1/recordings/{id}"), &token).await;
    let url = one["download_url"].as_str().expect("a download URL");
    let wav = reqwest::get(url).await.unwrap();
    assert!(wav.status().is_success(), "{}", wav.status());
    let path = dir.join("recording.wav");
    std::fs::write(&path, wav.bytes().await.unwrap()).unwrap();
    let recording = Recording::read(&path).unwrap();
    assert_eq!(recording.sample_rate(), 8_000);
    // Both talked over the last seconds: both tones are in the mix.
    let window = conference_window(&recording);
    let report = window.describe(&[440.0, 1000.0]);
    assert!(window.tone_share(440.0) > HEARD, "{report}");
    assert!(window.tone_share(1000.0) > HEARD, "{report}");
    drop(node);
}
