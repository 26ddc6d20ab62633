//! A TCP forwarder on loopback that can be switched off (every connection, open or
//! new, is dropped) and on again: an emulator outage without stopping the emulator.
//! It can also lose one answer: the request reaches the emulator, which applies it,
//! and the connection closes before the client reads the answer (a timeout after
//! the write, as a loaded network or server gives).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf, copy_bidirectional};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// The forwarder; dropping it stops it.
#[derive(Debug)]
pub struct Proxy {
    addr: SocketAddr,
    up: watch::Sender<bool>,
    lose_answer: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Forwards a fresh loopback port to `target` (`host:port`).
    pub async fn start(target: String) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (up, _) = watch::channel(true);
        let state = up.subscribe();
        let lose_answer = Arc::new(AtomicBool::new(false));
        let lose = lose_answer.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let mut state = state.clone();
                if !*state.borrow() {
                    continue; // dropped at once: connection reset
                }
                let target = target.clone();
                let lose = lose.clone();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(&target).await else {
                        return;
                    };
                    let mut server = LosingAnswers { server, lose };
                    tokio::select! {
                        _ = copy_bidirectional(&mut client, &mut server) => {}
                        _ = state.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Ok(Self {
            addr,
            up,
            lose_answer,
            task,
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Cuts every connection and refuses new ones until [`Proxy::restore`].
    pub fn cut(&self) {
        self.up.send_replace(false);
    }

    /// Forwards again.
    pub fn restore(&self) {
        self.up.send_replace(true);
    }

    /// The next answer from the emulator never reaches the client: its request
    /// was applied, and the connection closes instead.
    pub fn lose_next_answer(&self) {
        self.lose_answer.store(true, Ordering::SeqCst);
    }
}

/// The emulator's side of a forwarded connection: when an answer is to be lost,
/// the bytes read are thrown away and the read fails, which closes the connection.
struct LosingAnswers {
    server: TcpStream,
    lose: Arc<AtomicBool>,
}

impl AsyncRead for LosingAnswers {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let read = Pin::new(&mut self.server).poll_read(cx, buf);
        if matches!(read, Poll::Ready(Ok(())))
            && buf.filled().len() > before
            && self.lose.swap(false, Ordering::SeqCst)
        {
            buf.set_filled(before);
            return Poll::Ready(Err(std::io::ErrorKind::ConnectionAborted.into()));
        }
        read
    }
}

impl AsyncWrite for LosingAnswers {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.server).poll_write(cx, bytes)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.server).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.server).poll_shutdown(cx)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
