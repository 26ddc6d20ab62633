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

use std::collections::{BTreeSet, HashMap};
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::{AsFd, AsRawFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, ppoll};
use nix::sys::socket::{MultiHeaders, SockaddrIn, setsockopt, sockopt};
use nix::sys::time::TimeSpec;

use teleconf_domain::CallerRole;
use teleconf_media_node::app::CallKey;
use teleconf_media_node::app::mixer::{FRAME_BYTES, Mixer};
use teleconf_sip::rtp;
use teleconf_sip::sdp::Codec;

use crate::system::{pin_current_thread, receive_batch, send_batch};
use crate::{RTP_HEADER, SOCKET_BUFFER};

/// Datagrams per `recvmmsg` and per `sendmmsg`.
const REF_BATCH: usize = 32;
/// Name of the bridge's thread (counted as the node's in the measures).
const REFERENCE_THREAD: &str = "ref-bridge";
/// Bytes of the largest datagram read.
const MAX_DATAGRAM: usize = 512;

/// The reference bridge's thread, running until dropped.
pub(crate) struct ReferenceBridge {
    pub(crate) addr: SocketAddrV4,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<anyhow::Result<()>>>,
}

impl ReferenceBridge {
    pub(crate) fn spawn(cpus: Option<Vec<usize>>) -> anyhow::Result<Self> {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
        socket.set_nonblocking(true)?;
        setsockopt(&socket, sockopt::RcvBuf, &SOCKET_BUFFER)?;
        setsockopt(&socket, sockopt::SndBuf, &SOCKET_BUFFER)?;
        let addr = match socket.local_addr()? {
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
                Bridge::new(socket).run(&stopping)
            })?;
        Ok(Self {
            addr,
            stop,
            thread: Some(thread),
        })
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

/// One leg: where its mix goes, and the header of its stream.
struct Leg {
    key: CallKey,
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
    socket: UdpSocket,
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
    fn new(socket: UdpSocket) -> Self {
        Self {
            socket,
            rooms: Vec::new(),
            by_source: HashMap::new(),
            by_ssrc: HashMap::new(),
            deadlines: BTreeSet::new(),
            recv_headers: MultiHeaders::preallocate(REF_BATCH, None),
            recv_buffers: vec![[0; MAX_DATAGRAM]; REF_BATCH],
            send_headers: MultiHeaders::preallocate(REF_BATCH, None),
            out: Vec::with_capacity(REF_BATCH),
            out_to: Vec::with_capacity(REF_BATCH),
        }
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
            let mut fds = [PollFd::new(self.socket.as_fd(), PollFlags::POLLIN)];
            match ppoll(&mut fds, Some(timeout), None) {
                Ok(0) | Err(Errno::EINTR) => continue,
                Ok(_) => self.receive()?,
                Err(error) => return Err(error.into()),
            }
        }
        Ok(())
    }

    /// Reads everything queued, a batch at a time, into the rooms' jitter buffers.
    fn receive(&mut self) -> anyhow::Result<()> {
        loop {
            let now = Instant::now();
            let count = self.read_batch(now)?;
            self.tick_due(Instant::now())?;
            if count < REF_BATCH {
                return Ok(());
            }
        }
    }

    /// One `recvmmsg`: its datagrams into the rooms; how many were read.
    fn read_batch(&mut self, now: Instant) -> anyhow::Result<usize> {
        let Self {
            socket,
            rooms,
            by_source,
            by_ssrc,
            deadlines,
            recv_headers,
            recv_buffers,
            ..
        } = self;
        receive_batch(
            socket.as_raw_fd(),
            recv_headers,
            recv_buffers,
            |message, data| {
                let (Some(from), Ok(packet)) = (message.address, rtp::parse(data)) else {
                    return;
                };
                let from = SocketAddrV4::new(from.ip(), from.port());
                let (room, key) = *by_ssrc
                    .entry(packet.ssrc)
                    .or_insert_with(|| join(rooms, by_source, deadlines, now, from, packet.ssrc));
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

    /// Mixes every room due and sends each leg its frame.
    fn tick_due(&mut self, now: Instant) -> anyhow::Result<()> {
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
                    if len == datagram.len() {
                        self.out.push(datagram);
                        self.out_to.push(Some(leg.to));
                    }
                    if self.out.len() == REF_BATCH {
                        flush(
                            &self.socket,
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
            &self.socket,
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
