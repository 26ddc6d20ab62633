//! The reference bridge: the least a conference bridge can do for the same
//! load, to measure the node against in the same run (issue #17).
//!
//! One thread (`ref-bridge`, pinned to the node's CPUs), one UDP socket for
//! every caller, callers told apart by their SSRC and rooms by the address
//! their packets come from (the generator's socket of each conference); no SIP,
//! no IVR, no CDR. It reads with `recvmmsg` and sends with `sendmmsg`, both in
//! batches of [`REF_BATCH`], and mixes with the node's own [`Mixer`] (jitter
//! buffer, decode, sum, N−1, encode), each room on its own 20 ms deadlines from
//! its first packet. A leg is sent its mix from the bridge's one port, with the
//! leg's own SSRC, so the generator tells the legs apart by SSRC.
//!
//! With [`Sockets::PerCaller`] (path `reference_sockets`) the same bridge has a
//! socket per caller, as the node has one per call: it waits on an `epoll` of
//! them all, reads each socket found readable with `recvmmsg`, and sends each
//! leg's mix from the leg's own socket with one `sendto`, as the node's epoll
//! path does. Against the one-socket bridge it measures what that structure
//! costs; against the node, what the node does beyond it.

use std::collections::{BTreeSet, HashMap};
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::{AsFd, AsRawFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, ppoll};
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use nix::sys::socket::{MsgFlags, MultiHeaders, SockaddrIn, sendto, setsockopt, sockopt};
use nix::sys::time::TimeSpec;

use teleconf_domain::CallerRole;
use teleconf_media_node::app::CallKey;
use teleconf_media_node::app::mixer::{FRAME_BYTES, Mixer};
use teleconf_sip::rtp;
use teleconf_sip::sdp::Codec;

use crate::generator::Bridge as Target;
use crate::system::{pin_current_thread, receive_batch, send_batch};
use crate::{RTP_HEADER, SOCKET_BUFFER};

/// Datagrams per `recvmmsg` and per `sendmmsg`.
const REF_BATCH: usize = 32;
/// Name of the bridge's thread (counted as the node's in the measures).
const REFERENCE_THREAD: &str = "ref-bridge";
/// Bytes of the largest datagram read.
const MAX_DATAGRAM: usize = 512;
/// Datagrams per `recvmmsg` on a caller's own socket (one a period comes).
const CALLER_BATCH: usize = 4;
/// Readiness reports taken per `epoll_wait`.
const EVENTS: usize = 256;
/// The address of the bridge's sockets per caller (the node's bench address is
/// 127.0.0.2), and their first port.
const PER_CALLER_IP: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);
const PER_CALLER_FIRST_PORT: u16 = 20_000;

/// How the bridge's callers reach it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sockets {
    /// One socket for every caller.
    One,
    /// A socket for each of this many callers, on consecutive ports.
    PerCaller(usize),
}

/// The reference bridge's thread, running until dropped.
pub(crate) struct ReferenceBridge {
    addr: SocketAddrV4,
    structure: Sockets,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<anyhow::Result<()>>>,
}

impl ReferenceBridge {
    pub(crate) fn spawn(cpus: Option<Vec<usize>>, structure: Sockets) -> anyhow::Result<Self> {
        let sockets = match structure {
            Sockets::One => {
                let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
                setsockopt(&socket, sockopt::RcvBuf, &SOCKET_BUFFER)?;
                setsockopt(&socket, sockopt::SndBuf, &SOCKET_BUFFER)?;
                vec![socket]
            }
            Sockets::PerCaller(callers) => (0..callers)
                .map(|index| {
                    let port = u16::try_from(index)
                        .ok()
                        .and_then(|index| PER_CALLER_FIRST_PORT.checked_add(index))
                        .context("more callers than ports")?;
                    UdpSocket::bind((PER_CALLER_IP, port))
                        .with_context(|| format!("binding {PER_CALLER_IP}:{port}"))
                })
                .collect::<anyhow::Result<_>>()?,
        };
        for socket in &sockets {
            socket.set_nonblocking(true)?;
        }
        let addr = match sockets.first().context("no socket")?.local_addr()? {
            std::net::SocketAddr::V4(addr) => addr,
            std::net::SocketAddr::V6(_) => anyhow::bail!("the bridge is bound on IPv4"),
        };
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::Builder::new()
            .name(REFERENCE_THREAD.into())
            .spawn(move || {
                if let Some(cpus) = &cpus {
                    pin_current_thread(cpus).context("pinning the reference bridge")?;
                }
                Bridge::new(sockets, structure)?.run(&stopping)
            })?;
        Ok(Self {
            addr,
            structure,
            stop,
            thread: Some(thread),
        })
    }

    /// Where the generator's callers stream to.
    pub(crate) fn target(&self) -> Target {
        Target {
            addr: self.addr,
            port_per_caller: self.structure != Sockets::One,
        }
    }
}

