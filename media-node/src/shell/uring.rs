//! The RTP ports on io_uring: the media loop's fast path (issue #17), and the
//! only module of the crate with `unsafe` code (the kernel writes into memory
//! it is lent, and reads the datagrams sent until their completions).
//!
//! - **Receiving**: each port's socket has one multishot `recvmsg` in flight
//!   that takes its buffers from a ring of provided buffers the kernel picks
//!   from ([`Sizes::NODE`]'s buffers of [`BUFFER_LEN`] bytes, ring-mapped with
//!   `IORING_REGISTER_PBUF_RING`); every datagram is one completion naming its
//!   buffer, which goes back to the ring once the node has read it. A multishot
//!   receive the kernel ends (no buffer left, an error) is armed again.
//! - **Sending**: each datagram the node sends is copied into a send slot (its
//!   bytes and address, stable in memory until its completion) and queued as a
//!   `send` with its destination (no `msghdr` for the kernel to copy and
//!   check); the loop submits everything queued once before it
//!   waits ([`UringPorts::submit`]), so a room's frames for all its callers'
//!   sockets go in one system call (`sendmmsg` batches one socket only).
//! - **Registered files**: each port's socket has a slot in the ring's table
//!   of files, and its entries name the slot, not the descriptor: the kernel
//!   does not look the descriptor up (`fget`) at each send.
//! - The loop's `epoll` watches the ring's file descriptor: it is readable
//!   while completions wait.
//!
//! What is `unsafe` here and why it holds is said at each block; the
//! bookkeeping (the ring's tail, the send slots) is plain code with its tests.

#![allow(unsafe_code)]

use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use io_uring::{IoUring, cqueue, opcode, squeue, types};
use nix::sys::eventfd::{EfdFlags, EventFd};
use nix::sys::resource::{Resource, getrlimit};
use nix::sys::socket::{SockaddrLike, SockaddrStorage};
use rustc_hash::FxHashMap;

/// The ring's sizes.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    /// Submission queue entries (a full queue is submitted and filled again).
    sq: u32,
    /// Completion queue entries: room for the completions of a loop that fell
    /// behind (every datagram received and every one sent is one). The kernel
    /// keeps what overflows, ends the multishot receives it cannot report, and
    /// hands the rest over at the next submission.
    cq: u32,
    /// Provided receive buffers (a power of two, as the ring wants): while
    /// they are all lent, receives end and wait for them.
    buffers: u16,
}

impl Sizes {
    const NODE: Self = Self {
        sq: 1024,
        // The most the kernel takes: 0.3 s of 4,000 callers' traffic both ways.
        cq: 65_536,
        // 80 ms of 4,000 callers' receives (16 MiB): a loop that far behind
        // its traffic leaves the rest in the sockets.
        buffers: 16_384,
    };
}

/// Longest a receive ended for want of a buffer waits to be armed again
/// while the buffers handed back are fewer than the receives waiting.
const STARVING_WAIT: Duration = Duration::from_millis(20);
/// Bytes of one receive buffer: the kernel's `io_uring_recvmsg_out` header,
/// the sender's address, then the datagram (a 20 ms G.711 frame is 172 bytes).
const BUFFER_LEN: usize = 1024;
/// The provided buffers' group id.
const GROUP: u16 = 0;
/// Largest datagram sent (the node's are 172 bytes).
const SEND_MAX: usize = 512;
/// The most registered files (the kernel's own bound is 2^20).
const MAX_FILES: u32 = 65_536;
/// What a completion is for: the top byte of its user data.
const KIND_SHIFT: u32 = 56;
const SEND: u64 = 1;
const RECV: u64 = 2;
const CANCEL: u64 = 3;

/// The buffer ring's tail as user space advances it: where the next buffer
/// handed back is written, and the value to publish to the kernel.
#[derive(Debug)]
struct RingTail {
    tail: u16,
    mask: u16,
}

impl RingTail {
    /// A ring of `entries` (a power of two) with nothing in it.
    fn new(entries: u16) -> Self {
        debug_assert!(entries.is_power_of_two());
        Self {
            tail: 0,
            mask: entries - 1,
        }
    }

    /// The entry to write the next buffer into; the tail moves past it.
    fn push(&mut self) -> usize {
        let slot = usize::from(self.tail & self.mask);
        self.tail = self.tail.wrapping_add(1);
        slot
    }

    /// The tail to publish once the entries pushed are written.
    fn tail(&self) -> u16 {
        self.tail
    }
}

/// The send slots' bookkeeping: which are free, which are lent to the kernel
/// until their completion. More slots are made when all are in flight.
#[derive(Debug, Default)]
struct SlotBook {
    free: Vec<u32>,
    made: u32,
}

impl SlotBook {
    /// A book of `count` slots made, all free: [`Self::take_made`] takes them.
    fn made(count: u32) -> Self {
        Self {
            free: (0..count).rev().collect(),
            made: count,
        }
    }

    /// A free slot of those made, if any is left.
    fn take_made(&mut self) -> Option<u32> {
        self.free.pop()
    }

    /// A free slot: `(index, true)` when it is a new one to make.
    fn take(&mut self) -> (u32, bool) {
        match self.free.pop() {
            Some(index) => (index, false),
            None => {
                self.made += 1;
                (self.made - 1, true)
            }
        }
    }

    /// The slot's send has completed: free again.
    fn give_back(&mut self, index: u32) {
        self.free.push(index);
    }

