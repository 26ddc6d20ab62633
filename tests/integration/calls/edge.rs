//! The node's SIP edge, spoken to with hand-written messages over real sockets: a
//! tiny user agent that says exactly what a test needs and reads what comes back.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

use axum::http::{Method, StatusCode};
use teleconf_adapters::blobs::BlobStore;
use teleconf_adapters::store::{CdrStore, ConferenceStore, ControlStore, IntroCodeStore};
use teleconf_domain::BlobKey;
use teleconf_domain::{CallerRole, DisconnectCause, E164};
use teleconf_tests::api::TestApi;
use teleconf_tests::media::{MediaNode, OpenConference};
use teleconf_tests::proxy::Proxy;
use teleconf_tests::stack::Stack;

/// How long a test waits for one answer.
const ANSWER: Duration = Duration::from_secs(5);

/// A SIP user agent on its own UDP port of `ip`.
pub(crate) struct Ua {
    socket: UdpSocket,
    node: SocketAddr,
    call_id: String,
    tag: String,
    cseq: u32,
    /// The node's To tag, once answered.
    remote_tag: Option<String>,
}

impl Ua {
    pub(crate) async fn new(ip: &str, node: SocketAddr) -> Self {
        let socket = UdpSocket::bind((ip, 0)).await.unwrap();
        let n = uuid::Uuid::new_v4().simple().to_string();
        Self {
            socket,
            node,
            call_id: format!("{}@test", &n[..12]),
            tag: n[12..20].to_string(),
            cseq: 0,
            remote_tag: None,
        }
    }

    pub(crate) fn local(&self) -> SocketAddr {
        self.socket.local_addr().unwrap()
    }

    /// A request of this UA's dialog (or out of any before the answer).
    pub(crate) fn request(
        &mut self,
        method: &str,
        target: &str,
        extra: &str,
        body: &str,
    ) -> String {
        if method != "ACK" {
            self.cseq += 1;
        }
        let local = self.local();
        let to_tag = self
            .remote_tag
            .as_ref()
            .map(|tag| format!(";tag={tag}"))
            .unwrap_or_default();
        format!(
            "{method} {target} SIP/2.0\r\n\
             Via: SIP/2.0/UDP {local};branch=z9hG4bK{}{}\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:+15145551234@{local}>;tag={}\r\n\
             To: <{target}>{to_tag}\r\n\
             Call-ID: {}\r\n\
             CSeq: {} {method}\r\n\
             Contact: <sip:test@{local}>\r\n\
             {extra}Content-Length: {}\r\n\r\n{body}",
            self.tag,
            if method == "ACK" {
                format!("{}ack", self.cseq)
            } else {
                self.cseq.to_string()
            },
            self.tag,
            self.call_id,
            self.cseq,
            body.len(),
        )
    }

    pub(crate) async fn send(&self, message: &str) {
        self.socket
            .send_to(message.as_bytes(), self.node)
            .await
            .unwrap();
    }

    /// The next SIP message from the node (RTP never comes to this port).
    pub(crate) async fn receive(&self) -> String {
        let mut buffer = vec![0u8; 65_535];
        let (n, _) = tokio::time::timeout(ANSWER, self.socket.recv_from(&mut buffer))
            .await
            .expect("the node answers in time")
            .unwrap();
        String::from_utf8_lossy(&buffer[..n]).into_owned()
    }

    /// The next final response (1xx skipped).
    pub(crate) async fn final_response(&mut self) -> String {
        loop {
            let message = self.receive().await;
            if message.starts_with("SIP/2.0 1") {
                continue;
            }
            if let Some(tag) = header(&message, "To").and_then(|to| to.split(";tag=").nth(1)) {
                self.remote_tag
                    .get_or_insert_with(|| tag.trim().to_string());
            }
            return message;
        }
    }

