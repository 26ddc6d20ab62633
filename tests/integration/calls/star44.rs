//! `*44` over real sockets (issue #13 §7): the owner lists the account's IP phones
//! through the API, the media node reads them from the store, and a phone of the
//! account that dials `*44` reaches the IVR in its account's language, while a phone
//! of no account is refused, and a phone removed is refused once the node has read
//! the list again. Loopback gives each phone an address of its own (127.0.0.0/8);
//! the node's trunk is 127.0.0.1.

use std::collections::HashSet;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use serde_json::json;
use teleconf_domain::Language;
use teleconf_media_node::app::prompts::{self, Clip, Prompt};
use teleconf_sip::sdp::Codec;
use teleconf_tests::api::{TestApi, World, source_segment};
use teleconf_tests::media::MediaNode;
use tokio::net::UdpSocket;

use super::edge::{Ua, status};

/// Longer than the test nodes' `TELECONF_IP_PHONES_REFRESH_SECS` (1 s), with margin.
const NODE_READS_THE_LIST: Duration = Duration::from_secs(10);

/// The frames with sound in them of `prompt` in `language`, as the node sends
/// them in PCMU (each clip starts on a frame of its own).
pub(super) fn spoken_frames(language: Language, prompt: &Prompt) -> HashSet<prompts::Payload> {
    let clips = prompts::default_prompt(language, prompt);
    let Some(Clip::Default(pcm)) = clips.first() else {
        panic!("the default prompt is a recording: {clips:?}");
    };
    pcm.chunks_exact(prompts::FRAME_SAMPLES)
        .filter(|frame| frame.iter().any(|s| s.unsigned_abs() > 2_000))
        .map(|frame| prompts::encode_frame(Codec::Pcmu, frame.try_into().expect("a frame")))
        .collect()
}

/// The language in which the caller listening on `rtp` is asked for the conference
/// number: the first whose prompt's frames arrive (a few, in case the loaded machine
/// makes the node skip one).
async fn language_heard(rtp: &UdpSocket) -> Language {
    const FRAMES: usize = 5;
    let mut heard = [Language::Fr, Language::En].map(|l| {
        let frames = spoken_frames(l, &Prompt::AskConferenceNumber(None));
        (l, frames, 0)
    });
    let mut buffer = [0u8; 2_048];
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let (n, _) = rtp.recv_from(&mut buffer).await.expect("RTP");
            let payload = buffer.get(12..n).unwrap_or_default();
            for (language, frames, count) in &mut heard {
                if frames.iter().any(|f| payload == f.as_slice()) {
                    *count += 1;
                    if *count == FRAMES {
                        return *language;
                    }
                }
            }
        }
    })
    .await
    .expect("the IVR asks for the conference number")
}

/// A caller on `ip` dialling `*44` at `node`, with `from` as its From URI when given;
/// the final answer, and the socket its RTP comes to when answered.
async fn dial_star44(node: &MediaNode, ip: &str, from: Option<&str>) -> (String, UdpSocket) {
    let rtp = UdpSocket::bind(("127.0.0.1", 0)).await.unwrap();
    let port = rtp.local_addr().unwrap().port();
    let target = format!("sip:*44@{}", node.sip);
    let mut ua = Ua::new(ip, node.sip).await;
    let sdp = format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n"
    );
    let mut invite = ua.request("INVITE", &target, "Content-Type: application/sdp\r\n", &sdp);
    if let Some(from) = from {
        let local = ua.local();
        invite = invite.replace(
            &format!("From: <sip:+15145551234@{local}>"),
            &format!("From: \"Poste\" <{from}>"),
        );
    }
    ua.send(&invite).await;
    let answer = ua.final_response().await;
    if answer.starts_with("SIP/2.0 200") {
        ua.ack(&target).await;
    }
    (answer, rtp)
}