    /// Slots lent to the kernel.
    fn in_flight(&self) -> usize {
        self.made as usize - self.free.len()
    }
}

/// What one completion is for, from its user data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// A send slot's `send`.
    Send(u32),
    /// A port's multishot `recvmsg`, for the `generation`th socket bound there.
    Recv { port: u16, generation: u32 },
    /// The cancel of a released port's receive.
    Cancel,
}

impl Token {
    fn encode(self) -> u64 {
        match self {
            Token::Send(slot) => (SEND << KIND_SHIFT) | u64::from(slot),
            Token::Recv { port, generation } => {
                (RECV << KIND_SHIFT) | (u64::from(generation) << 16) | u64::from(port)
            }
            Token::Cancel => CANCEL << KIND_SHIFT,
        }
    }

    fn decode(data: u64) -> Option<Self> {
        let low = data & ((1 << KIND_SHIFT) - 1);
        match data >> KIND_SHIFT {
            SEND => u32::try_from(low).ok().map(Token::Send),
            RECV => Some(Token::Recv {
                port: (low & 0xFFFF) as u16,
                generation: u32::try_from(low >> 16).ok()?,
            }),
            CANCEL => Some(Token::Cancel),
            _ => None,
        }
    }
}

/// What is asked of a port's receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Control {
    /// Arm the multishot receive of the port's `generation`th socket.
    Arm { port: u16, generation: u32 },
    /// Cancel it.
    Cancel { port: u16, generation: u32 },
}

/// One datagram to send, kept where the kernel reads it until the send completes.
struct SendSlot {
    to: SockaddrStorage,
    bytes: [u8; SEND_MAX],
}

/// A bound port: its socket, its slot in the ring's registered files and the
/// generation of its receive.
struct Port {
    socket: UdpSocket,
    file: u32,
    generation: u32,
}

/// Memory lent to the kernel for the life of the ring: the provided buffers'
/// ring of entries and the buffers.
struct Lent {
    /// `count` ring entries, page-aligned.
    ring: *mut types::BufRingEntry,
    ring_layout: Layout,
    /// `count` × `BUFFER_LEN` bytes.
    buffers: *mut u8,
    buffers_layout: Layout,
    count: u16,
}

/// The RTP ports on io_uring. See the [module documentation](self).
pub(super) struct UringPorts {
    ip: IpAddr,
    ring: IoUring,
    /// Signalled by the kernel when work or completions wait for the loop.
    bell: EventFd,
    lent: Lent,
    tail: RingTail,
    /// The `msghdr` every multishot receive is armed with (its name length
    /// sets the room for the sender's address in each buffer).
    recv_header: Box<libc::msghdr>,
    ports: FxHashMap<u16, Port>,
    /// The registered files' slots: one per bound port.
    files: SlotBook,
    generations: u32,
    /// Boxed: the kernel holds a slot's address until its completion, while
    /// the vector may grow and move.
    #[expect(clippy::vec_box, reason = "each slot's address must not move")]
    slots: Vec<Box<SendSlot>>,
    book: SlotBook,
    /// Entries queued since the last submission.
    queued: usize,
    /// Completions taken from the queue, to handle once it is released.
    reaped: Vec<(u64, i32, u32)>,
    /// Datagrams dropped on sending: frames lost.
    unsent: u64,
    /// Receives the kernel ended for want of a buffer (armed again).
    starved: u64,
    /// The receives ended for want of a buffer, to arm again, oldest first:
    /// one per buffer handed back, all of them once the completions are all
    /// taken or after [`STARVING_WAIT`]. Armed at once, each would end again
    /// on the first datagram its socket holds while the others hold every
    /// buffer: a loop behind its traffic would spend its core arming
    /// receives that end at once. (An arm of a socket since closed is
    /// dropped when queued.)
    starving: VecDeque<Control>,
    /// Since when `starving` waits: its first entry, or the last receives
    /// armed out of it.
    starving_since: Instant,
    /// Arms and cancels that found the submission queue full: queued at the
    /// next [`Self::submit`], never dropped (a receive not armed again is a
    /// call that hears nothing until its RTP timeout hangs it up).
    deferred: Vec<Control>,
}

impl std::fmt::Debug for UringPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UringPorts")
            .field("ip", &self.ip)
            .field("ports", &self.ports.len())
            .field("sends_in_flight", &self.book.in_flight())
            .finish_non_exhaustive()
    }
}

impl UringPorts {
    /// A ring with its provided buffers registered, or why the kernel refused
    /// (io_uring disabled, too old for ring-mapped buffers or multishot
    /// `recvmsg`): the caller falls back to epoll.
    pub(super) fn new(ip: IpAddr) -> io::Result<Self> {
        Self::with_sizes(ip, Sizes::NODE)
    }