    /// Sends `INVITE target` with a G.711 offer; returns the final response.
    pub(crate) async fn invite(&mut self, target: &str, rtp_port: u16) -> String {
        let sdp = format!(
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
             m=audio {rtp_port} RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n\
             a=fmtp:101 0-16\r\na=ptime:20\r\n"
        );
        let invite = self.request("INVITE", target, "Content-Type: application/sdp\r\n", &sdp);
        self.send(&invite).await;
        self.final_response().await
    }

    /// ACKs a 2xx.
    pub(crate) async fn ack(&mut self, target: &str) {
        let ack = self.request("ACK", target, "", "");
        self.send(&ack).await;
    }

    /// Calls `target` and keys the conference number and `role`'s code by INFO;
    /// the node's 200 (its SDP answer). The offer's media address never sends.
    pub(crate) async fn join(
        &mut self,
        target: &str,
        open: &OpenConference,
        role: CallerRole,
    ) -> String {
        let answer = self.invite(target, 7002).await;
        assert_eq!(status(&answer), "SIP/2.0 200 OK", "{answer}");
        assert!(
            answer.contains("m=audio "),
            "the 200 carries the SDP answer"
        );
        self.ack(target).await;
        self.key(target, &open.number_keys()).await;
        self.key(target, &open.code_keys(role)).await;
        answer
    }

    /// Sends a `freq` tone as PCMU RTP to the node's `port`, 50 packets a second.
    pub(crate) async fn talk(&self, port: u16, freq: f64, length: Duration) {
        let socket = UdpSocket::bind(("127.0.0.1", 0)).await.unwrap();
        let mut ticker = tokio::time::interval(Duration::from_millis(20));
        let frames = length.as_millis() / 20;
        for n in 0..frames as u32 {
            ticker.tick().await;
            let pcm: Vec<i16> = (0..160)
                .map(|i| {
                    let t = f64::from(n * 160 + i) / 8_000.0;
                    (8_000.0 * (2.0 * std::f64::consts::PI * freq * t).sin()) as i16
                })
                .collect();
            let mut packet = vec![0x80, 0x00];
            packet.extend_from_slice(&(n as u16).to_be_bytes());
            packet.extend_from_slice(&(n * 160).to_be_bytes());
            packet.extend_from_slice(&0x1234_5678u32.to_be_bytes());
            teleconf_sip::g711::encode_ulaw(&pcm, &mut packet);
            socket.send_to(&packet, ("127.0.0.1", port)).await.unwrap();
        }
    }

    /// Keys `digits` as SIP INFO (application/dtmf-relay), one request each.
    pub(crate) async fn key(&mut self, target: &str, digits: &str) {
        for digit in digits.chars() {
            let body = format!("Signal={digit}\r\nDuration=160\r\n");
            let info = self.request(
                "INFO",
                target,
                "Content-Type: application/dtmf-relay\r\n",
                &body,
            );
            self.send(&info).await;
            let answer = self.final_response().await;
            assert!(answer.starts_with("SIP/2.0 200"), "INFO answered {answer}");
        }
    }
}

fn header<'a>(message: &'a str, name: &str) -> Option<&'a str> {
    message.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

pub(crate) fn status(message: &str) -> &str {
    message.lines().next().unwrap_or_default()
}

async fn node() -> (Stack, MediaNode) {
    let stack = Stack::new().await;
    let node = MediaNode::start(&stack).await;
    (stack, node)
}

/// A conference open now, and a node that reaches its store through a proxy the
/// test may cut.
pub(super) async fn node_behind_a_proxy() -> (Stack, OpenConference, Proxy, MediaNode) {
    let stack = Stack::new().await;
    let open = OpenConference::create(&stack.store).await;
    let (proxy, store) = stack.store_through_proxy().await;
    let node = MediaNode::start_with(&stack, store).await;
    (stack, open, proxy, node)
}

