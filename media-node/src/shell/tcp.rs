//! SIP over TCP (RFC 3261 §18): each connection is read by a task that frames the
//! stream with [`message::frame`] and hands whole messages to the shell, which
//! answers through the connection's writer. An unframeable stream gets its 400
//! when one can be built, then the connection is closed.
//!
//! What a connection may hold is the sans-IO [`connections`](teleconf_sip::connections)'
//! to decide: one over the caps (in total, per source address) is closed as soon
//! as it is accepted; one quiet for its idle time, or whose message is still
//! incomplete after its message time, is closed. Each is counted in the node's
//! [`Stats`]. So slow or idle clients never hold descriptors that calls' RTP ports
//! need.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use teleconf_sip::connections::{ConnectionLimits, Connections, ReadClock};
use teleconf_sip::message::{self, Framing};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use super::Event;
use super::media::Inbox;
use super::stats::Stats;

/// Messages waiting to be written to one connection.
const WRITE_QUEUE: usize = 64;
/// How long the writes queued for a closing connection get to go out.
const WRITE_GRACE: Duration = Duration::from_secs(2);

/// The connections held, shared by the accepting task and the connections'.
type Held = Arc<Mutex<Connections>>;

/// A connection admitted: its place is given back when it goes.
struct Admitted {
    held: Held,
    peer: SocketAddr,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        lock(&self.held).close(self.peer.ip());
    }
}

/// Accepts connections until the shell goes, within `limits`.
pub(super) async fn accept(
    listener: TcpListener,
    events: Inbox,
    limits: ConnectionLimits,
    stats: Arc<Stats>,
) {
    let held: Held = Arc::new(Mutex::new(Connections::new(limits)));
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let admitted = lock(&held).open(peer.ip());
                match admitted {
                    Ok(()) => {
                        let admitted = Admitted {
                            held: held.clone(),
                            peer,
                        };
                        tokio::spawn(serve(
                            stream,
                            admitted,
                            events.clone(),
                            limits,
                            stats.clone(),
                        ));
                    }
                    Err(why) => {
                        // Closed at once: dropping the stream.
                        stats.tcp_refused(why);
                        tracing::debug!(%peer, reason = why.as_str(), "SIP TCP connection refused");
                    }
                }
            }
            Err(error) => {
                // Out of descriptors and the like: wait, never spin.
                tracing::warn!(%error, "SIP TCP accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

async fn serve(
    stream: TcpStream,
    admitted: Admitted,
    events: Inbox,
    limits: ConnectionLimits,
    stats: Arc<Stats>,
) {
    let peer = admitted.peer;
    let _ = stream.set_nodelay(true);
    let (mut reader, mut writer) = stream.into_split();
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(WRITE_QUEUE);
    if !events
        .send(Event::TcpOpened {
            peer,
            writer: tx.clone(),
        })
        .await
    {
        return;
    }
    let mut write = tokio::spawn(async move {
        while let Some(bytes) = rx.recv().await {
            if writer.write_all(&bytes).await.is_err() {
                break;
            }
        }
        let _ = writer.shutdown().await;
    });
    let mut clock = ReadClock::new(&limits, Instant::now());
    let mut buffer = Vec::with_capacity(4096);
    let mut chunk = vec![0u8; 16 * 1024];
    'read: loop {
        let (deadline, expiry) = clock.deadline();
        let read = tokio::time::timeout_at(deadline.into(), reader.read(&mut chunk)).await;
        match read {
            Err(_) => {
                stats.tcp_expired(expiry);
                tracing::info!(%peer, reason = expiry.as_str(), "SIP TCP connection timed out; closing");
                break;
            }
            Ok(Ok(0) | Err(_)) => break,
            Ok(Ok(n)) => buffer.extend_from_slice(&chunk[..n]),
        }
        let mut whole = 0;
        loop {
            match message::frame(&buffer) {
                Framing::KeepAlive(n) => {
                    // RFC 5626 §3.5.1: a CRLFCRLF ping gets a CRLF pong.
                    if buffer.starts_with(b"\r\n\r\n") {
                        let _ = tx.try_send(b"\r\n".to_vec());
                    }
                    buffer.drain(..n);
                    whole += 1;
                }
                Framing::Complete(n) => {
                    let bytes: Vec<u8> = buffer.drain(..n).collect();
                    whole += 1;
                    if !events.send(Event::Sip { from: peer, bytes }).await {
                        break 'read;
                    }
                }
                Framing::Incomplete => break,
                Framing::Invalid(error) => {
                    tracing::info!(%peer, %error, "SIP TCP stream out of step; closing");
                    if let Some(response) = message::bad_request(&buffer, &error) {
                        let _ = tx.send(response).await;
                    }
                    break 'read;
                }
            }
        }
        clock.on_read(Instant::now(), whole, !buffer.is_empty());
    }
    drop(tx);
    let _ = events.send(Event::TcpClosed { peer }).await;
    // A peer that reads nothing must not keep the connection (and its place).
    if tokio::time::timeout(WRITE_GRACE, &mut write).await.is_err() {
        write.abort();
    }
    drop(admitted);
}

/// A poisoned count is still a count.
fn lock(held: &Held) -> std::sync::MutexGuard<'_, Connections> {
    held.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