    fn with_sizes(ip: IpAddr, sizes: Sizes) -> io::Result<Self> {
        // The kernel's work for this ring (a datagram received into a buffer,
        // its completion posted) waits for the loop's next entry into the ring
        // instead of interrupting it at each datagram; the eventfd says there
        // is some.
        let ring = IoUring::builder()
            .setup_cqsize(sizes.cq)
            .setup_single_issuer()
            .setup_defer_taskrun()
            .setup_taskrun_flag()
            .build(sizes.sq)?;
        let bell = EventFd::from_flags(EfdFlags::EFD_NONBLOCK | EfdFlags::EFD_CLOEXEC)?;
        ring.submitter()
            .register_eventfd(bell.as_fd().as_raw_fd())?;
        let mut probe = io_uring::Probe::new();
        ring.submitter().register_probe(&mut probe)?;
        if !probe.is_supported(opcode::RecvMsgMulti::CODE)
            || !probe.is_supported(opcode::Send::CODE)
        {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "no recvmsg/send on this io_uring",
            ));
        }
        // A slot for every descriptor the process may open: a socket always finds one.
        let (files, _) = getrlimit(Resource::RLIMIT_NOFILE)?;
        let files = u32::try_from(files).unwrap_or(u32::MAX).min(MAX_FILES);
        ring.submitter().register_files_sparse(files)?;
        let lent = Lent::new(sizes.buffers)?;
        // SAFETY: `lent.ring` is a page-aligned, zeroed allocation of `lent.count`
        // entries that lives as long as `self` and is freed only after the ring
        // is closed (`Drop`); the kernel reads entries and writes nothing there
        // but the tail we own.
        unsafe {
            ring.submitter().register_buf_ring_with_flags(
                lent.ring as u64,
                lent.count,
                GROUP,
                0,
            )?;
        }
        // SAFETY: zeroed is a valid `msghdr` (null pointers, zero lengths).
        let mut recv_header: Box<libc::msghdr> = Box::new(unsafe { std::mem::zeroed() });
        recv_header.msg_namelen = std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t;
        let mut ports = Self {
            ip,
            ring,
            bell,
            lent,
            tail: RingTail::new(sizes.buffers),
            recv_header,
            ports: FxHashMap::default(),
            files: SlotBook::made(files),
            generations: 0,
            slots: Vec::new(),
            book: SlotBook::default(),
            queued: 0,
            reaped: Vec::new(),
            unsent: 0,
            starved: 0,
            starving: VecDeque::new(),
            starving_since: Instant::now(),
            deferred: Vec::new(),
        };
        for bid in 0..sizes.buffers {
            ports.provide(bid);
        }
        ports.publish_tail();
        Ok(ports)
    }

    /// The ring's eventfd, for the loop's epoll: readable once the kernel has
    /// work or completions for the loop ([`Self::complete`] takes them).
    pub(super) fn as_fd(&self) -> BorrowedFd<'_> {
        self.bell.as_fd()
    }

    /// Rings the eventfd: completions are left for the next turn of the loop.
    pub(super) fn ring_again(&self) {
        let _ = self.bell.write(1);
    }

    /// Binds `port` and arms its receive. A port that cannot be bound is
    /// logged: the call goes on without media from us, and its RTP timeout ends it.
    pub(super) fn bind(&mut self, port: u16) {
        self.release(port);
        let Some(socket) = super::rtp::bind(SocketAddr::new(self.ip, port)) else {
            return;
        };
        let Some(file) = self.files.take_made() else {
            tracing::error!(port, "RTP port cannot be bound: no registered file left");
            return;
        };
        if let Err(error) = self
            .ring
            .submitter()
            .register_files_update(file, &[socket.as_raw_fd()])
        {
            tracing::error!(port, %error, "RTP port cannot be registered with the io_uring");
            self.files.give_back(file);
            return;
        }
        self.generations = self.generations.wrapping_add(1);
        let generation = self.generations;
        self.ports.insert(
            port,
            Port {
                socket,
                file,
                generation,
            },
        );
        self.arm(port);
    }

    /// Closes `port`: its receive is cancelled. What is queued is submitted
    /// before its descriptor is closed, so no entry names a descriptor number
    /// that a socket bound next may get; the cancel's deferred work runs, so
    /// the kernel lets go of the socket and the port can be bound again.
    pub(super) fn release(&mut self, port: u16) {
        if let Some(old) = self.ports.remove(&port) {
            self.cancel(port, old.generation);
            self.submit();
            self.run_deferred();
            // The table lets go of the socket (requests in flight keep it
            // until they end); its slot serves the next port bound.
            if let Err(error) = self.ring.submitter().register_files_update(old.file, &[-1]) {
                tracing::warn!(port, %error, "io_uring: registered file not removed");
            } else {
                self.files.give_back(old.file);
            }
            drop(old.socket);
        }
    }

    /// Queues `bytes` from `port` to `to` (sent at the next [`Self::submit`]),
    /// or drops them (counted in [`Self::unsent`]).
    pub(super) fn send(&mut self, port: u16, to: SocketAddr, bytes: &[u8]) {
        let Some(file) = self.ports.get(&port).map(|p| p.file) else {
            return;
        };
        if bytes.len() > SEND_MAX {
            self.unsent += 1;
            return;
        }
        let (index, new) = self.book.take();
        if new {
            self.slots.push(Box::new(SendSlot {
                to: SockaddrStorage::from(to),
                bytes: [0; SEND_MAX],
            }));
        }
        let slot = &mut self.slots[index as usize];
        slot.to = SockaddrStorage::from(to);
        slot.bytes[..bytes.len()].copy_from_slice(bytes);
        let entry = opcode::Send::new(
            types::Fixed(file),
            slot.bytes.as_ptr(),
            bytes.len() as u32, // at most SEND_MAX
        )
        .dest_addr(slot.to.as_ptr())
        .dest_addr_len(slot.to.len())
        .build()
        .user_data(Token::Send(index).encode());
        self.push_send(&entry);
    }

    /// Submits everything queued: one system call for all the sends, arms and
    /// cancels since the last.
    pub(super) fn submit(&mut self) {
        self.arm_starving(0, false);
        self.queue_deferred();
        if self.queued == 0 {
            return;
        }
        match self.ring.submit() {
            Ok(_) => self.queued = 0,
            Err(error)
                if error.raw_os_error() == Some(libc::EBUSY)
                    || error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => tracing::warn!(%error, "io_uring submit"),
        }
    }

    /// Datagrams dropped on sending since the node started.
    pub(super) fn unsent(&self) -> u64 {
        self.unsent
    }

    /// Handles up to `limit` completions waiting: each datagram received goes
    /// to `deliver` (its port, sender and bytes), its buffer back to the ring;
    /// sends free their slots; ended receives are armed again. Returns how
    /// many completions were handled (`limit`: there may be more).
    pub(super) fn complete(
        &mut self,
        limit: usize,
        mut deliver: impl FnMut(u16, SocketAddr, &[u8]),
    ) -> usize {
        let _ = self.bell.read();
        let flags = self.ring.submission();
        let (taskrun, overflow) = (flags.taskrun(), flags.cq_overflow());
        drop(flags);
        if taskrun || overflow {
            // The kernel's deferred work (datagrams received) runs, and the
            // completions the queue had no room for come, at an entry into
            // the ring: now (submitting what waits too).
            self.queue_deferred();
            match self.ring.submit() {
                Ok(_) => self.queued = 0,
                Err(error) => tracing::debug!(%error, "io_uring: overflow not fetched yet"),
            }
        }
        self.reaped.clear();
        self.reaped.extend(
            self.ring
                .completion()
                .take(limit)
                .map(|cqe| (cqe.user_data(), cqe.result(), cqe.flags())),
        );
        let mut returned = 0usize;
        for index in 0..self.reaped.len() {
            let (data, result, flags) = self.reaped[index];
            match Token::decode(data) {
                Some(Token::Send(slot)) => {
                    if result < 0 {
                        self.unsent += 1;
                    }
                    self.book.give_back(slot);
                }
                Some(Token::Recv { port, generation }) => {
                    let current = self.is_current(port, generation);
                    let ended = current && !cqueue::more(flags);
                    let starved = result == -libc::ENOBUFS;
                    if let Some(bid) = cqueue::buffer_select(flags) {
                        if result >= 0 && current {
                            let len = usize::try_from(result).unwrap_or(0).min(BUFFER_LEN);
                            if let Some((from, payload)) = self.datagram(bid, len) {
                                deliver(port, from, payload);
                            }
                        }
                        self.provide(bid);
                        returned += 1;
                    } else if starved {
                        self.starved += 1;
                        if self.starved.is_power_of_two() {
                            tracing::warn!(
                                starved = self.starved,
                                "RTP receive buffers all in use: receives armed again once they are back"
                            );
                        }
                    }
                    if ended && starved {
                        if self.starving.is_empty() {
                            self.starving_since = Instant::now();
                        }
                        self.starving.push_back(Control::Arm { port, generation });
                    } else if ended {
                        self.arm(port);
                    }
                }
                Some(Token::Cancel) | None => {}
            }
        }
        // An ended receive is armed again at the next submission, after the
        // buffers of this batch are back: the buffers taken before it ended
        // came with completions ahead of its own, so they are back by then.
        if returned > 0 {
            self.publish_tail();
        }
        let taken = self.reaped.len();
        self.arm_starving(returned, taken < limit);
        taken
    }

    /// Arms again the receives that ended for want of a buffer: one per
    /// buffer `returned`, oldest first; all of them when the completions are
    /// all taken (`drained`: every buffer reported is back) or none was armed
    /// for [`STARVING_WAIT`].
    fn arm_starving(&mut self, returned: usize, drained: bool) {
        if self.starving.is_empty() {
            return;
        }
        let now = Instant::now();
        let count = if drained || now.duration_since(self.starving_since) >= STARVING_WAIT {
            self.starving.len()
        } else {
            returned.min(self.starving.len())
        };
        if count == 0 {
            return;
        }
        self.starving_since = now;
        // A port released meanwhile, or bound again (armed then), is not
        // armed: its arm names the socket it had.
        for _ in 0..count {
            if let Some(control) = self.starving.pop_front() {
                self.control(control);
            }
        }
    }

    /// Runs the kernel's work deferred to the loop (a cancelled receive let
    /// go of its socket, datagrams received): an entry into the ring.
    fn run_deferred(&mut self) {
        if self.ring.submission().taskrun()
            && let Err(error) = self.ring.submit()
        {
            tracing::debug!(%error, "io_uring: deferred work not run yet");
        }
    }

    /// Whether `port` is bound to its `generation`th socket still.
    fn is_current(&self, port: u16, generation: u32) -> bool {
        self.ports
            .get(&port)
            .is_some_and(|bound| bound.generation == generation)
    }

    /// The sender and payload of the datagram in buffer `bid` (`len` bytes
    /// written), or `None` when it was cut (larger than a buffer) or has no
    /// IP sender.
    fn datagram(&self, bid: u16, len: usize) -> Option<(SocketAddr, &[u8])> {
        // SAFETY: buffer `bid` lies inside the `buffers` allocation (`bid <
        // lent.count`, checked), the kernel wrote `len ≤ BUFFER_LEN` bytes into it
        // before posting the completion, and it is not in the ring (so the
        // kernel does not write it) until `provide(bid)`, after the borrow ends.
        let buffer = unsafe {
            if bid >= self.lent.count {
                return None;
            }
            std::slice::from_raw_parts(self.lent.buffers.add(usize::from(bid) * BUFFER_LEN), len)
        };
        let out = types::RecvMsgOut::parse(buffer, &self.recv_header).ok()?;
        if out.is_payload_truncated() || out.is_name_data_truncated() {
            return None;
        }
        let from = socket_addr(out.name_data())?;
        // The payload is the end of the buffer `out` was read from: the same
        // bytes, borrowed from the buffer rather than from `out`.
        let payload = out.payload_data();
        let start = payload.as_ptr().addr() - buffer.as_ptr().addr();
        Some((from, buffer.get(start..start + payload.len())?))
    }

    /// Puts buffer `bid` in the ring (seen by the kernel at the next
    /// [`Self::publish_tail`]).
    fn provide(&mut self, bid: u16) {
        let entry = self.tail.push();
        // SAFETY: `entry < lent.count` (the tail's mask), inside the ring
        // allocation; the kernel reads entries only up to the published tail,
        // which this one is beyond until `publish_tail`.
        unsafe {
            let entry = &mut *self.lent.ring.add(entry);
            entry.set_addr(self.lent.buffers.add(usize::from(bid) * BUFFER_LEN) as u64);
            entry.set_len(BUFFER_LEN as u32);
            entry.set_bid(bid);
        }
    }

    /// Shows the kernel the buffers provided since the last time.
    fn publish_tail(&mut self) {
        // SAFETY: the tail is the `resv` field of the ring's first entry, a
        // u16 inside the allocation, aligned, written by user space only; the
        // release store orders the entries written before it, as the kernel's
        // acquire load of the tail expects.
        unsafe {
            let tail = types::BufRingEntry::tail(self.lent.ring).cast_mut();
            AtomicU16::from_ptr(tail).store(self.tail.tail(), Ordering::Release);
        }
    }

    /// Arms `port`'s multishot receive.
    fn arm(&mut self, port: u16) {
        if let Some(bound) = self.ports.get(&port) {
            let generation = bound.generation;
            self.control(Control::Arm { port, generation });
        }
    }

    /// Cancels the receive of `port`'s `generation`th socket.
    fn cancel(&mut self, port: u16, generation: u32) {
        self.control(Control::Cancel { port, generation });
    }

    /// Queues `control` now, or at the next [`Self::submit`] when the
    /// submission queue is full (after those already waiting, in order).
    fn control(&mut self, control: Control) {
        if !self.deferred.is_empty() || !self.queue_control(control) {
            self.deferred.push(control);
        }
    }

    /// Queues the controls waiting for room, oldest first, as far as they fit.
    fn queue_deferred(&mut self) {
        let mut queued = 0;
        while let Some(&control) = self.deferred.get(queued) {
            if !self.queue_control(control) {
                break;
            }
            queued += 1;
        }
        self.deferred.drain(..queued);
    }

    /// Puts `control` in the submission queue (an arm of a socket since
    /// closed is dropped): false when the queue is full.
    fn queue_control(&mut self, control: Control) -> bool {
        let entry = match control {
            Control::Arm { port, generation } => {
                let Some(bound) = self
                    .ports
                    .get(&port)
                    .filter(|bound| bound.generation == generation)
                else {
                    return true;
                };
                opcode::RecvMsgMulti::new(
                    types::Fixed(bound.file),
                    &raw const *self.recv_header,
                    GROUP,
                )
                .build()
                .user_data(Token::Recv { port, generation }.encode())
            }
            Control::Cancel { port, generation } => {
                opcode::AsyncCancel::new(Token::Recv { port, generation }.encode())
                    .build()
                    .user_data(Token::Cancel.encode())
            }
        };
        // SAFETY: an arm points at the receive `msghdr` and the provided
        // buffers, which live as long as the ring; a cancel holds no pointer.
        if unsafe { self.ring.submission().push(&entry) }.is_ok() {
            self.queued += 1;
            true
        } else {
            false
        }
    }

    /// Queues a send, submitting what is queued first when the queue is
    /// full; a send that still finds no room is dropped and counted (late
    /// audio is no audio).
    fn push_send(&mut self, entry: &squeue::Entry) {
        for _ in 0..2 {
            // SAFETY: the send slot's bytes and address stay valid until its
            // completion: slots are boxed and freed only after.
            if unsafe { self.ring.submission().push(entry) }.is_ok() {
                self.queued += 1;
                return;
            }
            self.submit();
        }
        self.unsent += 1;
    }
}

