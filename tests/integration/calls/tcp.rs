//! The node's SIP-over-TCP listener under clients that hold connections: over the
//! caps (in total, per source address) a connection is closed as soon as it is
//! accepted; a half-sent message and an idle connection are closed after their
//! times; each is counted, and the clients that behave are served meanwhile, calls
//! included (their RTP ports still bind).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream, UdpSocket};

use teleconf_tests::media::{MediaNode, OpenConference};
use teleconf_tests::stack::Stack;

use super::edge::{Ua, media_port, status};

/// How long a held connection must stay open to count as held.
const STAYS_OPEN: Duration = Duration::from_millis(300);
/// How long a refused or expired connection may take to be seen closed.
const CLOSES_WITHIN: Duration = Duration::from_secs(3);

/// A TCP connection to `node` from the loopback address `ip`.
async fn connect_from(ip: &str, node: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{ip}:0").parse().unwrap()).unwrap();
    socket.connect(node).await.unwrap()
}

/// Whether the node closed `stream`: its read ends (or is reset) within `within`.
async fn is_closed(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buffer = [0u8; 512];
    loop {
        match tokio::time::timeout(within, stream.read(&mut buffer)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            // A pong or an answer: read on.
            Ok(Ok(_)) => {}
        }
    }
}

/// An OPTIONS over `stream`, answered 200.
async fn options_answered(ua: &mut Ua, stream: &mut TcpStream, node: SocketAddr) {
    let options = ua
        .request("OPTIONS", &format!("sip:{node}"), "", "")
        .replace("SIP/2.0/UDP", "SIP/2.0/TCP");
    stream.write_all(options.as_bytes()).await.unwrap();
    let mut buffer = vec![0u8; 4096];
    let mut received = String::new();
    while !received.contains("\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer))
            .await
            .expect("the node answers over TCP")
            .unwrap();
        assert!(n > 0, "the node closed a connection it serves");
        received.push_str(&String::from_utf8_lossy(&buffer[..n]));
    }
    assert_eq!(status(&received), "SIP/2.0 200 OK", "{received}");
}

/// Sends an OPTIONS over `stream` every half second until `until`, each answered.
async fn asks_until(ua: &mut Ua, stream: &mut TcpStream, node: SocketAddr, until: Instant) {
    while Instant::now() < until {
        options_answered(ua, stream, node).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn sip_tcp_connections_over_the_caps_are_closed_and_counted_and_calls_still_get_their_rtp_port()
 {
    let stack = Stack::new().await;
    let open = OpenConference::create(&stack.store).await;
    let node = MediaNode::start_with_settings(
        &stack,
        &[
            ("TELECONF_SIP_TCP_MAX_CONNECTIONS", "6"),
            ("TELECONF_SIP_TCP_MAX_PER_SOURCE", "4"),
        ],
    )
    .await;

    // Four from one address are held; its fifth is closed at once.
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(connect_from("127.0.0.1", node.sip).await);
    }
    let mut fifth = connect_from("127.0.0.1", node.sip).await;
    assert!(
        is_closed(&mut fifth, CLOSES_WITHIN).await,
        "over the per-source cap"
    );
    // Two from another address fill the node; a third address is closed at once.
    for _ in 0..2 {
        held.push(connect_from("127.0.0.2", node.sip).await);
    }
    let mut seventh = connect_from("127.0.0.3", node.sip).await;
    assert!(
        is_closed(&mut seventh, CLOSES_WITHIN).await,
        "over the total cap"
    );
    for stream in &mut held {
        assert!(!is_closed(stream, STAYS_OPEN).await, "held");
    }
    let figures = node.stats.read();
    assert_eq!(figures.tcp_refused_per_source_cap, 1, "{figures:?}");
    assert_eq!(figures.tcp_refused_total_cap, 1, "{figures:?}");

    // Those held are served.
    let mut ua = Ua::new("127.0.0.1", node.sip).await;
    options_answered(&mut ua, &mut held[0], node.sip).await;

    // A call over UDP meanwhile gets its RTP port: the greeting reaches it from there.
    let media = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let target = node.uri(&open.access.number);
    let mut caller = Ua::new("127.0.0.1", node.sip).await;
    let answer = caller
        .invite(&target, media.local_addr().unwrap().port())
        .await;
    assert_eq!(status(&answer), "SIP/2.0 200 OK", "{answer}");
    caller.ack(&target).await;
    let mut packet = [0u8; 2048];
    let (_, from) = tokio::time::timeout(Duration::from_secs(5), media.recv_from(&mut packet))
        .await
        .expect("the greeting comes as RTP")
        .unwrap();
    assert_eq!(from.port(), media_port(&answer), "from the call's port");

    // One closes: a newcomer is held again.
    drop(held.pop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut newcomer = connect_from("127.0.0.3", node.sip).await;
    assert!(!is_closed(&mut newcomer, STAYS_OPEN).await, "room again");
}

#[tokio::test]
async fn a_half_sent_message_and_an_idle_connection_are_closed_after_their_times_while_others_are_served()
 {
    let stack = Stack::new().await;
    let node = MediaNode::start_with_settings(
        &stack,
        &[
            ("TELECONF_SIP_TCP_MESSAGE_SECS", "1"),
            ("TELECONF_SIP_TCP_IDLE_SECS", "3"),
        ],
    )
    .await;
    let mut ua = Ua::new("127.0.0.1", node.sip).await;
    let started = Instant::now();
    let mut half = TcpStream::connect(node.sip).await.unwrap();
    let options = ua
        .request("OPTIONS", &format!("sip:{}", node.sip), "", "")
        .replace("SIP/2.0/UDP", "SIP/2.0/TCP");
    half.write_all(&options.as_bytes()[..40]).await.unwrap();
    let mut idle = TcpStream::connect(node.sip).await.unwrap();
    let mut busy = TcpStream::connect(node.sip).await.unwrap();

    // The well-behaved client asks every half second and is answered throughout.
    let until = started + Duration::from_millis(2_000);
    asks_until(&mut ua, &mut busy, node.sip, until).await;
    assert!(
        is_closed(&mut half, Duration::from_millis(200)).await,
        "the half-sent message is closed after 1 s"
    );
    assert!(
        !is_closed(&mut idle, Duration::from_millis(200)).await,
        "not idle long enough yet"
    );
    assert_eq!(node.stats.read().tcp_closed_incomplete, 1);

    let until = started + Duration::from_millis(4_000);
    asks_until(&mut ua, &mut busy, node.sip, until).await;
    assert!(
        is_closed(&mut idle, Duration::from_millis(200)).await,
        "idle for 3 s: closed"
    );
    options_answered(&mut ua, &mut busy, node.sip).await;
    let figures = node.stats.read();
    assert_eq!(figures.tcp_closed_idle, 1, "{figures:?}");
    assert_eq!(figures.tcp_closed_incomplete, 1, "{figures:?}");
}
