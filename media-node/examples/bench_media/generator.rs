//! The load generator: one thread playing every caller, SIP on one socket as a
//! trunk, RTP on one socket per conference with sendmmsg/recvmmsg.

use std::collections::{HashMap, VecDeque};
use std::f64::consts::TAU;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::os::fd::{AsFd, AsRawFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, ppoll};
use nix::sys::socket::{ControlMessageOwned, MultiHeaders, SockaddrIn, setsockopt, sockopt};
use nix::sys::time::TimeSpec;

use teleconf_domain::{CallerRole, Conference};
use teleconf_sip::sdp::Codec;

use crate::analysis::{Arrival, CallerRecord, Mix};
use crate::system::{pin_current_thread, realtime_ns, receive_batch, send_batch};
use crate::{BATCH, FRAME, GENERATOR_THREAD, PERIOD, RTP_HEADER, SOCKET_BUFFER};

/// What the main thread asks of the generator.
#[derive(Debug)]
pub(crate) enum Command {
    /// Call into these conferences, `size` callers each.
    Add(Vec<Dial>),
    /// Keep (or stop keeping) every frame received.
    Record(bool),
    /// Hand over what was kept.
    Take(mpsc::Sender<Harvest>),
    /// Hang up every call.
    HangUp,
    Stop,
}

/// The keys of a conference, and where its callers call (none against the
/// reference bridge: [`Dial::default`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct Dial {
    pub(crate) number_keys: String,
    pub(crate) code_keys: String,
    /// The node the second half of the callers (seats from `size.div_ceil(2)`,
    /// invited after the first half) call instead of the generator's node: a
    /// cascade. The talkers are in the first half.
    pub(crate) member: Option<SocketAddr>,
}

impl Dial {
    /// The participant's keys of `conference`.
    pub(crate) fn participant(conference: &Conference, member: Option<SocketAddr>) -> Self {
        Self {
            number_keys: format!("{}#", conference.number.as_str()),
            code_keys: format!(
                "{}#",
                conference.codes.code(CallerRole::Participant).as_str()
            ),
            member,
        }
    }
}

/// A talker's frame of silence in its tone, sent every [`MARKER_EVERY`] frames
/// by the first talker of each room (with [`GeneratorSetup::markers`]): the first
/// mix without it a listener receives times the mouth-to-ear delay.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Marker {
    pub(crate) room: usize,
    /// When it was sent (CLOCK_REALTIME), ns.
    pub(crate) t_ns: i64,
}

/// Frames between two markers (500 ms).
pub(crate) const MARKER_EVERY: u64 = 25;

/// What the generator kept of a window.
#[derive(Debug, Default)]
pub(crate) struct Harvest {
    pub(crate) callers: Vec<CallerRecord>,
    /// How late each room's frames were sent, µs.
    pub(crate) send_late_us: Vec<u32>,
    /// Periods the generator skipped (it fell behind by more than 3 frames).
    pub(crate) skipped_periods: u64,
    /// Its RTP sockets' local ports.
    pub(crate) ports: Vec<u16>,
    /// The markers sent.
    pub(crate) markers: Vec<Marker>,
}

/// Call counts, shared with the main thread.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    invited: AtomicUsize,
    /// Callers whose INVITE has no final answer yet: the node may still
    /// answer it.
    inviting: AtomicUsize,
    pub(crate) answered: AtomicUsize,
    pub(crate) keyed: AtomicUsize,
    /// Calls failed since the phase began ([`Progress::begin_phase`]).
    failed: AtomicUsize,
    /// Of them, new calls the node refused with 503 (past its core: load shed).
    shed: AtomicUsize,
    ended: AtomicUsize,
    /// The first reasons of the calls failed since the phase began.
    reasons: Mutex<Vec<String>>,
}

impl Progress {
    /// Calls up, or that the node may still answer (their INVITE unanswered).
    pub(crate) fn live(&self) -> usize {
        self.answered
            .load(Ordering::Relaxed)
            .saturating_sub(self.ended.load(Ordering::Relaxed))
            + self.inviting.load(Ordering::Relaxed)
    }

    /// A new phase of calls (the cascade bench's second): the failures are
    /// counted from zero again.
    pub(crate) fn begin_phase(&self) {
        if let Ok(mut reasons) = self.reasons.lock() {
            reasons.clear();
            self.failed.store(0, Ordering::Relaxed);
            self.shed.store(0, Ordering::Relaxed);
        }
    }

    /// Calls failed since the phase began.
    pub(crate) fn failed(&self) -> usize {
        self.failed.load(Ordering::Relaxed)
    }

    /// New calls refused with 503 since the phase began.
    pub(crate) fn shed(&self) -> usize {
        self.shed.load(Ordering::Relaxed)
    }