#[tokio::test]
async fn options_keepalives_are_answered_over_udp_and_tcp() {
    let (_stack, node) = node().await;
    let mut ua = Ua::new("127.0.0.1", node.sip).await;
    let options = ua.request("OPTIONS", &format!("sip:{}", node.sip), "", "");
    ua.send(&options).await;
    let answer = ua.final_response().await;
    assert_eq!(status(&answer), "SIP/2.0 200 OK");
    assert!(header(&answer, "Allow").is_some_and(|allow| allow.contains("INVITE")));

    let mut tcp = TcpStream::connect(node.sip).await.unwrap();
    let options = options.replace("SIP/2.0/UDP", "SIP/2.0/TCP");
    // A CRLF ping first (RFC 5626), then the request in two pieces.
    tcp.write_all(b"\r\n\r\n").await.unwrap();
    let (head, tail) = options.split_at(40);
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    tcp.write_all(tail.as_bytes()).await.unwrap();
    let mut buffer = vec![0u8; 4096];
    let mut received = String::new();
    while !received.contains("\r\n\r\n") || !received.contains("SIP/2.0 200") {
        let n = tokio::time::timeout(ANSWER, tcp.read(&mut buffer))
            .await
            .expect("the node answers over TCP")
            .unwrap();
        assert!(n > 0, "the node closed the connection: {received:?}");
        received.push_str(&String::from_utf8_lossy(&buffer[..n]));
    }
    assert!(
        received.starts_with("\r\n"),
        "the ping gets its pong: {received:?}"
    );
    assert!(received.contains("SIP/2.0 200 OK"), "{received}");
}

#[tokio::test]
async fn garbage_gets_400_and_the_node_keeps_serving() {
    let (_stack, node) = node().await;
    let mut ua = Ua::new("127.0.0.1", node.sip).await;
    let options = ua.request("OPTIONS", &format!("sip:{}", node.sip), "", "");
    ua.send(&options.replace("CSeq: 1 OPTIONS", "CSeq: one OPTIONS"))
        .await;
    let answer = ua.receive().await;
    assert!(status(&answer).starts_with("SIP/2.0 400 "), "{answer}");
    // Bytes that are not SIP at all get nothing; the node still answers.
    ua.socket
        .send_to(&[0xff, 0x00, 0x13, 0x37], node.sip)
        .await
        .unwrap();
    let options = ua.request("OPTIONS", &format!("sip:{}", node.sip), "", "");
    ua.send(&options).await;
    assert_eq!(status(&ua.final_response().await), "SIP/2.0 200 OK");
}

#[tokio::test]
async fn only_the_trunk_may_call_and_only_known_numbers_answer() {
    let (stack, node) = node().await;
    let open = OpenConference::create(&stack.store).await;
    let target = node.uri(&open.access.number);

    // 127.0.0.2 is loopback but not the configured trunk address.
    let mut stranger = Ua::new("127.0.0.2", node.sip).await;
    assert_eq!(
        status(&stranger.invite(&target, 7000).await),
        "SIP/2.0 403 Forbidden"
    );

    let mut caller = Ua::new("127.0.0.1", node.sip).await;
    let unknown: E164 = "+15145550199".parse().unwrap();
    let answer = caller.invite(&node.uri(&unknown), 7000).await;
    assert_eq!(status(&answer), "SIP/2.0 404 Not Found");
}

#[tokio::test]
async fn a_caller_keying_by_sip_info_joins_and_the_cdr_is_opened_then_closed() {
    let (stack, node) = node().await;
    let open = OpenConference::create(&stack.store).await;
    let target = node.uri(&open.access.number);
    let mut caller = Ua::new("127.0.0.1", node.sip).await;

    caller.join(&target, &open, CallerRole::Participant).await;

    // Admission writes the CDR leg, open.
    let legs = wait_for_legs(&stack, &open, |legs| legs.len() == 1).await;
    let leg = &legs[0];
    assert_eq!(leg.role, CallerRole::Participant);
    assert_eq!(leg.dialled.as_ref(), Some(&open.access.number));
    assert_eq!(leg.caller_id, "+15145551234");
    assert_eq!(leg.left_at, None);

    let bye = caller.request("BYE", &target, "", "");
    caller.send(&bye).await;
    assert_eq!(status(&caller.final_response().await), "SIP/2.0 200 OK");
    let legs = wait_for_legs(&stack, &open, |legs| {
        legs.iter().all(|l| l.left_at.is_some())
    })
    .await;
    assert_eq!(legs[0].cause, Some(DisconnectCause::CallerHangup));
    assert!(legs[0].left_at.unwrap() >= legs[0].joined_at);
}

