//! A stranger on the network, who is no caller: from its own UDP socket it sends a
//! tone as PCMU RTP, 50 packets a second, to every even port of a media node's
//! range, keys RFC 4733 digits to every one of them, and counts every packet that
//! comes back. What a node must never let it do: be heard, key, or listen.

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use teleconf_sip::g711;

/// The payload type the stranger keys on: the telephone-event type baresip offers
/// and the node answers.
const TELEPHONE_EVENT: u8 = 101;

/// What a stranger did and got.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Packets sent (tone and keys).
    pub sent: u64,
    /// Packets that came back to its socket.
    pub received: u64,
}

/// A stranger sending until stopped.
#[derive(Debug)]
pub struct Stranger {
    stop: oneshot::Sender<()>,
    task: JoinHandle<Outcome>,
}

impl Stranger {
    /// Starts sending from `ip` (a loopback address) to the even ports of `ports`:
    /// a `freq` tone, and each key of `keys` once, one every 200 ms from the start.
    pub async fn start(
        ip: &str,
        ports: Range<u16>,
        freq: f64,
        keys: &str,
    ) -> std::io::Result<Self> {
        let socket = UdpSocket::bind((ip, 0)).await?;
        let (stop, stopped) = oneshot::channel();
        let keys: Vec<u8> = keys.chars().map(event_code).collect();
        let task = tokio::spawn(send(socket, ports, freq, keys, stopped));
        Ok(Self { stop, task })
    }

    /// Stops it: what it sent and received.
    pub async fn stop(self) -> Outcome {
        let _ = self.stop.send(());
        self.task.await.unwrap_or_default()
    }
}

async fn send(
    socket: UdpSocket,
    ports: Range<u16>,
    freq: f64,
    keys: Vec<u8>,
    mut stopped: oneshot::Receiver<()>,
) -> Outcome {
    let socket = Arc::new(socket);
    let received = Arc::new(AtomicU64::new(0));
    let listener = {
        let (socket, received) = (socket.clone(), received.clone());
        tokio::spawn(async move {
            let mut buffer = [0u8; 2048];
            while socket.recv_from(&mut buffer).await.is_ok() {
                received.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let ports: Vec<u16> = ports.filter(|port| port % 2 == 0).collect();
    let mut ticker = tokio::time::interval(Duration::from_millis(20));
    let mut sent = 0;
    let mut frame: u32 = 0;
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            _ = ticker.tick() => {}
        }
        let pcm: Vec<i16> = (0..160)
            .map(|i| {
                let t = f64::from(frame * 160 + i) / 8_000.0;
                (12_000.0 * (2.0 * std::f64::consts::PI * freq * t).sin()) as i16
            })
            .collect();
        let mut payload = Vec::with_capacity(160);
        g711::encode_ulaw(&pcm, &mut payload);
        let mut packets = vec![rtp(0, frame as u16, frame * 160, false, &payload)];
        // A key every 200 ms: its start, then its end three times (RFC 4733 §2.5).
        let key = keys.get((frame / 10) as usize).filter(|_| frame % 10 < 4);
        if let Some(&event) = key {
            let end = frame % 10 > 0;
            let flags = if end { 0x80 | 10 } else { 10 };
            let body = [event, flags, 0x03, 0x20];
            let timestamp = (frame / 10) * 1_600;
            packets.push(rtp(TELEPHONE_EVENT, frame as u16, timestamp, !end, &body));
        }
        for &port in &ports {
            for packet in &packets {
                if socket.send_to(packet, ("127.0.0.1", port)).await.is_ok() {
                    sent += 1;
                }
            }
        }
        frame += 1;
    }
    listener.abort();
    Outcome {
        sent,
        received: received.load(Ordering::Relaxed),
    }
}

/// An RTP packet of the stranger's own SSRC.
fn rtp(payload_type: u8, sequence: u16, timestamp: u32, marker: bool, payload: &[u8]) -> Vec<u8> {
    let mut packet = vec![0x80, payload_type | if marker { 0x80 } else { 0 }];
    packet.extend_from_slice(&sequence.to_be_bytes());
    packet.extend_from_slice(&timestamp.to_be_bytes());
    packet.extend_from_slice(&0x5757_5757u32.to_be_bytes());
    packet.extend_from_slice(payload);
    packet
}

/// RFC 4733 §3.2's event code of a key.
fn event_code(key: char) -> u8 {
    match key {
        '0'..='9' => key as u8 - b'0',
        '*' => 10,
        '#' => 11,
        'A'..='D' => key as u8 - b'A' + 12,
        other => panic!("not a key: {other:?}"),
    }
}