    /// The first reasons of the calls failed since the phase began.
    pub(crate) fn reasons(&self) -> String {
        self.reasons
            .lock()
            .map(|r| r.join("; "))
            .unwrap_or_default()
    }

    fn fail(&self, reason: String) {
        if let Ok(mut reasons) = self.reasons.lock() {
            self.failed.fetch_add(1, Ordering::Relaxed);
            if reasons.len() < 5 {
                reasons.push(reason);
            }
        }
    }
}

/// Where the reference bridge takes its callers' streams.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bridge {
    /// Its first (or only) socket.
    pub(crate) addr: SocketAddrV4,
    /// Whether each caller has a socket of its own: caller `i` streams to the
    /// `i`th port after `addr`'s.
    pub(crate) port_per_caller: bool,
}

impl Bridge {
    /// Where caller `index` streams to.
    fn for_caller(self, index: usize) -> SocketAddrV4 {
        if !self.port_per_caller {
            return self.addr;
        }
        let port = u16::try_from(index)
            .ok()
            .and_then(|index| self.addr.port().checked_add(index))
            .expect("the bridge binds a port for every caller");
        SocketAddrV4::new(*self.addr.ip(), port)
    }
}

pub(crate) struct GeneratorSetup {
    pub(crate) node_sip: SocketAddr,
    /// The reference bridge to stream to instead of calling the node: every
    /// caller streams to it from the start, without SIP.
    pub(crate) bridge: Option<Bridge>,
    pub(crate) access: String,
    pub(crate) size: usize,
    pub(crate) talkers: usize,
    /// Conferences the 20 ms period is shared among (their sends are spread).
    pub(crate) slots: usize,
    pub(crate) join_rate: f64,
    /// The first talker of each room sends a [`Marker`] every [`MARKER_EVERY`] frames.
    pub(crate) markers: bool,
    pub(crate) cpus: Option<Vec<usize>>,
    pub(crate) progress: Arc<Progress>,
}

/// The generator's thread.
pub(crate) struct GeneratorHandle {
    commands: mpsc::Sender<Command>,
    thread: std::thread::JoinHandle<anyhow::Result<()>>,
}

impl GeneratorHandle {
    pub(crate) fn spawn(setup: GeneratorSetup) -> anyhow::Result<Self> {
        let (commands, inbox) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(GENERATOR_THREAD.into())
            .spawn(move || {
                if let Some(cpus) = &setup.cpus {
                    pin_current_thread(cpus)?;
                }
                Generator::new(setup)?.run(&inbox)
            })?;
        Ok(Self { commands, thread })
    }

    pub(crate) fn send(&self, command: Command) -> anyhow::Result<()> {
        self.commands
            .send(command)
            .map_err(|_| anyhow::anyhow!("the generator stopped"))
    }

    pub(crate) fn take(&self) -> anyhow::Result<Harvest> {
        let (reply, harvest) = mpsc::channel();
        self.send(Command::Take(reply))?;
        harvest
            .recv_timeout(Duration::from_secs(10))
            .context("the generator's harvest")
    }