/// Waits until `ip`'s OPTIONS gets `want` from `node` (the node read the list).
async fn until_served(node: &MediaNode, ip: &str, want: &str) {
    let deadline = tokio::time::Instant::now() + NODE_READS_THE_LIST;
    loop {
        let mut ua = Ua::new(ip, node.sip).await;
        let options = ua.request("OPTIONS", &format!("sip:{}", node.sip), "", "");
        ua.send(&options).await;
        let answer = ua.final_response().await;
        if status(&answer) == want {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{ip}'s OPTIONS still answered {} after {NODE_READS_THE_LIST:?}",
            status(&answer)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn add_phone(api: &TestApi, token: &str, source: &str) {
    api.expect(
        StatusCode::CREATED,
        Method::POST,
        "/v1/ip-phones",
        token,
        Some(json!({ "source": source, "label": "Poste" })),
    )
    .await;
}

#[tokio::test]
async fn an_ip_phone_of_the_account_dials_star44_and_hears_its_accounts_language() {
    let w = World::new().await;
    let api = &w.api;
    // Account A speaks English; account B keeps French, the default.
    api.expect(
        StatusCode::OK,
        Method::PATCH,
        &format!("/v1/accounts/{}", w.a),
        &w.provider.token,
        Some(json!({ "language": "en" })),
    )
    .await;
    let node = MediaNode::start(&api.stack).await;
    add_phone(api, &w.owner.token, "127.0.0.2").await;
    add_phone(api, &w.owner.token, "sip:desk@pbx.example").await;
    add_phone(api, &w.foreign.token, "127.0.0.3").await;
    until_served(&node, "127.0.0.2", "SIP/2.0 200 OK").await;

    // A's desk phone: A's IVR, in English, without the greeting.
    let (answer, rtp) = dial_star44(&node, "127.0.0.2", None).await;
    assert_eq!(status(&answer), "SIP/2.0 200 OK", "{answer}");
    assert_eq!(language_heard(&rtp).await, Language::En);
    // A's phone behind the trunk, known by its SIP identity.
    let (answer, rtp) = dial_star44(&node, "127.0.0.1", Some("sip:desk@pbx.example:5062")).await;
    assert_eq!(status(&answer), "SIP/2.0 200 OK", "{answer}");
    assert_eq!(language_heard(&rtp).await, Language::En);
    // B's phone: B's IVR, in French.
    let (answer, rtp) = dial_star44(&node, "127.0.0.3", None).await;
    assert_eq!(status(&answer), "SIP/2.0 200 OK", "{answer}");
    assert_eq!(language_heard(&rtp).await, Language::Fr);

    // No account's phone, at an address or behind the trunk: 403.
    let (answer, _) = dial_star44(&node, "127.0.0.4", None).await;
    assert_eq!(status(&answer), "SIP/2.0 403 Forbidden");
    let (answer, _) = dial_star44(&node, "127.0.0.1", Some("sip:lobby@pbx.example")).await;
    assert_eq!(status(&answer), "SIP/2.0 403 Forbidden");

    // The owner removes the desk phone: refused once the node has read the list.
    api.expect(
        StatusCode::NO_CONTENT,
        Method::DELETE,
        &format!("/v1/ip-phones/{}", source_segment("127.0.0.2")),
        &w.owner.token,
        None,
    )
    .await;
    until_served(&node, "127.0.0.2", "SIP/2.0 403 Forbidden").await;
    let (answer, _) = dial_star44(&node, "127.0.0.2", None).await;
    assert_eq!(status(&answer), "SIP/2.0 403 Forbidden");
}

#[tokio::test]
async fn while_the_store_is_away_the_phones_last_read_dial_and_strangers_stay_out() {
    let w = World::new().await;
    let api = &w.api;
    let (proxy, store) = api.stack.store_through_proxy().await;
    let node = MediaNode::start_with(&api.stack, store).await;
    add_phone(api, &w.owner.token, "127.0.0.5").await;
    until_served(&node, "127.0.0.5", "SIP/2.0 200 OK").await;

    proxy.cut();
    // A few failed reads of the list later, the phone is still known…
    tokio::time::sleep(Duration::from_secs(3)).await;
    until_served(&node, "127.0.0.5", "SIP/2.0 200 OK").await;
    // …its *44 needs its account's language, which the store cannot give: 503, so
    // the phone may try again…
    let (answer, _) = dial_star44(&node, "127.0.0.5", None).await;
    assert_eq!(status(&answer), "SIP/2.0 503 Service Unavailable");
    // …and a stranger is refused without the store.
    let (answer, _) = dial_star44(&node, "127.0.0.6", None).await;
    assert_eq!(status(&answer), "SIP/2.0 403 Forbidden");

    proxy.restore();
    let (answer, rtp) = dial_star44(&node, "127.0.0.5", None).await;
    assert_eq!(status(&answer), "SIP/2.0 200 OK", "{answer}");
    assert_eq!(language_heard(&rtp).await, Language::Fr);
}