#[tokio::test]
async fn the_api_shows_who_is_on_the_line_and_muted_and_the_feed_records_the_mute() {
    let api = TestApi::new().await;
    let stack = &api.stack;
    let open = OpenConference::create(&stack.store).await;
    let node = MediaNode::start(stack).await;
    let target = node.uri(&open.access.number);
    let token = api
        .login(open.owner.email.as_str(), "a long enough password")
        .await;
    let path = format!("/v1/conferences/{}/participants", open.conference.id);
    let on_line = |expected: usize| {
        live_view_until(&api, &path, &token, move |list| {
            list.as_array().is_some_and(|l| l.len() == expected)
        })
    };
    assert_eq!(on_line(0).await, serde_json::json!([]));

    let mut caller = Ua::new("127.0.0.1", node.sip).await;
    caller.join(&target, &open, CallerRole::Participant).await;
    let list = on_line(1).await;
    assert_eq!(list[0]["caller_id"], "+15145551234");
    assert_eq!(list[0]["role"], "participant");
    assert_eq!(list[0]["muted"], false);

    caller.key(&target, "*6").await;
    live_view_until(&api, &path, &token, |list| list[0]["muted"] == true).await;
    let feed = api.get_ok("/v1/activity", &token).await;
    assert!(
        feed.to_string().contains("caller_muted"),
        "the mute is in the feed: {feed}"
    );

    let bye = caller.request("BYE", &target, "", "");
    caller.send(&bye).await;
    assert_eq!(status(&caller.final_response().await), "SIP/2.0 200 OK");
    on_line(0).await;
}

#[tokio::test]
async fn the_portals_mute_and_remove_reach_the_caller_through_the_node() {
    let api = TestApi::new().await;
    let stack = &api.stack;
    let open = OpenConference::create(&stack.store).await;
    let node = MediaNode::start(stack).await;
    let target = node.uri(&open.access.number);
    let token = api
        .login(open.owner.email.as_str(), "a long enough password")
        .await;
    let participants = format!("/v1/conferences/{}/participants", open.conference.id);
    let controls = format!("/v1/conferences/{}/controls", open.conference.id);
    let mut caller = Ua::new("127.0.0.1", node.sip).await;
    caller.join(&target, &open, CallerRole::Participant).await;
    let list = live_view_until(&api, &participants, &token, |list| {
        list[0]["leg_id"].is_string()
    })
    .await;
    let leg_id = list[0]["leg_id"].as_str().unwrap_or_default().to_string();

    let control = |command: &str| {
        let body = serde_json::json!({"command": command, "leg_id": leg_id});
        let (api, controls, token) = (&api, &controls, &token);
        async move {
            api.expect(
                StatusCode::ACCEPTED,
                Method::POST,
                controls,
                token,
                Some(body),
            )
            .await;
        }
    };
    control("mute").await;
    live_view_until(&api, &participants, &token, |list| list[0]["muted"] == true).await;

    control("remove").await;
    let bye = caller.receive().await;
    assert!(
        bye.starts_with("BYE "),
        "the node hangs up on the caller: {bye}"
    );
    let legs = wait_for_legs(stack, &open, |legs| legs.iter().all(|l| l.cause.is_some())).await;
    assert_eq!(legs[0].cause, Some(DisconnectCause::ModeratorKick));
    let queued = stack
        .store
        .pending_controls(open.conference.id)
        .await
        .unwrap();
    assert!(
        queued.is_empty(),
        "each command is taken off the queue: {queued:?}"
    );
}

