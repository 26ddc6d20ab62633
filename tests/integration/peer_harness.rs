//! The real SIP peers' harness (`teleconf_tests::peers`) tested on its own, against
//! sipp answerers, no media node needed: the dialling scenario's SIP flow and the
//! digits it keys, baresip's microphone → RTP → recording path, and the digits
//! baresip keys. The calls to the media node itself are
//! [`calls::sipp_and_baresip`](crate::calls)'s.
//! sipp and baresip come from `make deps-sip`.

use std::time::Duration;

use teleconf_tests::peers::baresip::Baresip;
use teleconf_tests::peers::rtp::DigitSink;
use teleconf_tests::peers::sipp::{self, DialPlan, Uas};
use teleconf_tests::peers::tone::{Recording, write_tone};
use teleconf_tests::peers::{ScratchDir, scenario};

const ACCESS_NUMBER: &str = "+15145550100";

#[tokio::test]
async fn sipp_dials_and_keys_the_conference_number_then_the_code_as_rfc4733() {
    let sink = DigitSink::bind().await.unwrap();
    let port = sink.port().to_string();
    let uas = Uas::scenario(
        &scenario("answer_to_sink.xml"),
        &[("sink_port", &port), ("dtmf_pt", "96")],
    )
    .await
    .unwrap();
    let mut plan = DialPlan::new(ACCESS_NUMBER, "2345678", "13579");
    plan.stay = Duration::from_millis(200);

    let (run, received) = tokio::join!(
        sipp::dial_and_enter_codes(uas.addr(), &plan),
        sink.read_digits(96, 14, plan.call_length() + Duration::from_secs(5)),
    );
    let run = run.unwrap();

    assert_eq!(received.digits, "2345678#13579#", "{received:?}");
    let uri = format!("INVITE sip:{ACCESS_NUMBER}@{} SIP/2.0", uas.addr());
    sipp::expect_message(&run, &uri).unwrap();
    sipp::expect_message(&run, "m=audio").unwrap();
    sipp::expect_message(&run, "a=rtpmap:96 telephone-event/8000").unwrap();
    let answerer = uas.finish(Duration::from_secs(5)).await.unwrap();
    sipp::expect_message(&answerer, "BYE sip:").unwrap();
}

#[tokio::test]
async fn sipp_reports_a_call_that_is_not_answered() {
    // A SIP port nobody listens on: the INVITE is never answered.
    let nobody =
        std::net::SocketAddr::from(([127, 0, 0, 1], teleconf_tests::peers::free_udp_port()));
    let err = sipp::Uac::new(scenario("dial_and_enter_codes.xml"), nobody)
        .service(ACCESS_NUMBER)
        .key("conference", "2345678")
        .key("code", "13579")
        .key("digit_ms", "100")
        .set("conference_wait", "0")
        .set("code_wait", "0")
        .set("stay", "0")
        .limit(Duration::from_secs(2))
        .run()
        .await
        .unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("sipp UAC"), "{text}");
    assert!(text.contains("INVITE"), "the logs are in the error: {text}");
    // A failed run keeps its logs; this failure was expected.
    let kept = text
        .split("logs in ")
        .nth(1)
        .and_then(|rest| rest.lines().next());
    std::fs::remove_dir_all(kept.expect("the logs' dir")).unwrap();
}

#[tokio::test]
async fn baresip_hears_its_own_tone_through_an_echo() {
    let dir = ScratchDir::new("peers-test").unwrap();
    let mic = dir.join("440.wav");
    write_tone(&mic, 440.0, Duration::from_secs(30)).unwrap();
    let echo = Uas::echo().await.unwrap();

    let mut caller = Baresip::start("caller1", &mic).await.unwrap();
    caller.dial(&echo.uri(ACCESS_NUMBER)).await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    caller.hangup().await.unwrap();

    let heard = Recording::read(&caller.heard().unwrap()).unwrap();
    let report = heard.describe(&[440.0, 1000.0]);
    assert!(heard.length() > Duration::from_millis(1500), "{report}");
    assert!(heard.tone_share(440.0) > 0.9, "{report}");
    assert!(heard.tone_share(1000.0) < 0.01, "{report}");
    // What it sent is its microphone.
    let sent = Recording::read(&caller.sent().unwrap()).unwrap();
    assert!(sent.tone_share(440.0) > 0.99, "{}", sent.describe(&[440.0]));
    caller.quit().await.unwrap();
}

#[tokio::test]
async fn baresip_keys_digits_as_rfc4733_on_the_answered_payload_type() {
    let dir = ScratchDir::new("peers-test").unwrap();
    let mic = dir.join("1000.wav");
    write_tone(&mic, 1000.0, Duration::from_secs(30)).unwrap();
    let sink = DigitSink::bind().await.unwrap();
    let port = sink.port().to_string();
    // Not baresip's own 101: it follows the answer.
    let uas = Uas::scenario(
        &scenario("answer_to_sink.xml"),
        &[("sink_port", &port), ("dtmf_pt", "110")],
    )
    .await
    .unwrap();

    let mut caller = Baresip::start("caller2", &mic).await.unwrap();
    caller.dial(&uas.uri(ACCESS_NUMBER)).await.unwrap();
    let (sent, received) = tokio::join!(
        caller.send_digits("2345678#"),
        sink.read_digits(110, 8, Duration::from_secs(5)),
    );
    sent.unwrap();
    assert_eq!(received.digits, "2345678#", "{received:?}");
    assert!(
        received.payload_types.get(&0).copied().unwrap_or(0) > 10,
        "its PCMU audio came too: {received:?}"
    );
    caller.hangup().await.unwrap();
    uas.finish(Duration::from_secs(5)).await.unwrap();
}