impl Drop for ReferenceBridge {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            match thread.join() {
                Ok(Ok(())) => {}
                Ok(Err(error)) => eprintln!("bench_media: the reference bridge failed: {error:#}"),
                Err(_) => eprintln!("bench_media: the reference bridge panicked"),
            }
        }
    }
}

/// One leg: where its mix goes (from which of the bridge's sockets), and the
/// header of its stream.
struct Leg {
    key: CallKey,
    socket: usize,
    to: SockaddrIn,
    ssrc: u32,
    seq: u16,
    ts: u32,
}

struct Room {
    mixer: Mixer,
    legs: Vec<Leg>,
}

struct Bridge {
    /// One socket, or one per caller (then watched by `epoll`).
    sockets: Vec<UdpSocket>,
    epoll: Option<Epoll>,
    ready: Vec<EpollEvent>,
    rooms: Vec<Room>,
    /// Room by the address its callers send from.
    by_source: HashMap<SocketAddrV4, usize>,
    /// Room and leg by the caller's SSRC.
    by_ssrc: HashMap<u32, (usize, CallKey)>,
    /// The rooms by their next deadline.
    deadlines: BTreeSet<(Instant, usize)>,
    recv_headers: MultiHeaders<SockaddrIn>,
    recv_buffers: Vec<[u8; MAX_DATAGRAM]>,
    send_headers: MultiHeaders<SockaddrIn>,
    /// Datagrams waiting for the next `sendmmsg`.
    out: Vec<[u8; RTP_HEADER + FRAME_BYTES]>,
    out_to: Vec<Option<SockaddrIn>>,
}

impl Bridge {
    fn new(sockets: Vec<UdpSocket>, structure: Sockets) -> anyhow::Result<Self> {
        let epoll = if structure != Sockets::One {
            let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
            for (index, socket) in sockets.iter().enumerate() {
                epoll.add(socket, EpollEvent::new(EpollFlags::EPOLLIN, index as u64))?;
            }
            Some(epoll)
        } else {
            None
        };
        Ok(Self {
            sockets,
            epoll,
            ready: vec![EpollEvent::empty(); EVENTS],
            rooms: Vec::new(),
            by_source: HashMap::new(),
            by_ssrc: HashMap::new(),
            deadlines: BTreeSet::new(),
            recv_headers: MultiHeaders::preallocate(REF_BATCH, None),
            recv_buffers: vec![[0; MAX_DATAGRAM]; REF_BATCH],
            send_headers: MultiHeaders::preallocate(REF_BATCH, None),
            out: Vec::with_capacity(REF_BATCH),
            out_to: Vec::with_capacity(REF_BATCH),
        })
    }

    fn run(mut self, stop: &AtomicBool) -> anyhow::Result<()> {
        while !stop.load(Ordering::Relaxed) {
            let now = Instant::now();
            self.tick_due(now)?;
            let wake = self
                .deadlines
                .first()
                .map_or(now + Duration::from_millis(20), |&(at, _)| at)
                .min(now + Duration::from_millis(20));
            let timeout = TimeSpec::from_duration(wake.saturating_duration_since(Instant::now()));
            // The one socket, or the epoll of them all (`ppoll` for its timeout
            // in µs, where `epoll_wait` counts whole ms).
            let watched = match &self.epoll {
                Some(epoll) => epoll.0.as_fd(),
                None => self.sockets[0].as_fd(),
            };
            let mut fds = [PollFd::new(watched, PollFlags::POLLIN)];
            match ppoll(&mut fds, Some(timeout), None) {
                Ok(0) | Err(Errno::EINTR) => continue,
                Ok(_) if self.epoll.is_some() => self.receive_ready()?,
                Ok(_) => self.receive(0, REF_BATCH)?,
                Err(error) => return Err(error.into()),
            }
        }
        Ok(())
    }

    /// Reads everything queued on socket `index`, `batch` datagrams at a
    /// time, into the rooms' jitter buffers.
    fn receive(&mut self, index: usize, batch: usize) -> anyhow::Result<()> {
        loop {
            let now = Instant::now();
            let count = self.read_batch(index, batch, now)?;
            self.tick_due(Instant::now())?;
            if count < batch {
                return Ok(());
            }
        }
    }

    /// Reads every socket the epoll reports readable, until none is.
    fn receive_ready(&mut self) -> anyhow::Result<()> {
        loop {
            let Some(epoll) = &self.epoll else {
                return Ok(());
            };
            let count = epoll.wait(&mut self.ready, EpollTimeout::ZERO)?;
            for event in 0..count {
                let index = usize::try_from(self.ready[event].data()).unwrap_or(usize::MAX);
                if index < self.sockets.len() {
                    self.receive(index, CALLER_BATCH)?;
                }
            }
            if count < self.ready.len() {
                return Ok(());
            }
        }
    }