#[tokio::test]
async fn a_stopping_node_keeps_its_call_until_the_caller_hangs_up_then_writes_its_cdr_and_exits() {
    let (stack, node) = node().await;
    let open = OpenConference::create(&stack.store).await;
    let target = node.uri(&open.access.number);
    let mut caller = Ua::new("127.0.0.1", node.sip).await;
    caller.join(&target, &open, CallerRole::Listener).await;
    wait_for_legs(&stack, &open, |legs| legs.len() == 1).await;

    let sip = node.sip;
    let stopped = tokio::spawn(node.stop());
    // A new call while the node stops is refused; the call up goes on.
    let mut late = Ua::new("127.0.0.1", sip).await;
    let refused = late.invite(&target, 7010).await;
    assert_eq!(status(&refused), "SIP/2.0 503 Service Unavailable");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!stopped.is_finished(), "the node did not wait for its call");
    // The caller hangs up: the node, empty, stops (once the BYE's transaction
    // has absorbed any retransmission, 64*T1 over UDP).
    let bye = caller.request("BYE", &target, "", "");
    caller.send(&bye).await;
    tokio::time::timeout(Duration::from_secs(45), stopped)
        .await
        .expect("the node stops once its call is over")
        .unwrap();
    // No waiting: the node wrote the CDR before it returned.
    let legs = stack
        .store
        .legs_of_conference(open.conference.id)
        .await
        .unwrap();
    assert_eq!(legs.len(), 1);
    assert_eq!(legs[0].cause, Some(DisconnectCause::CallerHangup));
    assert_eq!(legs[0].role, CallerRole::Listener);
}

#[tokio::test]
async fn while_the_store_is_unreachable_calls_get_503_and_are_served_once_it_is_back() {
    let (_stack, open, proxy, node) = node_behind_a_proxy().await;
    let target = node.uri(&open.access.number);

    proxy.cut();
    let mut caller = Ua::new("127.0.0.1", node.sip).await;
    let answer = tokio::time::timeout(Duration::from_secs(30), caller.invite(&target, 7004))
        .await
        .expect("an answer despite the outage");
    assert_eq!(status(&answer), "SIP/2.0 503 Service Unavailable");

    proxy.restore();
    let mut caller = Ua::new("127.0.0.1", node.sip).await;
    assert_eq!(
        status(&caller.invite(&target, 7006).await),
        "SIP/2.0 200 OK"
    );
    caller.ack(&target).await;
}

#[tokio::test]
async fn while_the_store_is_away_a_wrong_code_is_refused_with_try_later_never_counted_as_zero() {
    let (_stack, open, proxy, node) = node_behind_a_proxy().await;
    let target = node.uri(&open.access.number);
    let mut caller = Ua::new("127.0.0.1", node.sip).await;
    let answer = caller.invite(&target, 7008).await;
    assert_eq!(status(&answer), "SIP/2.0 200 OK", "{answer}");
    caller.ack(&target).await;
    caller.key(&target, &open.number_keys()).await;
    // The conference is found and the counters read: the code is asked for.
    tokio::time::sleep(Duration::from_secs(1)).await;

    proxy.cut();
    caller.key(&target, "00000#").await;
    // « Too many attempts, try again later », goodbye, and our BYE: the call is not
    // asked for its code again as if nothing had been counted (three more tries
    // with their prompts and silences would take far longer).
    let mut buffer = vec![0u8; 65_535];
    let bye = tokio::time::timeout(Duration::from_secs(12), async {
        loop {
            let (n, _) = caller.socket.recv_from(&mut buffer).await.unwrap();
            let message = String::from_utf8_lossy(&buffer[..n]).into_owned();
            if message.starts_with("BYE ") {
                return message;
            }
        }
    })
    .await
    .expect("the node hangs up soon after the prompt");
    assert!(bye.contains(&caller.call_id), "{bye}");
    proxy.restore();
}