    /// Hangs up every call and waits until the node answered every BYE.
    pub(crate) fn hang_up(&self, progress: &Progress) -> anyhow::Result<()> {
        self.send(Command::HangUp)?;
        let deadline = Instant::now() + Duration::from_secs(20);
        while progress.live() > 0 {
            if Instant::now() > deadline {
                anyhow::bail!("{} calls still up 20 s after the hang-up", progress.live());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }

    pub(crate) fn stop(self) {
        let _ = self.commands.send(Command::Stop);
        match self.thread.join() {
            Ok(Ok(())) => {}
            Ok(Err(error)) => eprintln!("bench_media: the generator failed: {error:#}"),
            Err(_) => eprintln!("bench_media: the generator panicked"),
        }
    }
}

/// The payloads callers send, and what they expect back.
struct Frames {
    tone: [u8; FRAME],
    silence: [u8; FRAME],
    /// The mix of every talker.
    full: Vec<u8>,
    /// The mix of every talker but one.
    minus_one: Vec<u8>,
}

impl Frames {
    fn new(talkers: usize) -> Self {
        // 400 Hz at 8 kHz: 8 whole periods per frame, so every frame is the same.
        let pcm: Vec<i16> = (0..FRAME)
            .map(|i| (3000.0 * (TAU * 400.0 * i as f64 / 8000.0).sin()).round() as i16)
            .collect();
        let encode = |samples: &[i16]| {
            let mut out = Vec::with_capacity(FRAME);
            Codec::Pcmu.encode(samples, &mut out);
            out
        };
        let tone = encode(&pcm);
        let mut heard = Vec::with_capacity(FRAME);
        Codec::Pcmu.decode(&tone, &mut heard);
        let times = |n: usize| -> Vec<i16> {
            heard
                .iter()
                .map(|&s| (i32::from(s) * n as i32).clamp(i16::MIN.into(), i16::MAX.into()) as i16)
                .collect()
        };
        let mut frames = Self {
            tone: [0; FRAME],
            silence: [0; FRAME],
            full: encode(&times(talkers)),
            minus_one: encode(&times(talkers.saturating_sub(1))),
        };
        frames.tone.copy_from_slice(&tone);
        frames.silence.copy_from_slice(&encode(&[0; FRAME]));
        frames
    }

    fn classify(&self, payload: &[u8]) -> Mix {
        if payload == self.full.as_slice() {
            Mix::Full
        } else if payload == self.minus_one.as_slice() {
            Mix::MinusOne
        } else {
            Mix::Other
        }
    }
}

/// Where a call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CallState {
    Queued,
    Inviting,
    /// Answered: streaming, keys being sent.
    Keying,
    /// Every key acknowledged: streaming.
    Keyed,
    /// Our BYE is out.
    Leaving,
    Ended,
}

/// A request waiting for its final response (retransmitted until then).
struct Pending {
    message: String,
    sent: Instant,
    tries: u32,
}

/// One simulated caller.
struct Caller {
    room: usize,
    talker: bool,
    /// The node it calls.
    node: SocketAddr,
    /// That node is the room's [`Dial::member`].
    member: bool,
    call_id: String,
    tag: String,
    caller_id: String,
    cseq: u32,
    remote_tag: Option<String>,
    /// The Request-URI of in-dialog requests (the node's Contact).
    target: String,
    state: CallState,
    keys: Vec<char>,
    next_key: usize,
    /// The node's RTP address for this call, from its SDP answer.
    media: Option<SocketAddrV4>,
    seq: u16,
    ts: u32,
    ssrc: u32,
    pending: Option<Pending>,
    arrivals: Vec<Arrival>,
}

/// One conference's RTP socket.
struct RoomLink {
    socket: UdpSocket,
    port: u16,
    callers: Vec<usize>,
    next_send: Instant,
    /// Frames sent so far (the period's count).
    frames_sent: u64,
}

/// A datagram read from an RTP socket.
struct Received {
    port: u16,
    ssrc: u32,
    t_ns: i64,
    seq: u16,
    mix: Mix,
}

struct Generator {
    node_sip: SocketAddr,
    bridge: Option<Bridge>,
    /// Caller by SSRC, against the reference bridge.
    by_ssrc: HashMap<u32, usize>,
    access: String,
    size: usize,
    talkers: usize,
    sip: UdpSocket,
    sip_local: SocketAddr,
    rooms: Vec<RoomLink>,
    callers: Vec<Caller>,
    by_call_id: HashMap<String, usize>,
    /// Caller by the node's RTP port (`u32::MAX`: none).
    by_node_port: Vec<u32>,
    to_invite: VecDeque<usize>,
    next_invite: Instant,
    invite_gap: Duration,
    to_hang_up: VecDeque<usize>,
    /// The callers told to hang up: those before this index (callers are
    /// only appended). One of them answered from then on is hung up at once
    /// (its INVITE went before, and the node answered it after); the callers
    /// added since (a cascade's second phase) are not.
    hung_up_below: usize,
    next_retransmit_check: Instant,
    recording: bool,
    markers: bool,
    sent_markers: Vec<Marker>,
    send_late_us: Vec<u32>,
    skipped_periods: u64,
    frames: Frames,
    epoch: Instant,
    slots: usize,
    progress: Arc<Progress>,
    send_headers: MultiHeaders<SockaddrIn>,
    recv_headers: MultiHeaders<SockaddrIn>,
    recv_buffers: Vec<[u8; 512]>,
    received: Vec<Received>,
}

impl Generator {
    fn new(setup: GeneratorSetup) -> anyhow::Result<Self> {
        let sip = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
        sip.set_nonblocking(true)?;
        setsockopt(&sip, sockopt::RcvBuf, &SOCKET_BUFFER)?;
        let sip_local = sip.local_addr()?;
        Ok(Self {
            node_sip: setup.node_sip,
            bridge: setup.bridge,
            by_ssrc: HashMap::new(),
            access: setup.access,
            size: setup.size,
            talkers: setup.talkers,
            sip,
            sip_local,
            rooms: Vec::new(),
            callers: Vec::new(),
            by_call_id: HashMap::new(),
            by_node_port: vec![u32::MAX; usize::from(u16::MAX) + 1],
            to_invite: VecDeque::new(),
            next_invite: Instant::now(),
            invite_gap: Duration::from_secs_f64(1.0 / setup.join_rate),
            to_hang_up: VecDeque::new(),
            hung_up_below: 0,
            next_retransmit_check: Instant::now(),
            recording: false,
            markers: setup.markers,
            sent_markers: Vec::new(),
            send_late_us: Vec::new(),
            skipped_periods: 0,
            frames: Frames::new(setup.talkers),
            epoch: Instant::now(),
            slots: setup.slots,
            progress: setup.progress,
            send_headers: MultiHeaders::preallocate(BATCH, None),
            recv_headers: MultiHeaders::preallocate(BATCH, Some(nix::cmsg_space!(TimeSpec))),
            recv_buffers: vec![[0; 512]; BATCH],
            received: Vec::with_capacity(BATCH),
        })
    }