impl Drop for UringPorts {
    fn drop(&mut self) {
        // The kernel may write into the provided buffers and read the send
        // slots until the ring is gone: close it first, and wait for its
        // requests to end, before the memory goes.
        for (_, port) in self.ports.drain() {
            drop(port.socket);
        }
        let cancel = opcode::AsyncCancel2::new(types::CancelBuilder::any())
            .build()
            .user_data(Token::Cancel.encode());
        // SAFETY: the cancel holds no pointer.
        let _ = unsafe { self.ring.submission().push(&cancel) };
        let _ = self.ring.submit_and_wait(1);
        if self.ring.submitter().unregister_buf_ring(GROUP).is_err() {
            // Still in use: leak the buffers rather than free memory the
            // kernel may write.
            self.lent.leak();
        }
    }
}

impl Lent {
    /// `count` buffers (a power of two) and their ring.
    fn new(count: u16) -> io::Result<Self> {
        let ring_layout = Layout::from_size_align(
            usize::from(count) * std::mem::size_of::<types::BufRingEntry>(),
            4096,
        )
        .map_err(io::Error::other)?;
        let buffers_layout = Layout::from_size_align(usize::from(count) * BUFFER_LEN, 64)
            .map_err(io::Error::other)?;
        // SAFETY: both layouts have a non-zero size.
        let (ring, buffers) = unsafe { (alloc_zeroed(ring_layout), alloc_zeroed(buffers_layout)) };
        if ring.is_null() || buffers.is_null() {
            return Err(io::Error::new(
                io::ErrorKind::OutOfMemory,
                "io_uring buffers",
            ));
        }
        Ok(Self {
            ring: ring.cast(),
            ring_layout,
            buffers,
            buffers_layout,
            count,
        })
    }