/// The conference's legs once `done` holds of them (CDRs are written by a task).
/// The live view at `path` once `done` holds for it; fails after 10 s.
async fn live_view_until(
    api: &TestApi,
    path: &str,
    token: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let list = api.get_ok(path, token).await;
        if done(&list) {
            return list;
        }
        assert!(tokio::time::Instant::now() < deadline, "{path}: {list}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The conference's legs once `done` holds for them; fails after 10 s.
pub(super) async fn wait_for_legs(
    stack: &Stack,
    open: &OpenConference,
    done: impl Fn(&[teleconf_domain::CallLeg]) -> bool,
) -> Vec<teleconf_domain::CallLeg> {
    wait_for_legs_within(stack, open, Duration::from_secs(10), done).await
}

/// The conference's legs once `done` holds for them; fails after `limit`.
pub(super) async fn wait_for_legs_within(
    stack: &Stack,
    open: &OpenConference,
    limit: Duration,
    done: impl Fn(&[teleconf_domain::CallLeg]) -> bool,
) -> Vec<teleconf_domain::CallLeg> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let legs = stack
            .store
            .legs_of_conference(open.conference.id)
            .await
            .unwrap();
        if done(&legs) {
            return legs;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "CDRs not as expected in time: {legs:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_intro_recorded_by_phone_with_the_one_time_code_becomes_the_conferences_intro() {
    let api = TestApi::new().await;
    let stack = &api.stack;
    let open = OpenConference::create(&stack.store).await;
    let node = MediaNode::start(stack).await;
    let token = api
        .login(open.owner.email.as_str(), "a long enough password")
        .await;
    let path = format!("/v1/conferences/{}/intro/by-phone", open.conference.id);
    let grant = api
        .expect(StatusCode::CREATED, Method::POST, &path, &token, None)
        .await;
    let code = grant["code"].as_str().expect("a code").to_string();
    assert_eq!(grant["number"], open.access.number.as_str());

    let target = node.uri(&open.access.number);
    let mut phone = Ua::new("127.0.0.1", node.sip).await;
    let answer = phone.invite(&target, 7020).await;
    assert_eq!(status(&answer), "SIP/2.0 200 OK", "{answer}");
    phone.ack(&target).await;
    phone.key(&target, &format!("{code}#")).await;
    // The instructions and the beep, then speech: a 440 Hz tone for long
    // enough to outlast them.
    let media = media_port(&answer);
    phone.talk(media, 440.0, Duration::from_secs(8)).await;
    phone.key(&target, "#1").await;

    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let intro = loop {
        let conference = stack
            .store
            .conference(open.conference.id)
            .await
            .unwrap()
            .unwrap();
        if let Some(intro) = conference.intro_prompt {
            break intro;
        }
        assert!(tokio::time::Instant::now() < deadline, "no intro stored");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let wav = stack
        .blobs
        .get(&BlobKey::prompt(open.owner.account_id, intro))
        .await
        .unwrap()
        .expect("the intro's WAV");
    let decoded = teleconf_domain::audio::decode_wav(&wav).unwrap();
    assert_eq!(decoded.sample_rate, 8_000);
    let seconds = decoded.samples.len() as f64 / 8_000.0;
    assert!((1.0..8.0).contains(&seconds), "{seconds} s recorded");
    // Spent: the code opens nothing any more.
    assert_eq!(
        stack
            .store
            .intro_grant(&code.parse().unwrap())
            .await
            .unwrap(),
        None
    );
}

/// The port of the node's `m=audio` line in an SDP answer.
pub(crate) fn media_port(answer: &str) -> u16 {
    answer
        .lines()
        .find_map(|line| line.strip_prefix("m=audio "))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|port| port.parse().ok())
        .expect("an m=audio line")
}
