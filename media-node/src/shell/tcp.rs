//! SIP over TCP (RFC 3261 §18): each connection is read by a task that frames the
//! stream with [`codec::frame`] and hands whole messages to the shell, which
//! answers through the connection's writer. An unframeable stream gets its 400
//! when one can be built, then the connection is closed.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use super::Event;
use super::media::Inbox;
use crate::sip::codec::{self, Framing};

/// Messages waiting to be written to one connection.
const WRITE_QUEUE: usize = 64;

/// Accepts connections until the shell goes.
pub(super) async fn accept(listener: TcpListener, events: Inbox) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                tokio::spawn(serve(stream, peer, events.clone()));
            }
            Err(error) => {
                // Out of descriptors and the like: wait, never spin.
                tracing::warn!(%error, "SIP TCP accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

async fn serve(stream: TcpStream, peer: SocketAddr, events: Inbox) {
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
    let write = tokio::spawn(async move {
        while let Some(bytes) = rx.recv().await {
            if writer.write_all(&bytes).await.is_err() {
                break;
            }
        }
        let _ = writer.shutdown().await;
    });
    let mut buffer = Vec::with_capacity(4096);
    let mut chunk = vec![0u8; 16 * 1024];
    'read: loop {
        match reader.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
        loop {
            match codec::frame(&buffer) {
                Framing::KeepAlive(n) => {
                    // RFC 5626 §3.5.1: a CRLFCRLF ping gets a CRLF pong.
                    if buffer.starts_with(b"\r\n\r\n") {
                        let _ = tx.try_send(b"\r\n".to_vec());
                    }
                    buffer.drain(..n);
                }
                Framing::Complete(n) => {
                    let bytes: Vec<u8> = buffer.drain(..n).collect();
                    if !events.send(Event::Sip { from: peer, bytes }).await {
                        break 'read;
                    }
                }
                Framing::Incomplete => break,
                Framing::Invalid(error) => {
                    tracing::info!(%peer, %error, "SIP TCP stream out of step; closing");
                    if let Some(response) = codec::bad_request(&buffer, &error) {
                        let _ = tx.send(response).await;
                    }
                    break 'read;
                }
            }
        }
    }
    drop(tx);
    let _ = events.send(Event::TcpClosed { peer }).await;
    let _ = write.await;
}