    fn leak(&mut self) {
        self.ring = std::ptr::null_mut();
        self.buffers = std::ptr::null_mut();
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        // SAFETY: allocated in `Lent::new` with these layouts, freed once; the
        // ring (declared before in `UringPorts`, so dropped first) no longer
        // uses them, or they were leaked (null).
        unsafe {
            if !self.ring.is_null() {
                dealloc(self.ring.cast(), self.ring_layout);
            }
            if !self.buffers.is_null() {
                dealloc(self.buffers, self.buffers_layout);
            }
        }
    }
}

/// A sender's address as the kernel wrote it (`sockaddr_in` or `sockaddr_in6`).
fn socket_addr(name: &[u8]) -> Option<SocketAddr> {
    let family = i32::from(u16::from_ne_bytes([*name.first()?, *name.get(1)?]));
    let port = u16::from_be_bytes([*name.get(2)?, *name.get(3)?]);
    match family {
        libc::AF_INET => {
            let ip: [u8; 4] = name.get(4..8)?.try_into().ok()?;
            Some(SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::from(ip), port)))
        }
        libc::AF_INET6 => {
            let ip: [u8; 16] = name.get(8..24)?.try_into().ok()?;
            let scope = u32::from_ne_bytes(name.get(24..28)?.try_into().ok()?);
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(ip),
                port,
                0,
                scope,
            )))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ring_tail_wraps_over_its_entries_and_over_u16() {
        let mut tail = RingTail::new(4);
        let slots: Vec<usize> = (0..6).map(|_| tail.push()).collect();
        assert_eq!(slots, [0, 1, 2, 3, 0, 1]);
        assert_eq!(tail.tail(), 6);
        let mut tail = RingTail {
            tail: u16::MAX,
            mask: 3,
        };
        assert_eq!(tail.push(), 3);
        assert_eq!(
            tail.tail(),
            0,
            "the published tail wraps as the kernel's head does"
        );
        assert_eq!(tail.push(), 0);
    }

    #[test]
    fn send_slots_are_reused_once_completed_and_made_when_all_are_in_flight() {
        let mut book = SlotBook::default();
        assert_eq!(book.take(), (0, true));
        assert_eq!(book.take(), (1, true));
        assert_eq!(book.in_flight(), 2);
        book.give_back(0);
        assert_eq!(book.take(), (0, false), "a completed slot serves again");
        assert_eq!(book.take(), (2, true));
        assert_eq!(book.in_flight(), 3);
    }

    #[test]
    fn a_book_of_slots_made_at_once_runs_out_and_fills_again() {
        let mut book = SlotBook::made(2);
        assert_eq!(book.take_made(), Some(0));
        assert_eq!(book.take_made(), Some(1));
        assert_eq!(book.take_made(), None, "no slot beyond those made");
        book.give_back(0);
        assert_eq!(book.take_made(), Some(0));
    }

    #[test]
    fn a_bound_port_holds_a_registered_file_until_released() {
        let Some(mut ports) = ring(Sizes::NODE) else {
            return;
        };
        let free = ports.files.free.len();
        let (port, _peer) = bound_with_peer(&mut ports);
        assert_eq!(ports.files.free.len(), free - 1);
        ports.bind(port);
        assert_eq!(
            ports.files.free.len(),
            free - 1,
            "bound again: one slot still"
        );
        ports.release(port);
        assert_eq!(ports.files.free.len(), free, "its slot back");
    }

    #[test]
    fn a_completion_s_user_data_says_what_it_is_for() {
        for token in [
            Token::Send(0),
            Token::Send(u32::MAX),
            Token::Recv {
                port: 20_000,
                generation: 7,
            },
            Token::Recv {
                port: u16::MAX,
                generation: u32::MAX,
            },
            Token::Cancel,
        ] {
            assert_eq!(Token::decode(token.encode()), Some(token));
        }
        assert_eq!(Token::decode(0), None);
    }

    #[test]
    fn a_sender_s_address_is_read_as_the_kernel_writes_it() {
        let v4 = SockaddrStorage::from("192.0.2.7:4000".parse::<SocketAddr>().unwrap());
        // SAFETY (test): the storage's bytes, its length long.
        let bytes =
            unsafe { std::slice::from_raw_parts(v4.as_ptr().cast::<u8>(), v4.len() as usize) };
        assert_eq!(socket_addr(bytes), Some("192.0.2.7:4000".parse().unwrap()));
        let v6 = SockaddrStorage::from("[2001:db8::1]:5004".parse::<SocketAddr>().unwrap());
        // SAFETY (test): the storage's bytes, its length long.
        let bytes =
            unsafe { std::slice::from_raw_parts(v6.as_ptr().cast::<u8>(), v6.len() as usize) };
        assert_eq!(
            socket_addr(bytes),
            Some("[2001:db8::1]:5004".parse().unwrap())
        );
        assert_eq!(socket_addr(&[0; 3]), None);
    }

    /// Receives until one datagram came, through the ring.
    fn receive_one(ports: &mut UringPorts) -> Vec<(u16, SocketAddr, Vec<u8>)> {
        let mut got = Vec::new();
        while got.is_empty() {
            ports.ring.submit_and_wait(1).unwrap();
            ports.complete(64, |at, from, bytes| got.push((at, from, bytes.to_vec())));
        }
        got
    }

    /// Everything the ring delivers until `want` datagrams came or 2 s passed.
    fn receive_until(ports: &mut UringPorts, want: usize) -> Vec<(u16, Vec<u8>)> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        let wait = types::Timespec::new().nsec(20_000_000);
        let mut got = Vec::new();
        while got.len() < want && std::time::Instant::now() < deadline {
            ports.submit();
            let args = types::SubmitArgs::new().timespec(&wait);
            let _ = ports.ring.submitter().submit_with_args(1, &args);
            ports.complete(64, |at, _, bytes| got.push((at, bytes.to_vec())));
        }
        got
    }

    /// A ring of `sizes`, or `None` where io_uring is refused (the epoll
    /// path serves there: nothing to test).
    fn ring(sizes: Sizes) -> Option<UringPorts> {
        let ports = UringPorts::with_sizes(IpAddr::V4(Ipv4Addr::LOCALHOST), sizes);
        if let Err(error) = &ports {
            eprintln!("io_uring refused here ({error}): nothing to test");
        }
        ports.ok()
    }

    /// A ring of `sizes` with `count` ports bound, each receive submitted as
    /// it is armed (a small submission queue takes one at a time).
    fn ring_with_ports(sizes: Sizes, count: usize) -> Option<(UringPorts, Vec<u16>)> {
        let mut ports = ring(sizes)?;
        let bound = free_ports(count);
        for &port in &bound {
            ports.bind(port);
            ports.submit();
        }
        Some((ports, bound))
    }

    /// A port bound on `ports`, its receive submitted, and a peer to send from.
    fn bound_with_peer(ports: &mut UringPorts) -> (u16, UdpSocket) {
        let port = free_port();
        ports.bind(port);
        ports.submit();
        (port, UdpSocket::bind("127.0.0.1:0").unwrap())
    }

    fn free_port() -> u16 {
        free_ports(1)[0]
    }

    /// `count` distinct free ports: their probes are held together, so the
    /// kernel cannot hand the same port out twice.
    fn free_ports(count: usize) -> Vec<u16> {
        let probes: Vec<UdpSocket> = (0..count)
            .map(|_| UdpSocket::bind("127.0.0.1:0").unwrap())
            .collect();
        probes
            .iter()
            .map(|probe| probe.local_addr().unwrap().port())
            .collect()
    }

    #[test]
    fn a_port_released_and_bound_again_at_once_receives_on_its_new_socket() {
        let Some(mut ports) = ring(Sizes::NODE) else {
            return;
        };
        let (port, peer) = bound_with_peer(&mut ports);
        ports.release(port);
        ports.bind(port);
        ports.submit();
        assert!(ports.ports.contains_key(&port), "bound again");
        peer.send_to(b"again", ("127.0.0.1", port)).unwrap();
        assert_eq!(
            receive_one(&mut ports),
            [(port, peer.local_addr().unwrap(), b"again".to_vec())]
        );
    }

    /// The loop sleeps in `epoll_wait` on the eventfd: a datagram must ring it,
    /// and [`UringPorts::complete`] alone (no wait on the ring) must deliver it.
    #[test]
    fn a_datagram_waiting_rings_the_eventfd_and_is_delivered_by_complete() {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        let Some(mut ports) = ring(Sizes::NODE) else {
            return;
        };
        let (port, peer) = bound_with_peer(&mut ports);
        peer.send_to(b"ring", ("127.0.0.1", port)).unwrap();
        let mut got = Vec::new();
        for _ in 0..3 {
            let mut fds = [PollFd::new(ports.as_fd(), PollFlags::POLLIN)];
            let ready = poll(&mut fds, PollTimeout::from(2000u16)).unwrap();
            assert_eq!(ready, 1, "the eventfd rang");
            ports.complete(64, |at, _, bytes| got.push((at, bytes.to_vec())));
            if !got.is_empty() {
                break;
            }
        }
        assert_eq!(got, [(port, b"ring".to_vec())]);
    }

    #[test]
    fn a_receive_ended_for_want_of_buffers_is_armed_again() {
        let sizes = Sizes {
            sq: 8,
            cq: 64,
            buffers: 4,
        };
        let Some(mut ports) = ring(sizes) else {
            return;
        };
        let (port, peer) = bound_with_peer(&mut ports);
        for n in 0..16u8 {
            peer.send_to(&[n], ("127.0.0.1", port)).unwrap();
        }
        let got = receive_until(&mut ports, 16);
        assert!(
            ports.starved > 0,
            "four buffers for sixteen datagrams ran out"
        );
        assert_eq!(
            got,
            (0..16u8).map(|n| (port, vec![n])).collect::<Vec<_>>(),
            "every datagram the socket kept came through, in order"
        );
    }

    /// Many sockets holding datagrams while every buffer is lent, a loop
    /// taking few completions a turn: the receives that ended wait for
    /// buffers and are armed again, and every datagram comes through.
    #[test]
    fn every_port_hears_all_its_datagrams_after_the_buffers_ran_out() {
        let sizes = Sizes {
            sq: 256,
            cq: 1024,
            buffers: 32,
        };
        let Some((mut ports, bound)) = ring_with_ports(sizes, 64) else {
            return;
        };
        let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
        for n in 0..4u8 {
            for &port in &bound {
                peer.send_to(&[n], ("127.0.0.1", port)).unwrap();
            }
        }
        let mut got = vec![Vec::new(); bound.len()];
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while got.iter().map(Vec::len).sum::<usize>() < 4 * bound.len()
            && std::time::Instant::now() < deadline
        {
            ports.submit();
            ports.complete(8, |at, _, bytes| {
                let index = bound.iter().position(|&port| port == at).unwrap();
                got[index].push(bytes[0]);
            });
        }
        assert!(ports.starved > 0, "32 buffers for 256 datagrams ran out");
        for (port, got) in bound.iter().zip(&got) {
            assert_eq!(got, &[0, 1, 2, 3], "port {port}: all, in order");
        }
    }

    /// A receive that ended for want of a buffer is armed again for a buffer
    /// handed back, oldest first; all of them once the completions are all
    /// taken, or after [`STARVING_WAIT`]; never a port released meanwhile.
    #[test]
    fn starved_receives_are_armed_again_as_buffers_come_back() {
        let Some(mut ports) = ring(Sizes::NODE) else {
            return;
        };
        ports.submit();
        let bound = free_ports(4);
        for &port in &bound {
            ports.bind(port);
        }
        ports.submit();
        let starve = |ports: &mut UringPorts, port: u16| {
            let generation = ports.ports[&port].generation;
            ports.starving.push_back(Control::Arm { port, generation });
        };
        for &port in &bound[..3] {
            starve(&mut ports, port);
        }
        ports.arm_starving(1, false);
        assert_eq!(ports.queued, 1, "one buffer back, one receive armed");
        assert_eq!(
            ports.starving.front(),
            Some(&Control::Arm {
                port: bound[1],
                generation: ports.ports[&bound[1]].generation
            }),
            "the oldest went first"
        );
        ports.arm_starving(0, false);
        assert_eq!(ports.queued, 1, "no buffer back, none armed");
        ports.release(bound[2]);
        ports.submit();
        ports.arm_starving(0, true);
        assert_eq!(ports.queued, 1, "drained: all armed, but the port released");
        assert!(ports.starving.is_empty());
        ports.submit();
        starve(&mut ports, bound[3]);
        ports.starving_since = Instant::now() - STARVING_WAIT;
        ports.arm_starving(0, false);
        assert_eq!(ports.queued, 1, "armed after the wait, no buffer back");
    }

    /// A loop that fell behind: more completions than the queue holds, and
    /// more receives to arm again than the submission queue takes at once.
    /// Every port still hears what is sent to it afterwards.
    #[test]
    fn every_port_hears_again_after_the_completion_queue_overflowed() {
        let sizes = Sizes {
            sq: 2,
            cq: 4,
            buffers: 64,
        };
        let Some((mut ports, bound)) = ring_with_ports(sizes, 8) else {
            return;
        };
        let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
        for _ in 0..6 {
            for &port in &bound {
                peer.send_to(b"burst", ("127.0.0.1", port)).unwrap();
            }
        }
        // The burst: whatever came of it (the sockets keep what the ring
        // could not take; nothing waits for it here).
        let _ = receive_until(&mut ports, 48);
        let _ = receive_until(&mut ports, usize::MAX);
        for &port in &bound {
            peer.send_to(b"after", ("127.0.0.1", port)).unwrap();
        }
        let mut heard: Vec<u16> = receive_until(&mut ports, usize::MAX)
            .into_iter()
            .filter(|(_, bytes)| bytes == b"after")
            .map(|(port, _)| port)
            .collect();
        heard.sort_unstable();
        let mut want = bound.clone();
        want.sort_unstable();
        assert_eq!(heard, want, "each port's receive is armed again");
    }

    /// The path end to end on this kernel: a datagram sent to a bound port is
    /// delivered with its sender, and one sent from it arrives. Skipped where
    /// io_uring is refused (the epoll path serves there).
    #[test]
    fn a_datagram_goes_through_the_ring_both_ways() {
        let Some(mut ports) = ring(Sizes::NODE) else {
            return;
        };
        let (port, peer) = bound_with_peer(&mut ports);
        peer.send_to(b"hello", ("127.0.0.1", port)).unwrap();
        assert_eq!(
            receive_one(&mut ports),
            [(port, peer.local_addr().unwrap(), b"hello".to_vec())]
        );
        ports.send(port, peer.local_addr().unwrap(), b"back");
        ports.submit();
        let mut buffer = [0; 16];
        peer.set_read_timeout(Some(std::time::Duration::from_secs(2)))
            .unwrap();
        let (len, from) = peer.recv_from(&mut buffer).unwrap();
        assert_eq!((&buffer[..len], from.port()), (&b"back"[..], port));
        while ports.book.in_flight() > 0 {
            ports.ring.submit_and_wait(1).unwrap();
            ports.complete(64, |_, _, _| {});
        }
        assert_eq!(ports.unsent(), 0);
        assert_eq!(ports.book.in_flight(), 0, "the send's slot is free again");
    }
}