    /// One `recvmmsg` of up to `batch` datagrams from socket `index`: its
    /// datagrams into the rooms; how many were read.
    fn read_batch(&mut self, index: usize, batch: usize, now: Instant) -> anyhow::Result<usize> {
        let Self {
            sockets,
            rooms,
            by_source,
            by_ssrc,
            deadlines,
            recv_headers,
            recv_buffers,
            ..
        } = self;
        receive_batch(
            sockets[index].as_raw_fd(),
            recv_headers,
            &mut recv_buffers[..batch],
            |message, data| {
                let (Some(from), Ok(packet)) = (message.address, rtp::parse(data)) else {
                    return;
                };
                let from = SocketAddrV4::new(from.ip(), from.port());
                let (room, key) = *by_ssrc.entry(packet.ssrc).or_insert_with(|| {
                    join(rooms, by_source, deadlines, now, from, packet.ssrc, index)
                });
                let _ = rooms[room].mixer.push(
                    now,
                    key,
                    packet.sequence,
                    packet.timestamp,
                    packet.payload,
                );
            },
        )
    }

    /// Mixes every room due and sends each leg its frame: queued for the one
    /// socket's `sendmmsg`, or at once with `sendto` from the leg's own socket.
    fn tick_due(&mut self, now: Instant) -> anyhow::Result<()> {
        let per_caller = self.epoll.is_some();
        while let Some(&(at, index)) = self.deadlines.first()
            && at <= now
        {
            self.deadlines.pop_first();
            let room = &mut self.rooms[index];
            while room.mixer.tick(now).is_some() {
                for (leg, payload) in room.legs.iter_mut().zip(room.mixer.outputs()) {
                    debug_assert_eq!(leg.key, payload.0);
                    leg.seq = leg.seq.wrapping_add(1);
                    leg.ts = leg.ts.wrapping_add(FRAME_BYTES as u32);
                    let mut datagram = [0; RTP_HEADER + FRAME_BYTES];
                    let len = rtp::write(
                        &mut datagram,
                        leg.ssrc,
                        leg.seq,
                        leg.ts,
                        0,
                        false,
                        payload.1,
                    )?;
                    if len != datagram.len() {
                        continue;
                    }
                    if per_caller {
                        // What the socket refuses is dropped: the generator counts it lost.
                        let _ = sendto(
                            self.sockets[leg.socket].as_raw_fd(),
                            &datagram,
                            &leg.to,
                            MsgFlags::empty(),
                        );
                        continue;
                    }
                    self.out.push(datagram);
                    self.out_to.push(Some(leg.to));
                    if self.out.len() == REF_BATCH {
                        flush(
                            &self.sockets[0],
                            &mut self.send_headers,
                            &mut self.out,
                            &mut self.out_to,
                        );
                    }
                }
            }
            if let Some(next) = room.mixer.poll_timeout() {
                self.deadlines.insert((next, index));
            }
        }
        flush(
            &self.sockets[0],
            &mut self.send_headers,
            &mut self.out,
            &mut self.out_to,
        );
        Ok(())
    }
}

/// A new leg: its room is the one of its source address (a new room, anchored
/// now, for a new address).
fn join(
    rooms: &mut Vec<Room>,
    by_source: &mut HashMap<SocketAddrV4, usize>,
    deadlines: &mut BTreeSet<(Instant, usize)>,
    now: Instant,
    from: SocketAddrV4,
    ssrc: u32,
    socket: usize,
) -> (usize, CallKey) {
    let room = *by_source.entry(from).or_insert_with(|| {
        let mut mixer = Mixer::new();
        mixer.anchor(now);
        deadlines.insert((now, rooms.len()));
        rooms.push(Room {
            mixer,
            legs: Vec::new(),
        });
        rooms.len() - 1
    });
    let key = CallKey(u64::from(ssrc));
    let room_of = &mut rooms[room];
    // The mixer's legs are in the order they joined, as `legs` (no leg ever leaves).
    if room_of
        .mixer
        .join(key, CallerRole::Participant, Codec::Pcmu)
        .is_ok()
    {
        room_of.legs.push(Leg {
            key,
            socket,
            to: SockaddrIn::from(from),
            ssrc,
            seq: 0,
            ts: 0,
        });
    }
    (room, key)
}

/// Sends what is queued with `sendmmsg` (what the socket refuses is dropped:
/// the generator counts it lost), and empties the queue.
fn flush(
    socket: &UdpSocket,
    headers: &mut MultiHeaders<SockaddrIn>,
    out: &mut Vec<[u8; RTP_HEADER + FRAME_BYTES]>,
    to: &mut Vec<Option<SockaddrIn>>,
) {
    let _ = send_batch(socket.as_raw_fd(), headers, out, to);
    out.clear();
    to.clear();
}
