//! The RTP ports the node binds, owned by the [media loop](super::media): one
//! non-blocking UDP socket per call, registered with the loop's epoll under its
//! port number. A readable socket is read with `recvmmsg` (everything queued, up
//! to [`BATCH`] datagrams, in one system call, into buffers reused for the life
//! of the node); a datagram is sent at once with one non-blocking `sendto`, and
//! dropped when the socket's buffer is full (late audio is no audio).
//!
//! Why not `sendmmsg`: with one socket per call, a tick sends one datagram per
//! socket, and `sendmmsg` batches only datagrams of one socket. The batching that
//! pays here is the loop's: one `epoll_wait` hands over every ready socket.

use std::collections::HashMap;
use std::io::IoSliceMut;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;

use nix::errno::Errno;
use nix::sys::epoll::{Epoll, EpollEvent, EpollFlags};
use nix::sys::socket::{MsgFlags, MultiHeaders, SockaddrStorage, recvmmsg};

/// Datagrams read from one socket per system call.
pub(super) const BATCH: usize = 8;
/// Largest RTP datagram read (a 20 ms G.711 frame is 172 bytes).
const MAX_RTP: usize = 2048;

/// The bound RTP sockets and the buffers they are read into.
pub(super) struct RtpPorts {
    ip: IpAddr,
    sockets: HashMap<u16, UdpSocket>,
    buffers: Box<[[u8; MAX_RTP]; BATCH]>,
    headers: MultiHeaders<SockaddrStorage>,
    /// The last read: each datagram's buffer, sender and length.
    received: Vec<(usize, SocketAddr, usize)>,
    /// Datagrams dropped on sending (the socket's buffer full): frames lost.
    unsent: u64,
}

impl std::fmt::Debug for RtpPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RtpPorts")
            .field("ip", &self.ip)
            .field("ports", &self.sockets.len())
            .finish_non_exhaustive()
    }
}

impl RtpPorts {
    /// No port bound yet; ports are bound on `ip`.
    pub(super) fn new(ip: IpAddr) -> Self {
        Self {
            ip,
            sockets: HashMap::new(),
            buffers: Box::new([[0; MAX_RTP]; BATCH]),
            headers: MultiHeaders::preallocate(BATCH, None),
            received: Vec::with_capacity(BATCH),
            unsent: 0,
        }
    }

    /// Binds `port` and watches it with `epoll` (its token is the port number).
    /// A port that cannot be bound is logged: the call goes on without media
    /// from us, and its RTP timeout ends it.
    pub(super) fn bind(&mut self, epoll: &Epoll, port: u16) {
        let addr = SocketAddr::new(self.ip, port);
        let Some(socket) = bind(addr) else {
            return;
        };
        if let Err(error) = epoll.add(&socket, EpollEvent::new(EpollFlags::EPOLLIN, port.into())) {
            tracing::error!(%addr, %error, "RTP port cannot be watched");
            return;
        }
        if let Some(old) = self.sockets.insert(port, socket) {
            let _ = epoll.delete(&old);
        }
    }

    /// Closes `port`.
    pub(super) fn release(&mut self, epoll: &Epoll, port: u16) {
        if let Some(socket) = self.sockets.remove(&port) {
            let _ = epoll.delete(&socket);
        }
    }

    /// Sends `bytes` from `port` to `to`, or drops them (counted in [`Self::unsent`]).
    pub(super) fn send(&mut self, port: u16, to: SocketAddr, bytes: &[u8]) {
        if let Some(socket) = self.sockets.get(&port)
            && socket.send_to(bytes, to).is_err()
        {
            self.unsent += 1;
        }
    }

    /// Datagrams dropped on sending since the node started.
    pub(super) fn unsent(&self) -> u64 {
        self.unsent
    }

    /// Reads what `port` has queued (at most [`BATCH`] datagrams) and hands each
    /// to `deliver`. Returns how many were read: [`BATCH`] means there may be more
    /// (the socket stays readable and the next wait reports it again).
    pub(super) fn receive(
        &mut self,
        port: u16,
        mut deliver: impl FnMut(SocketAddr, &[u8]),
    ) -> usize {
        let Some(socket) = self.sockets.get(&port) else {
            return 0;
        };
        let fd = socket.as_raw_fd();
        self.received.clear();
        {
            let mut slices = self
                .buffers
                .each_mut()
                .map(|buffer| [IoSliceMut::new(&mut buffer[..])]);
            let results = match recvmmsg(
                fd,
                &mut self.headers,
                slices.iter_mut(),
                MsgFlags::MSG_DONTWAIT,
                None,
            ) {
                Ok(results) => results,
                // Nothing after all; or an ICMP error from a gone peer, reported
                // on the next read: the datagrams behind it are read next time.
                Err(Errno::EAGAIN | Errno::EINTR | Errno::ECONNREFUSED) => return 0,
                Err(error) => {
                    tracing::debug!(port, %error, "RTP receive");
                    return 0;
                }
            };
            for (index, message) in results.enumerate() {
                if let Some(from) = message.address.as_ref().and_then(socket_addr) {
                    self.received.push((index, from, message.bytes));
                }
            }
        }
        for &(index, from, len) in &self.received {
            deliver(from, &self.buffers[index][..len.min(MAX_RTP)]);
        }
        self.received.len()
    }
}

/// A non-blocking socket bound on `addr`, or `None` (logged): the call goes on
/// without media from us, and its RTP timeout ends it.
pub(super) fn bind(addr: SocketAddr) -> Option<UdpSocket> {
    match UdpSocket::bind(addr).and_then(|socket| {
        socket.set_nonblocking(true)?;
        Ok(socket)
    }) {
        Ok(socket) => Some(socket),
        Err(error) => {
            tracing::error!(%addr, %error, "RTP port cannot be bound");
            None
        }
    }
}

fn socket_addr(address: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = address.as_sockaddr_in() {
        return Some(SocketAddr::V4((*v4).into()));
    }
    address
        .as_sockaddr_in6()
        .map(|v6| SocketAddr::V6((*v6).into()))
}