    fn run(mut self, inbox: &mpsc::Receiver<Command>) -> anyhow::Result<()> {
        loop {
            loop {
                match inbox.try_recv() {
                    Ok(Command::Stop) | Err(mpsc::TryRecvError::Disconnected) => return Ok(()),
                    Ok(command) => self.obey(command)?,
                    Err(mpsc::TryRecvError::Empty) => break,
                }
            }
            let now = Instant::now();
            self.place_calls(now);
            self.send_due_rtp(now)?;
            if now >= self.next_retransmit_check {
                self.retransmit(now);
                self.next_retransmit_check = now + Duration::from_millis(100);
            }
            let next_rtp = self.rooms.iter().map(|room| room.next_send).min();
            let mut wake = now + Duration::from_millis(5);
            if let Some(next) = next_rtp {
                wake = wake.min(next);
            }
            if !self.to_invite.is_empty() || !self.to_hang_up.is_empty() {
                wake = wake.min(self.next_invite);
            }
            let ready = self.wait(wake.saturating_duration_since(Instant::now()))?;
            for index in ready {
                if index == 0 {
                    self.drain_sip();
                } else {
                    self.drain_rtp(index - 1)?;
                }
            }
        }
    }

    fn obey(&mut self, command: Command) -> anyhow::Result<()> {
        match command {
            Command::Add(dials) => {
                for dial in dials {
                    self.add_room(&dial)?;
                }
            }
            Command::Record(on) => {
                self.recording = on;
                if on {
                    self.send_late_us.clear();
                    self.sent_markers.clear();
                    self.skipped_periods = 0;
                }
            }
            Command::Take(reply) => {
                let callers = self
                    .callers
                    .iter_mut()
                    .map(|caller| CallerRecord {
                        room: caller.room,
                        talker: caller.talker,
                        member: caller.member,
                        arrivals: std::mem::take(&mut caller.arrivals),
                    })
                    .collect();
                let _ = reply.send(Harvest {
                    callers,
                    send_late_us: std::mem::take(&mut self.send_late_us),
                    skipped_periods: self.skipped_periods,
                    ports: self.rooms.iter().map(|room| room.port).collect(),
                    markers: std::mem::take(&mut self.sent_markers),
                });
            }
            Command::HangUp if self.bridge.is_some() => {
                for caller in &mut self.callers {
                    if caller.state == CallState::Keyed {
                        caller.state = CallState::Ended;
                        self.progress.ended.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            Command::HangUp => {
                self.hung_up_below = self.callers.len();
                self.to_invite.clear();
                self.to_hang_up = (0..self.callers.len())
                    .filter(|&i| {
                        matches!(self.callers[i].state, CallState::Keying | CallState::Keyed)
                    })
                    .collect();
            }
            Command::Stop => {}
        }
        Ok(())
    }

    fn add_room(&mut self, dial: &Dial) -> anyhow::Result<()> {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
        socket.set_nonblocking(true)?;
        setsockopt(&socket, sockopt::RcvBuf, &SOCKET_BUFFER)?;
        setsockopt(&socket, sockopt::ReceiveTimestampns, &true)?;
        let port = socket.local_addr()?.port();
        let room = self.rooms.len();
        // The rooms' sends are spread over the period, as callers' phases are.
        let phase =
            self.epoch + PERIOD * u32::try_from(room % self.slots)? / u32::try_from(self.slots)?;
        let now = Instant::now();
        let periods = now.saturating_duration_since(phase).as_nanos() / PERIOD.as_nanos() + 1;
        let next_send = phase + PERIOD * u32::try_from(periods)?;
        let keys: Vec<char> = dial
            .number_keys
            .chars()
            .chain(dial.code_keys.chars())
            .collect();
        let mut callers = Vec::with_capacity(self.size);
        for seat in 0..self.size {
            let index = self.callers.len();
            let (node, member) = match dial.member {
                Some(member) if seat >= self.size.div_ceil(2) => (member, true),
                _ => (self.node_sip, false),
            };
            let call_id = format!("bench-{index}@127.0.0.1");
            self.by_call_id.insert(call_id.clone(), index);
            self.callers.push(Caller {
                room,
                talker: seat < self.talkers,
                node,
                member,
                call_id,
                tag: format!("{index:08x}"),
                caller_id: format!("+1514{:07}", index % 10_000_000),
                cseq: 0,
                remote_tag: None,
                target: format!("sip:{}@{node}", self.access),
                state: CallState::Queued,
                keys: keys.clone(),
                next_key: 0,
                media: None,
                seq: (index as u16).wrapping_mul(7919),
                ts: (index as u32).wrapping_mul(104_729),
                ssrc: 0x5eed_0000 ^ index as u32,
                pending: None,
                arrivals: Vec::new(),
            });
            callers.push(index);
            if let Some(bridge) = self.bridge {
                // The reference bridge needs no call: the caller streams at once.
                let caller = &mut self.callers[index];
                caller.media = Some(bridge.for_caller(index));
                caller.state = CallState::Keyed;
                self.by_ssrc.insert(caller.ssrc, index);
                self.progress.answered.fetch_add(1, Ordering::Relaxed);
                self.progress.keyed.fetch_add(1, Ordering::Relaxed);
            } else {
                self.to_invite.push_back(index);
            }
        }
        self.rooms.push(RoomLink {
            socket,
            port,
            callers,
            next_send,
            frames_sent: 0,
        });
        Ok(())
    }

    // ---- SIP --------------------------------------------------------------------------

    /// A request of `caller`'s dialog (a new CSeq, but for ACK).
    fn request(&mut self, index: usize, method: &str, extra: &str, body: &str) -> String {
        let local = self.sip_local;
        let caller = &mut self.callers[index];
        let node = caller.node;
        if method != "ACK" {
            caller.cseq += 1;
        }
        let to_tag = caller
            .remote_tag
            .as_ref()
            .map(|tag| format!(";tag={tag}"))
            .unwrap_or_default();
        let uri = if method == "INVITE" {
            format!("sip:{}@{node}", self.access)
        } else {
            caller.target.clone()
        };
        format!(
            "{method} {uri} SIP/2.0\r\n\
             Via: SIP/2.0/UDP {local};branch=z9hG4bK-{index}-{}{}\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:{}@{local}>;tag={}\r\n\
             To: <sip:{}@{node}>{to_tag}\r\n\
             Call-ID: {}\r\n\
             CSeq: {} {method}\r\n\
             Contact: <sip:bench@{local}>\r\n\
             {extra}Content-Length: {}\r\n\r\n{body}",
            caller.cseq,
            if method == "ACK" { "-ack" } else { "" },
            caller.caller_id,
            caller.tag,
            self.access,
            caller.call_id,
            caller.cseq,
            body.len(),
        )
    }

    /// Sends `message` to the node `index` calls.
    fn send_sip(&self, index: usize, message: &str) {
        let node = self.callers[index].node;
        if let Err(error) = self.sip.send_to(message.as_bytes(), node) {
            eprintln!("bench_media: SIP send failed: {error}");
        }
    }

    /// Sends a request that waits for a final response.
    fn send_pending(&mut self, index: usize, message: String) {
        self.send_sip(index, &message);
        self.callers[index].pending = Some(Pending {
            message,
            sent: Instant::now(),
            tries: 1,
        });
    }

    fn place_calls(&mut self, now: Instant) {
        while now >= self.next_invite {
            if let Some(index) = self.to_invite.pop_front() {
                let port = self.rooms[self.callers[index].room].port;
                let sdp = format!(
                    "v=0\r\no=- {index} 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
                     m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n\
                     a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n"
                );
                let invite =
                    self.request(index, "INVITE", "Content-Type: application/sdp\r\n", &sdp);
                self.send_pending(index, invite);
                self.callers[index].state = CallState::Inviting;
                self.progress.invited.fetch_add(1, Ordering::Relaxed);
                self.progress.inviting.fetch_add(1, Ordering::Relaxed);
            } else if let Some(index) = self.to_hang_up.pop_front() {
                if matches!(
                    self.callers[index].state,
                    CallState::Keying | CallState::Keyed
                ) {
                    let bye = self.request(index, "BYE", "", "");
                    self.send_pending(index, bye);
                    self.callers[index].state = CallState::Leaving;
                }
            } else {
                self.next_invite = now;
                return;
            }
            // Hang-ups go four times faster than joins.
            let gap = if self.to_invite.is_empty() {
                self.invite_gap / 4
            } else {
                self.invite_gap
            };
            // After a pause, no burst: at most one call is caught up.
            let floor = now.checked_sub(gap).unwrap_or(now);
            self.next_invite = (self.next_invite + gap).max(floor);
        }
    }

    fn retransmit(&mut self, now: Instant) {
        for index in 0..self.callers.len() {
            let Some(pending) = &mut self.callers[index].pending else {
                continue;
            };
            if now < pending.sent + Duration::from_secs(1) * (1 << pending.tries.min(4)) {
                continue;
            }
            if pending.tries >= 5 {
                let state = self.callers[index].state;
                self.callers[index].pending = None;
                self.end(index);
                self.progress
                    .fail(format!("caller {index}: no answer in state {state:?}"));
                continue;
            }
            pending.tries += 1;
            pending.sent = now;
            let message = pending.message.clone();
            self.send_sip(index, &message);
        }
    }

    fn end(&mut self, index: usize) {
        let caller = &mut self.callers[index];
        if caller.state == CallState::Inviting {
            self.progress.inviting.fetch_sub(1, Ordering::Relaxed);
        }
        if caller.state != CallState::Ended {
            if matches!(
                caller.state,
                CallState::Keying | CallState::Keyed | CallState::Leaving
            ) {
                self.progress.ended.fetch_add(1, Ordering::Relaxed);
            }
            caller.state = CallState::Ended;
            caller.pending = None;
        }
    }

    fn drain_sip(&mut self) {
        let mut buffer = [0u8; 65_535];
        loop {
            match self.sip.recv_from(&mut buffer) {
                Ok((n, _)) => {
                    let text = String::from_utf8_lossy(&buffer[..n]).into_owned();
                    self.on_sip(&text);
                }
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(error) => {
                    eprintln!("bench_media: SIP receive: {error}");
                    return;
                }
            }
        }
    }

    fn on_sip(&mut self, text: &str) {
        let Some(&index) = header(text, "Call-ID").and_then(|id| self.by_call_id.get(id)) else {
            return;
        };
        if let Some(status) = text.strip_prefix("SIP/2.0 ") {
            let status: u16 = status.get(..3).and_then(|s| s.parse().ok()).unwrap_or(0);
            let method = header(text, "CSeq")
                .and_then(|cseq| cseq.split_whitespace().nth(1))
                .unwrap_or_default();
            self.on_response(index, status, method, text);
        } else {
            self.on_request(index, text);
        }
    }

    fn on_response(&mut self, index: usize, status: u16, method: &str, text: &str) {
        let state = self.callers[index].state;
        match (method, status) {
            (_, 100..=199) => {
                // A provisional answer: the INVITE is no longer retransmitted.
                if let Some(pending) = &mut self.callers[index].pending {
                    pending.tries = 0;
                    pending.sent = Instant::now() + Duration::from_secs(60);
                }
            }
            ("INVITE", 200..=299) => {
                if state == CallState::Inviting {
                    let caller = &mut self.callers[index];
                    caller.pending = None;
                    caller.remote_tag = header(text, "To")
                        .and_then(|to| to.split(";tag=").nth(1))
                        .map(|tag| tag.split(';').next().unwrap_or(tag).trim().to_string());
                    if let Some(contact) = header(text, "Contact")
                        .and_then(|c| c.split('<').nth(1))
                        .and_then(|c| c.split('>').next())
                    {
                        caller.target = contact.to_string();
                    }
                    caller.media = sdp_media(text);
                    let Some(media) = caller.media else {
                        self.end(index);
                        self.progress.fail(format!("caller {index}: no SDP answer"));
                        return;
                    };
                    self.by_node_port[usize::from(media.port())] = index as u32;
                    self.callers[index].state = CallState::Keying;
                    self.progress.inviting.fetch_sub(1, Ordering::Relaxed);
                    self.progress.answered.fetch_add(1, Ordering::Relaxed);
                    let ack = self.request(index, "ACK", "", "");
                    self.send_sip(index, &ack);
                    if index < self.hung_up_below {
                        self.to_hang_up.push_back(index);
                    } else {
                        self.send_key(index);
                    }
                } else if state != CallState::Ended {
                    // The 200 again: our ACK was lost.
                    let ack = self.request(index, "ACK", "", "");
                    self.send_sip(index, &ack);
                }
            }
            ("INFO", 200..=299) if state == CallState::Keying => {
                let caller = &mut self.callers[index];
                if header(text, "CSeq").and_then(|c| c.split_whitespace().next())
                    != Some(caller.cseq.to_string().as_str())
                {
                    return;
                }
                caller.pending = None;
                caller.next_key += 1;
                if caller.next_key < caller.keys.len() {
                    self.send_key(index);
                } else {
                    caller.state = CallState::Keyed;
                    self.progress.keyed.fetch_add(1, Ordering::Relaxed);
                }
            }
            ("BYE", _) => self.end(index),
            ("INVITE", 503) if state == CallState::Inviting => {
                self.end(index);
                self.progress.shed.fetch_add(1, Ordering::Relaxed);
                let retry = header(text, "Retry-After").unwrap_or("none");
                self.progress.fail(format!(
                    "caller {index}: refused with 503, Retry-After {retry} (the node shed it)"
                ));
            }
            (_, 300..) => {
                self.end(index);
                self.progress.fail(format!(
                    "caller {index}: {method} answered {status} in state {state:?}"
                ));
            }
            _ => {}
        }
    }

    fn on_request(&mut self, index: usize, text: &str) {
        let method = text
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string();
        if method == "ACK" {
            return;
        }
        // Echo the request's Via, From, To, Call-ID and CSeq in a 200.
        let mut response = String::from("SIP/2.0 200 OK\r\n");
        for line in text.lines().take_while(|line| !line.is_empty()) {
            let name = line.split(':').next().unwrap_or_default().trim();
            if ["via", "v", "from", "f", "to", "t", "call-id", "i", "cseq"]
                .iter()
                .any(|h| name.eq_ignore_ascii_case(h))
            {
                response.push_str(line);
                response.push_str("\r\n");
            }
        }
        response.push_str("Content-Length: 0\r\n\r\n");
        self.send_sip(index, &response);
        if method == "BYE" {
            let state = self.callers[index].state;
            self.end(index);
            self.progress.fail(format!(
                "caller {index}: the node hung up in state {state:?}"
            ));
        }
    }

    fn send_key(&mut self, index: usize) {
        let caller = &self.callers[index];
        let Some(&key) = caller.keys.get(caller.next_key) else {
            return;
        };
        let body = format!("Signal={key}\r\nDuration=160\r\n");
        let info = self.request(
            index,
            "INFO",
            "Content-Type: application/dtmf-relay\r\n",
            &body,
        );
        self.send_pending(index, info);
    }

    // ---- RTP ----------------------------------------------------------------------------

    fn send_due_rtp(&mut self, now: Instant) -> anyhow::Result<()> {
        for room in 0..self.rooms.len() {
            let due = self.rooms[room].next_send;
            if due > now {
                continue;
            }
            let late = now - due;
            let mut skipped = 0;
            if late > PERIOD * 3 {
                // Far behind (the machine stalled): skip ahead rather than burst.
                skipped = u32::try_from(late.as_nanos() / PERIOD.as_nanos()).unwrap_or(u32::MAX);
                if self.recording {
                    self.skipped_periods += u64::from(skipped);
                }
            }
            if self.recording {
                self.send_late_us
                    .push(u32::try_from(late.as_micros()).unwrap_or(u32::MAX));
            }
            self.rooms[room].next_send = due + PERIOD * (skipped + 1);
            self.send_room(room, skipped)?;
        }
        Ok(())
    }

    /// Sends one frame for each streaming caller of a room.
    fn send_room(&mut self, room: usize, skipped: u32) -> anyhow::Result<()> {
        let link = &mut self.rooms[room];
        link.frames_sent += u64::from(skipped) + 1;
        let marker = self.markers && link.frames_sent % MARKER_EVERY == 0;
        let first_talker = link.callers.first().copied();
        let mut packets: Vec<[u8; RTP_HEADER + FRAME]> = Vec::with_capacity(self.size);
        let mut addresses: Vec<Option<SockaddrIn>> = Vec::with_capacity(self.size);
        for &index in &self.rooms[room].callers {
            let caller = &mut self.callers[index];
            let (Some(media), CallState::Keying | CallState::Keyed) = (caller.media, caller.state)
            else {
                continue;
            };
            caller.seq = caller.seq.wrapping_add(1);
            caller.ts = caller.ts.wrapping_add(FRAME as u32 * (skipped + 1));
            let mut packet = [0u8; RTP_HEADER + FRAME];
            packet[0] = 0x80;
            packet[1] = 0; // PCMU
            packet[2..4].copy_from_slice(&caller.seq.to_be_bytes());
            packet[4..8].copy_from_slice(&caller.ts.to_be_bytes());
            packet[8..12].copy_from_slice(&caller.ssrc.to_be_bytes());
            packet[RTP_HEADER..].copy_from_slice(
                if caller.talker && !(marker && Some(index) == first_talker) {
                    &self.frames.tone
                } else {
                    &self.frames.silence
                },
            );
            packets.push(packet);
            addresses.push(Some(SockaddrIn::from(media)));
        }
        let fd = self.rooms[room].socket.as_raw_fd();
        if marker && self.recording && first_talker.is_some_and(|i| self.callers[i].talker) {
            self.sent_markers.push(Marker {
                room,
                t_ns: realtime_ns(),
            });
        }
        if let Err(error) = send_batch(fd, &mut self.send_headers, &packets, &addresses) {
            eprintln!("bench_media: RTP send failed: {error}");
        }
        Ok(())
    }

    fn drain_rtp(&mut self, room: usize) -> anyhow::Result<()> {
        let fd = self.rooms[room].socket.as_raw_fd();
        loop {
            self.received.clear();
            let (frames, received) = (&self.frames, &mut self.received);
            let count = receive_batch(
                fd,
                &mut self.recv_headers,
                &mut self.recv_buffers,
                |message, data| {
                    let Some(port) = message.address.map(|a| a.port()) else {
                        return;
                    };
                    let t_ns = message
                        .cmsgs()
                        .ok()
                        .and_then(|mut cmsgs| {
                            cmsgs.find_map(|cmsg| match cmsg {
                                ControlMessageOwned::ScmTimestampns(ts) => {
                                    Some(ts.tv_sec() * 1_000_000_000 + ts.tv_nsec())
                                }
                                _ => None,
                            })
                        })
                        .unwrap_or_else(realtime_ns);
                    if data.len() < RTP_HEADER {
                        return;
                    }
                    // RFC 3550 §5.1: skip CSRCs and an extension (the node sends neither).
                    let mut start = RTP_HEADER + 4 * usize::from(data[0] & 0x0f);
                    if data[0] & 0x10 != 0 && data.len() >= start + 4 {
                        start += 4 + 4 * usize::from(u16::from_be_bytes([
                            data[start + 2],
                            data[start + 3],
                        ]));
                    }
                    let payload = data.get(start..).unwrap_or_default();
                    received.push(Received {
                        port,
                        ssrc: u32::from_be_bytes([data[8], data[9], data[10], data[11]]),
                        t_ns,
                        seq: u16::from_be_bytes([data[2], data[3]]),
                        mix: frames.classify(payload),
                    });
                },
            )?;
            if self.recording {
                for received in &self.received {
                    let index = match self.bridge {
                        Some(_) => self.by_ssrc.get(&received.ssrc).copied(),
                        None => Some(self.by_node_port[usize::from(received.port)] as usize),
                    };
                    if let Some(caller) = index.and_then(|index| self.callers.get_mut(index)) {
                        caller.arrivals.push(Arrival {
                            t_ns: received.t_ns,
                            seq: received.seq,
                            mix: received.mix,
                        });
                    }
                }
            }
            if count < BATCH {
                return Ok(());
            }
        }
    }

    /// Waits for a readable socket (0: SIP, then the rooms) or `timeout`.
    fn wait(&self, timeout: Duration) -> anyhow::Result<Vec<usize>> {
        let mut fds: Vec<PollFd<'_>> = std::iter::once(self.sip.as_fd())
            .chain(self.rooms.iter().map(|room| room.socket.as_fd()))
            .map(|fd| PollFd::new(fd, PollFlags::POLLIN))
            .collect();
        match ppoll(&mut fds, Some(TimeSpec::from_duration(timeout)), None) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(error) => return Err(error.into()),
        }
        Ok(fds
            .iter()
            .enumerate()
            .filter(|(_, fd)| {
                fd.revents()
                    .is_some_and(|r| r.intersects(PollFlags::POLLIN | PollFlags::POLLERR))
            })
            .map(|(index, _)| index)
            .collect())
    }
}

/// A header's value in a SIP message (full name or compact form; the first one).
fn header<'a>(message: &'a str, name: &str) -> Option<&'a str> {
    let compact = match name {
        "Call-ID" => Some("i"),
        "To" => Some("t"),
        "From" => Some("f"),
        "Contact" => Some("m"),
        "Via" => Some("v"),
        _ => None,
    };
    message
        .lines()
        .skip(1)
        .take_while(|line| !line.is_empty())
        .find_map(|line| {
            let (key, value) = line.split_once(':')?;
            let key = key.trim();
            (key.eq_ignore_ascii_case(name) || compact.is_some_and(|c| key.eq_ignore_ascii_case(c)))
                .then(|| value.trim())
        })
}

/// The audio address of an SDP answer in a SIP message.
fn sdp_media(message: &str) -> Option<SocketAddrV4> {
    let body = message.split("\r\n\r\n").nth(1)?;
    let ip: Ipv4Addr = body
        .lines()
        .find_map(|line| line.strip_prefix("c=IN IP4 "))
        .and_then(|ip| ip.trim().parse().ok())?;
    let port: u16 = body
        .lines()
        .find_map(|line| line.strip_prefix("m=audio "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|port| port.parse().ok())?;
    Some(SocketAddrV4::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_tell_the_whole_mix_from_a_partial_one() {
        let frames = Frames::new(3);
        assert_eq!(frames.classify(&frames.full), Mix::Full);
        assert_eq!(frames.classify(&frames.minus_one), Mix::MinusOne);
        assert_eq!(frames.classify(&frames.silence), Mix::Other);
        assert_ne!(frames.full, frames.minus_one);
    }

    #[test]
    fn sip_headers_and_sdp_are_read() {
        let message = "SIP/2.0 200 OK\r\ni: abc@x\r\nTo: <sip:a@b>;tag=t1\r\nCSeq: 2 INFO\r\n\r\n\
                       v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 20002 RTP/AVP 0 101\r\n";
        assert_eq!(header(message, "Call-ID"), Some("abc@x"));
        assert_eq!(header(message, "CSeq"), Some("2 INFO"));
        assert_eq!(
            sdp_media(message),
            Some(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 20002))
        );
    }
}
