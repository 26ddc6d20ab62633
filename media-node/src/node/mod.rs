//! The node: every call and every room of one media node, sans-IO (issue #4).
//!
//! The node only routes; each protocol rule lives in the module it calls:
//!
//! - **SIP datagrams** are parsed by the [codec](teleconf_sip::message) (garbage
//!   gets its [`bad_request`](teleconf_sip::message::bad_request) or nothing). A
//!   request from a source that is neither a trunk address nor an IP phone's
//!   ([`IpPhones`]) gets 403; a message whose Call-ID names a call goes to that
//!   [`Call`] (retransmitted INVITEs included); a response for no call is dropped;
//!   out of any call, OPTIONS gets 200 with Allow (the trunk's keep-alive), a
//!   request with a To tag (in-dialog) or any other non-INVITE gets 481, an ACK
//!   nothing.
//! - **A new INVITE** gets the key its call will have, and the Request-URI's user
//!   part, the access number, is looked up ([`Lookup::Number`]); unknown, or not
//!   routed to conferences, → 404; a store that cannot be read → 503. `*44` from
//!   an account's IP phone (by its address, or the identity the trunk asserts:
//!   [`star44`]) looks up that account instead ([`Lookup::Account`]), for the
//!   language its IVR speaks, and dials no number; `*44` from anyone else, or of an
//!   account that is gone, → 403. The shell hands the node the accounts' IP phones
//!   ([`Input::IpPhones`]) as it reads them from the store. The call then gets an
//!   RTP port drawn at random from the free ones of the range (none left → 503; a
//!   stranger cannot guess it from the calls before), not one whose call ended
//!   within [`ports::PORT_REST`] while another is free, the media loop is told to
//!   [`MediaOutput::BindRtp`] it, and the [`Call`] takes the INVITE.
//! - **RTP** received on a port goes to the call that owns the port, which takes
//!   only its caller's ([`teleconf_sip::rtp::source`]); what the calls drop is
//!   counted in [`Node::media_stats`]. A packet that is only the caller's next
//!   frame for the room is read in place ([`Call::room_audio`]) and pushed to
//!   the room; any other is fed to the call.
//! - **Rooms**: a call's `Join` puts its leg into its conference's room
//!   ([`Room`], created on the first join), `ToRoom` pushes its audio,
//!   `Leave` removes it (the room goes when empty). Each room ticks on its own
//!   absolute deadlines and every leg's payload goes back to its call, which
//!   makes it the packet to send (`Call::frame_from_room`).
//! - **Leases** (issue #16): a conference's room lives on the node that holds
//!   its lease. The first join of a conference with no room here asks the shell
//!   to claim it ([`IoOutput::ClaimRoom`]); the joins of that conference wait
//!   (their calls go on, their audio goes nowhere) until the shell tells who
//!   holds it ([`Input::RoomOwner`]): this node → the room opens here, the
//!   joins go in; the store unreachable → the room opens here all the same
//!   (as a single node would), logged and counted ([`MediaStats::rooms_unleased`]),
//!   and the shell's heartbeat claims it when the store is back; another node →
//!   the room opens here for this node's callers and this node cascades to the
//!   owner's room (`uplink`: one SIP dialog whose leg is one talker in both
//!   rooms); with no cascade configured (or no port left) the room here stays
//!   alone, a split room, counted ([`MediaStats::rooms_owned_elsewhere`]). A
//!   cascade that fails or breaks leaves the room here alone too, counted
//!   ([`MediaStats::cascades_failed`]). Other nodes' cascades into the rooms this
//!   node holds come in at the SIP edge (`sip`). The rooms this node
//!   holds ([`Node::held_rooms`]) are the ones whose lease the heartbeat renews
//!   and whose portal commands it takes; the last caller's leave releases the
//!   lease ([`IoOutput::ReleaseRoom`]). The lock and the occupancy a caller is
//!   admitted by are the owner's: a conference with neither a room nor a lease
//!   known here has its lease read ([`IoOutput::FindRoom`]) when its first
//!   caller here keys a code, and when another node holds it the cascade opens
//!   then and the caller is checked against the figures the owner's room tells
//!   (`gate`).
//! - **Lookups**: the calls' ([`crate::app::lookup`]) go out as
//!   [`IoOutput::Lookup`], keyed by the call, and their answers come back as
//!   [`Input::Answer`] with that key, passed on unchanged. The IVR's admission
//!   check (the room's callers and lock) is answered here: from the room here,
//!   or from the owner's figures when another node holds the conference's room
//!   (`gate`: a first caller here waits for them).
//! - **Outputs** are of two kinds, in one queue, in the order the node made them:
//!   [`MediaOutput`]s for the media loop (RTP, ports, recordings) and
//!   [`IoOutput`]s for the shell's I/O side (SIP, lookups, CDRs, live view,
//!   activity).
//! - **The end**: a call's `Ended` forgets it and releases its port
//!   ([`MediaOutput::ReleaseRtp`]).
//!
//! Stateless answers (403, 404, 481, 503, OPTIONS' 200) are built with
//! [`stateless_response`](teleconf_sip::message::stateless_response): their To
//! tag is a hash of the request, so a retransmitted request gets the very same
//! answer.
//!
//! ## Layout
//! - this file: the node's inputs and outputs, its calls and their deadlines;
//! - `sip`: the SIP edge and new calls (cascades in included); `rooms`: what
//!   the calls ask, carried out, and the rooms; `uplink`: this node's cascades
//!   to other nodes' rooms; `gate`: the admission check's figures, the owner's;
//! - [`call`]: one call; [`star44`]: who may dial `*44`.

pub mod call;
mod gate;
mod ports;
mod rooms;
mod sip;
pub mod star44;
mod uplink;

pub use sip::SOURCE_HEADER;

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap;

use teleconf_domain::{
    AccountId, ActivityKind, CallLeg, ConferenceId, ControlCommand, LegId, LiveParticipant, NodeId,
};
use teleconf_sip::rtp::DroppedRtp;
use teleconf_sip::sources::Sources;
use teleconf_sip::transaction::Timers;

use crate::app::CallKey;
use crate::app::cascade::CascadeSecret;
use crate::app::ivr::Occupancy;
use crate::app::lookup::{Answer, IntroTarget, Lookup};
use crate::app::mixer::LegStats;
use crate::app::prompts;
use crate::app::room::Room;
use call::Call;
pub use call::RtpOut;
use ports::{FreePorts, PortIndex};
use rooms::Lease;
use sip::PendingInvite;
use star44::IpPhones;

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod tests;

/// The media loop's busy share ([`Input::Load`]) from which the node is past its
/// core: a loop that never waits cannot take more callers without the ones it
/// has losing frames, and their keys and the store's answers reaching the IVR
/// late. New calls get 503 with [`RETRY_AFTER`] (the SIP entry tries the next
/// node) rather than queue: waiting frees no capacity on this node, another
/// node has it now.
pub const OVERLOADED: f64 = 0.97;

/// The busy share below which an overloaded node takes new calls again (under
/// [`OVERLOADED`], so that it does not flap on each second's noise).
pub const RELIEVED: f64 = 0.9;

/// The Retry-After of the 503 an overloaded node answers a new call with.
pub const RETRY_AFTER: Duration = Duration::from_secs(5);

/// What a node is configured with.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// The SIP trunk's addresses: the only sources (besides the accounts' IP
    /// phones) whose requests are served.
    pub trunk_sources: Sources,
    /// The SIP entry's addresses (Kamailio): requests from them are served, and
    /// the sender they name in [`sip::SOURCE_HEADER`] is the caller's origin.
    pub entry_sources: Sources,
    /// Where the trunk's media may come from when not from the address its SDP
    /// gives (NAT): a call latches once on one of them ([`teleconf_sip::rtp::source`]).
    pub trunk_media: Sources,
    /// Our SIP address, for Contact and Via.
    pub local_addr: SocketAddr,
    /// Our RTP address, advertised in SDP.
    pub rtp_addr: Ipv4Addr,
    /// The RTP ports calls get (even ones only, RFC 3550 §11), drawn at random
    /// from those free so that a call's port cannot be guessed, each resting
    /// after its call so that the call's late packets reach no new one.
    pub rtp_ports: Range<u16>,
    /// RFC 3261 timer values.
    pub timers: Timers,
    /// Once the node drains, how long after its conference's planned end a call
    /// may go on (from the drain's start for a call not in a conference yet).
    pub drain_grace: Duration,
    /// This node's name: the owner its room leases and CDR legs name, and the
    /// member its cascade INVITEs name.
    pub node_id: NodeId,
    /// Who may open a cascade into this node's rooms, and the secret its
    /// INVITE is signed with; `None` refuses every cascade INVITE (403).
    pub cascade: Option<CascadeConfig>,
}

/// The cascade between nodes ([`crate::app::cascade`]).
#[derive(Debug, Clone)]
pub struct CascadeConfig {
    /// The nodes' addresses (`TELECONF_NODE_SOURCES`): the only sources of a
    /// cascade INVITE taken.
    pub sources: Sources,
    /// The nodes' shared secret (`TELECONF_CASCADE_SECRET`).
    pub secret: CascadeSecret,
    /// This node's address between nodes (its registry address,
    /// `TELECONF_NODE_SIP_ADDR`, private where deployed): the cascade's SIP and
    /// SDP name it on both ends, so the cascade's RTP goes between addresses the
    /// nodes' security group admits, never by their public ones.
    pub addr: SocketAddr,
}

impl CascadeConfig {
    /// The RTP address the cascade's SDP names: this node's address between
    /// nodes, when it is IPv4 (the SDP the node writes is IPv4 only).
    pub fn rtp_ip(&self) -> Option<Ipv4Addr> {
        match self.addr.ip() {
            IpAddr::V4(ip) => Some(ip),
            IpAddr::V6(_) => None,
        }
    }
}

/// The node's media figures since it started ([`Node::media_stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MediaStats {
    /// RTP packets the calls dropped: not from their caller's source, or not of
    /// its stream.
    pub rtp_dropped: DroppedRtp,
    /// Requests that named their source ([`sip::SOURCE_HEADER`]) from outside the
    /// SIP entry: the header was ignored.
    pub untrusted_source_headers: u64,
    /// Rooms opened without a lease: the store could not be reached to claim it.
    pub rooms_unleased: u64,
    /// Rooms opened here while another node held their lease.
    pub rooms_owned_elsewhere: u64,
    /// Cascade INVITEs refused (403): from outside the nodes' addresses, through
    /// the SIP entry, or without a valid signature.
    pub cascades_refused: u64,
    /// Cascades to another node's room that failed or broke (refused, never
    /// answered, no RTP, hung up by the owner): the room here went on alone.
    pub cascades_failed: u64,
    /// Callers checked for the lock and the occupancy against this node's room
    /// alone while another node may hold the conference's: its lease could not
    /// be read, or its owner did not tell its room's figures in time.
    pub admissions_checked_alone: u64,
    /// New calls refused (503 with Retry-After) while the media loop was past
    /// its core ([`Node::is_overloaded`]), or while 512 new calls were waiting
    /// for their access number's lookup.
    pub calls_shed: u64,
}

/// Who holds a conference's room, as the shell's claim found it
/// ([`Input::RoomOwner`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomOwner {
    /// This node: the lease is its own now.
    Here,
    /// Another node holds a live lease.
    Elsewhere {
        /// The owner.
        node: NodeId,
        /// Where its cascade is reached.
        cascade: SocketAddr,
    },
    /// The store could not be reached: nobody knows.
    Unknown,
}

/// What happens to the node.
#[derive(Debug)]
pub enum Input<'a> {
    /// A datagram on the SIP socket.
    Datagram {
        /// Monotonic time.
        now: Instant,
        /// The wall clock at `now` (a new call's only reading of it).
        wall_clock: DateTime<Utc>,
        /// Its source.
        from: SocketAddr,
        /// Its bytes.
        bytes: &'a [u8],
    },
    /// A datagram on one of our RTP ports.
    Rtp {
        /// Monotonic time.
        now: Instant,
        /// Our local port it came in on.
        port: u16,
        /// Its source.
        from: SocketAddr,
        /// Its bytes.
        bytes: &'a [u8],
    },
    /// The shell's 20 ms clock, stamped with its deadline on the grid (not the
    /// moment it is handled): prompts and rooms advance, rooms anchored on the grid.
    Tick(Instant),
    /// The deadline of [`Node::poll_timeout`] has come.
    Timeout(Instant),
    /// The node is to stop: new calls (and OPTIONS) get 503 from now on; each
    /// call up goes on until it hangs up, or until its conference's planned end
    /// plus [`NodeConfig::drain_grace`] (the drain's start plus the grace for a
    /// call not in a conference), when it is hung up.
    Drain(Instant),
    /// Hang up every call (BYE, CDR closed); [`Node::calls`] reaches 0 once the
    /// BYEs are answered or time out.
    HangUpAll(Instant),
    /// How busy the media loop was over its last second: the share of that
    /// time it spent working rather than waiting for work (0.0 to 1.0). Past
    /// [`OVERLOADED`] the node refuses new calls (see [`Node::is_overloaded`]).
    Load(f64),
    /// Answers [`IoOutput::Lookup`] of the call `call`: the new call's access
    /// number or `*44` account, or what the call asked (passed on unchanged, but
    /// for the moderator's lock, which the node knows better than the store).
    Answer {
        /// Monotonic time.
        now: Instant,
        /// The call that asked.
        call: CallKey,
        /// The answer.
        answer: Answer,
    },
    /// The accounts' IP phones as the store holds them now: they replace those the
    /// node knew (who may dial `*44`, and whose address may send requests).
    IpPhones(IpPhones),
    /// Answers [`IoOutput::ClaimRoom`]: who holds `conference`'s room.
    RoomOwner {
        /// Monotonic time.
        now: Instant,
        /// The wall clock at `now` (a cascade INVITE is signed with it).
        wall_clock: DateTime<Utc>,
        /// The conference.
        conference: ConferenceId,
        /// Who holds it.
        owner: RoomOwner,
    },
    /// Answers [`IoOutput::FindRoom`]: who holds `conference`'s room, as its
    /// lease reads: [`RoomOwner::Elsewhere`] for another node's live lease,
    /// [`RoomOwner::Here`] when no other node holds one (none, expired, or this
    /// node's), [`RoomOwner::Unknown`] when the store could not be read.
    RoomFound {
        /// Monotonic time.
        now: Instant,
        /// The wall clock at `now` (a cascade INVITE is signed with it).
        wall_clock: DateTime<Utc>,
        /// The conference.
        conference: ConferenceId,
        /// Who holds it.
        owner: RoomOwner,
    },
    /// A moderator's command from the portal for a conference this node holds
    /// ([`Node::conferences`]); one aimed at a caller no longer in does nothing.
    Control {
        /// Monotonic time.
        now: Instant,
        /// The conference.
        conference: ConferenceId,
        /// What to do.
        command: ControlCommand,
    },
}

/// What the node asks of its shell, drained with [`Node::poll_output`], in the
/// order the node asked.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// For the media loop, which owns the RTP sockets and the recorder's queue.
    Media(MediaOutput),
    /// For the shell's I/O side: SIP, the store and the bucket.
    Io(IoOutput),
}

/// What the media loop carries out itself: RTP, and the recordings' frames.
#[derive(Debug, Clone, PartialEq)]
pub enum MediaOutput {
    /// An RTP datagram to send from one of our RTP ports.
    SendRtp {
        /// The port (bound after [`MediaOutput::BindRtp`]).
        from_port: u16,
        /// Destination.
        to: SocketAddr,
        /// The packet.
        bytes: RtpOut,
    },
    /// Open a socket on this RTP port.
    BindRtp(u16),
    /// Close the socket of this RTP port.
    ReleaseRtp(u16),
    /// A conference that records has its first caller: start its recording.
    RecordingStart {
        /// The conference.
        conference: ConferenceId,
        /// Its account.
        account: AccountId,
    },
    /// 20 ms of a recording: the room's full mix (none while paused).
    RecordFrame {
        /// The conference.
        conference: ConferenceId,
        /// 8 kHz PCM.
        pcm: Box<[i16]>,
    },
    /// The conference's last caller left: finish its recording and store it.
    RecordingStop {
        /// The conference.
        conference: ConferenceId,
    },
}

/// What the shell's I/O side carries out: SIP to send, lookups, and what the
/// store keeps.
#[derive(Debug, Clone, PartialEq)]
pub enum IoOutput {
    /// A SIP datagram to send from the SIP socket (or the TCP connection the
    /// destination holds).
    SendSip {
        /// Destination.
        to: SocketAddr,
        /// The printed message.
        bytes: Vec<u8>,
    },
    /// A lookup of the call `call`; answer with [`Input::Answer`] and that key.
    Lookup {
        /// The call that asks.
        call: CallKey,
        /// What it asks.
        lookup: Lookup,
    },
    /// Claim the lease of this conference's room for this node; answer with
    /// [`Input::RoomOwner`].
    ClaimRoom(ConferenceId),
    /// Read who holds this conference's room lease (a read, never a claim):
    /// its first caller here is to be checked against the owner's room. Answer
    /// with [`Input::RoomFound`].
    FindRoom(ConferenceId),
    /// This node's room of the conference closed: release its lease.
    ReleaseRoom(ConferenceId),
    /// Write the CDR leg.
    CdrOpen(CallLeg),
    /// Close the CDR leg.
    CdrClose(CallLeg),
    /// A conference's intro recorded by phone: store it (the code is spent).
    StoreIntro {
        /// Whose intro, and the code that opened the recorder.
        target: IntroTarget,
        /// 8 kHz PCM.
        pcm: Arc<[i16]>,
    },
    /// The live view changed (a caller came, changed, or went).
    Live(LiveUpdate),
    /// Something for the account's activity feed (the shell stamps the time).
    Activity {
        /// Whose feed.
        account: AccountId,
        /// The conference concerned.
        conference: ConferenceId,
        /// What happened.
        kind: ActivityKind,
        /// Who it concerns, when a caller (their caller ID).
        summary: String,
    },
}

/// A change of the live view, in the order the node saw it.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveUpdate {
    /// A caller on the line, as now.
    Put(LiveParticipant),
    /// A caller gone.
    Remove {
        /// The conference.
        conference: ConferenceId,
        /// The caller's leg.
        leg: LegId,
    },
}

/// A call the node hosts, with what routes to it.
#[derive(Debug)]
struct HostedCall {
    /// The call.
    call: Call,
    /// Its Call-ID: where its SIP goes.
    call_id: String,
    /// `call{call_id}`: entered for every input the call is fed but its room's
    /// frames ([`Node::feed`]), so every line the call (its dialog, IVR, media
    /// source…) and the node on its behalf log names it; the shell's work for the
    /// call runs in it too ([`Node::call_span`]).
    span: tracing::Span,
    /// Its RTP port: where its RTP goes.
    port: u16,
    /// Its room's conference, while it is in one.
    room: Option<ConferenceId>,
    /// Its conference's planned end, once it joined.
    ends: Option<Instant>,
    /// The node holding its room (this one, or the owner it cascades to), once
    /// in: its CDR leg notes it.
    owner: Option<NodeId>,
    /// Its deadline as filed in [`Node::by_deadline`] (see [`Node::reindex`]).
    filed: Option<Instant>,
}

/// Every call and room of one media node. See the [module documentation](self).
#[derive(Debug)]
pub struct Node {
    config: NodeConfig,
    outputs: VecDeque<Output>,
    /// Keyed by the node's own keys: hashed fast (looked up several times per packet).
    calls: FxHashMap<CallKey, HostedCall>,
    by_call_id: HashMap<String, CallKey>,
    by_port: PortIndex,
    rooms: FxHashMap<ConferenceId, Room>,
    /// What the node knows of each conference's lease: those it claims (with
    /// the joins waiting on the claim) and those whose room is here.
    leases: HashMap<ConferenceId, Lease>,
    /// Rooms opened without a lease, or while another node held it.
    rooms_unleased: u64,
    rooms_owned_elsewhere: u64,
    cascades_refused: u64,
    cascades_failed: u64,
    admissions_checked_alone: u64,
    /// Callers whose admission check waits on the room's owner (its lease
    /// read, then its room's figures), with their conference and how long
    /// they wait at most.
    gated: HashMap<CallKey, (ConferenceId, Instant)>,
    /// This node's cascades to other nodes' rooms.
    uplinks: HashMap<CallKey, uplink::Uplink>,
    /// The uplinks ordered by their next deadline, as the calls are.
    uplink_deadlines: BTreeSet<(Instant, CallKey)>,
    /// Uplinks whose deadline may have moved sooner since it was filed
    /// ([`Node::refile_uplinks`], at the end of each input).
    uplinks_touched: Vec<CallKey>,
    /// Member nodes' callers in the rooms this node holds, by their key here.
    remote_legs: HashMap<CallKey, rooms::RemoteLeg>,
    /// The room's figures last told each member's cascade.
    figures_told: HashMap<CallKey, Occupancy>,
    /// The rooms ordered by their next frame's deadline, so neither
    /// [`Node::poll_timeout`] (asked after every packet) nor a room's frame
    /// walks every room.
    room_deadlines: BTreeSet<(Instant, ConferenceId)>,
    /// Reception figures of legs that left their room, until their CDR closes.
    left: HashMap<CallKey, LegStats>,
    /// Callers admitted and not yet gone, as the live view shows them.
    on_line: HashMap<CallKey, LiveParticipant>,
    /// The calls ordered by their next deadline (each call's is also kept in
    /// its [`HostedCall::filed`]).
    by_deadline: BTreeSet<(Instant, CallKey)>,
    /// The calls that want the 20 ms tick (a prompt playing or queued), kept
    /// after each input a call is fed, so that a tick does not look at every
    /// call (that look, a cache miss per call 50 times a second, was 3 % of a
    /// loaded node's time).
    ticking: BTreeSet<CallKey>,
    /// New calls waiting for their lookup, by the key their call will have.
    pending: HashMap<CallKey, PendingInvite>,
    /// The `100 Trying` due to those not answered yet, by when
    /// ([`sip::TRYING_AFTER`]): the next one is asked after every packet. A
    /// call waiting here and no longer in it has had its 100.
    trying_due: BTreeSet<(Instant, CallKey)>,
    /// Who may dial `*44` (and send requests from an address of their own).
    ip_phones: IpPhones,
    /// The RTP ports no call holds (a call's is drawn at random).
    free_ports: FreePorts,
    /// Shared by every call: where the trunk's media may come from.
    trunk_media: Arc<Sources>,
    /// RTP dropped by the calls that ended.
    ended_drops: DroppedRtp,
    /// Frames its callers never got: the rooms' deadlines skipped (a tick very
    /// late) times the legs in the room then.
    frames_lost: u64,
    /// New calls are refused (503): the node is stopping.
    draining: bool,
    /// New calls are refused (503 with Retry-After): the media loop is past its
    /// core ([`Input::Load`]).
    overloaded: bool,
    /// New calls refused because the node was overloaded.
    calls_shed: u64,
    /// When the drain began ([`Input::Drain`]): the calls go on until their
    /// conference's planned end (this, for a call in none) plus
    /// [`NodeConfig::drain_grace`], then are hung up.
    drain_started: Option<Instant>,
    /// Calls hung up by the drain, so each is told once.
    drain_cut: HashSet<CallKey>,
    /// Requests whose [`sip::SOURCE_HEADER`] came from outside the SIP entry.
    untrusted_source_headers: u64,
    next_leg: u64,
    /// The queue lent to each call fed for its outputs ([`Call::swap_outputs`]).
    call_outputs: VecDeque<call::Output>,
    /// Scratch of the tick, kept between ticks so a tick allocates nothing.
    tick_calls: Vec<CallKey>,
    tick_frames: Vec<(CallKey, [u8; prompts::FRAME_SAMPLES])>,
}

impl Node {
    /// A node with no call.
    pub fn new(config: NodeConfig) -> Self {
        let free_ports = FreePorts::new(&config.rtp_ports);
        Self {
            by_port: PortIndex::new(&config.rtp_ports),
            trunk_media: Arc::new(config.trunk_media.clone()),
            ended_drops: DroppedRtp::default(),
            frames_lost: 0,
            config,
            outputs: VecDeque::new(),
            calls: FxHashMap::default(),
            by_call_id: HashMap::new(),
            rooms: FxHashMap::default(),
            leases: HashMap::new(),
            rooms_unleased: 0,
            rooms_owned_elsewhere: 0,
            cascades_refused: 0,
            cascades_failed: 0,
            admissions_checked_alone: 0,
            gated: HashMap::new(),
            uplinks: HashMap::new(),
            uplink_deadlines: BTreeSet::new(),
            uplinks_touched: Vec::new(),
            remote_legs: HashMap::new(),
            figures_told: HashMap::new(),
            room_deadlines: BTreeSet::new(),
            left: HashMap::new(),
            on_line: HashMap::new(),
            by_deadline: BTreeSet::new(),
            ticking: BTreeSet::new(),
            pending: HashMap::new(),
            trying_due: BTreeSet::new(),
            ip_phones: IpPhones::default(),
            free_ports,
            draining: false,
            overloaded: false,
            calls_shed: 0,
            drain_started: None,
            drain_cut: HashSet::new(),
            untrusted_source_headers: 0,
            next_leg: 0,
            call_outputs: VecDeque::new(),
            tick_calls: Vec::new(),
            tick_frames: Vec::new(),
        }
    }

    /// Whether new calls are refused because the media loop is past its core:
    /// from a second busy [`OVERLOADED`] of the time until one below
    /// [`RELIEVED`].
    pub fn is_overloaded(&self) -> bool {
        self.overloaded
    }

    /// Calls alive (for the shell's drain and the tests).
    pub fn calls(&self) -> usize {
        self.calls.len()
    }

    /// Every call settled ([`Call::is_settled`]): a stopping node waits for no
    /// call. A call over whose transactions only wait out their retransmission
    /// timers (Timer J: 32 s) does not hold the node up. Asked at each wake-up
    /// of a draining loop, it stops at the first call still up.
    pub fn all_settled(&self) -> bool {
        self.calls.values().all(|hosted| hosted.call.is_settled())
    }

    /// The media figures since the node started: those of the calls that ended
    /// and of the calls up.
    pub fn media_stats(&self) -> MediaStats {
        let mut rtp_dropped = self.ended_drops;
        for hosted in self.calls.values() {
            rtp_dropped += hosted.call.dropped_rtp();
        }
        MediaStats {
            rtp_dropped,
            untrusted_source_headers: self.untrusted_source_headers,
            rooms_unleased: self.rooms_unleased,
            rooms_owned_elsewhere: self.rooms_owned_elsewhere,
            cascades_refused: self.cascades_refused,
            cascades_failed: self.cascades_failed,
            admissions_checked_alone: self.admissions_checked_alone,
            calls_shed: self.calls_shed,
        }
    }

    /// Rooms alive.
    pub fn rooms(&self) -> usize {
        self.rooms.len()
    }

    /// Callers admitted to a conference and not gone, as the live view shows them.
    pub fn participants(&self) -> usize {
        self.on_line.len()
    }

    /// RTP ports free for new calls (none left: a new call gets 503).
    pub fn rtp_ports_left(&self) -> usize {
        self.free_ports.len()
    }

    /// Frames the rooms never mixed for their callers since the node started: a
    /// room ticked more than [`crate::app::mixer::MAX_CATCH_UP_FRAMES`] periods
    /// late skips the deadlines missed, each a frame lost for every leg in it.
    pub fn frames_lost(&self) -> u64 {
        self.frames_lost
    }

    /// The span of the call `key` (`call{call_id}`), from its INVITE on, for the
    /// shell's work on its behalf (its lookups); `None` once the call is gone.
    pub fn call_span(&self, key: CallKey) -> Option<&tracing::Span> {
        match self.calls.get(&key) {
            Some(hosted) => Some(&hosted.span),
            None => self.pending.get(&key).map(|pending| &pending.span),
        }
    }

    /// The conferences with a room on this node.
    pub fn conferences(&self) -> impl Iterator<Item = ConferenceId> + '_ {
        self.rooms.keys().copied()
    }

    /// The conferences whose room this node holds: the lease is its own, or it
    /// could not be claimed (the store away) and nobody else's is known. Their
    /// leases are the ones the heartbeat renews (or claims, when unleased) and
    /// their portal commands the ones the shell fetches.
    pub fn held_rooms(&self) -> impl Iterator<Item = ConferenceId> + '_ {
        self.leases
            .iter()
            .filter(|(_, lease)| lease.is_held())
            .map(|(conference, _)| *conference)
    }

    /// The conferences whose room is here alone while another node holds (or
    /// held) the lease: the heartbeat claims them, and its answer
    /// ([`Input::RoomOwner`]) makes the room here the conference's (the lease
    /// was free) or cascades it to the new owner.
    pub fn rooms_to_claim(&self) -> impl Iterator<Item = ConferenceId> + '_ {
        self.rooms_alone()
    }

    /// Feeds one input.
    pub fn handle_input(&mut self, input: Input<'_>) {
        self.handle(input);
        self.refile_uplinks();
    }

    fn handle(&mut self, input: Input<'_>) {
        match input {
            Input::Datagram {
                now,
                wall_clock,
                from,
                bytes,
            } => self.receive_sip(now, wall_clock, from, bytes),
            Input::Rtp {
                now,
                port,
                from,
                bytes,
            } => {
                if let Some(leg) = self.by_port.get(port) {
                    // Most packets are a frame for the room, pushed there
                    // without feeding the call (its outputs, span, deadlines).
                    if let Some(hosted) = self.calls.get_mut(&leg)
                        && let Some(audio) = hosted.call.room_audio(now, bytes, from)
                    {
                        let room = hosted.room.and_then(|c| self.rooms.get_mut(&c));
                        rooms::push_frame(room, now, leg, audio.seq, audio.ts, audio.payload);
                    } else {
                        self.feed(now, leg, call::Input::Rtp(bytes, from));
                    }
                } else if let Some(uplink) = self.uplink_on(port) {
                    self.uplink_rtp(now, uplink, bytes, from);
                }
            }
            Input::Tick(now) => {
                let mut legs = std::mem::take(&mut self.tick_calls);
                legs.extend(self.ticking.iter().copied());
                for &leg in &legs {
                    self.feed(now, leg, call::Input::Tick);
                }
                legs.clear();
                self.tick_calls = legs;
                self.tick_rooms(now);
                self.cut_overdue(now);
            }
            Input::Timeout(now) => {
                let due: Vec<CallKey> = self
                    .by_deadline
                    .iter()
                    .take_while(|(at, _)| *at <= now)
                    .map(|(_, key)| *key)
                    .collect();
                for leg in due {
                    // Its deadline is filed again after, from what it says then.
                    self.unfile(leg);
                    self.feed(now, leg, call::Input::Timeout);
                }
                for uplink in self.uplinks_due(now) {
                    self.uplink_timeout(now, uplink);
                }
                self.gate_timeout(now);
                self.pending_timeout(now);
                self.tick_rooms(now);
            }
            Input::Drain(now) => {
                self.draining = true;
                self.drain_started.get_or_insert(now);
                self.hand_over(now);
            }
            Input::Load(busy) => {
                let overloaded = if self.overloaded {
                    busy >= RELIEVED
                } else {
                    busy >= OVERLOADED
                };
                if overloaded != self.overloaded {
                    if overloaded {
                        tracing::warn!(
                            busy,
                            "node: the media loop is past its core: new calls get 503"
                        );
                    } else {
                        tracing::warn!(
                            busy,
                            "node: the media loop has room again: new calls taken"
                        );
                    }
                    self.overloaded = overloaded;
                }
            }
            Input::HangUpAll(now) => {
                self.draining = true;
                let legs: Vec<CallKey> = self.calls.keys().copied().collect();
                for leg in legs {
                    self.feed(now, leg, call::Input::HangUp);
                }
            }
            Input::Answer { now, call, answer } => self.answer(now, call, answer),
            Input::Control {
                now,
                conference,
                command,
            } => self.control(now, conference, command),
            Input::RoomOwner {
                now,
                wall_clock,
                conference,
                owner,
            } => self.room_owner(now, wall_clock, conference, owner),
            Input::RoomFound {
                now,
                wall_clock,
                conference,
                owner,
            } => self.room_found(now, wall_clock, conference, owner),
            Input::IpPhones(phones) => {
                if phones != self.ip_phones {
                    tracing::info!(phones = phones.len(), "node: IP phones for *44 updated");
                    self.ip_phones = phones;
                }
            }
        }
    }

    /// The next thing to do, until `None`.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When to feed [`Input::Timeout`]: the earliest deadline of the calls and
    /// the rooms (the 20 ms [`Input::Tick`] is the shell's own clock).
    pub fn poll_timeout(&self) -> Option<Instant> {
        let calls = self.by_deadline.first().map(|(at, _)| *at);
        let rooms = self.room_deadlines.first().map(|(at, _)| *at);
        let uplinks = self.uplink_deadlines.first().map(|(at, _)| *at);
        calls
            .into_iter()
            .chain(rooms)
            .chain(uplinks)
            .chain(self.gate_deadline())
            .chain(self.pending_deadline())
            .min()
    }

    fn io(&mut self, output: IoOutput) {
        self.outputs.push_back(Output::Io(output));
    }

    fn media(&mut self, output: MediaOutput) {
        self.outputs.push_back(Output::Media(output));
    }

    /// The answer to the lookup of the call `key` (or of the new call it will be).
    fn answer(&mut self, now: Instant, key: CallKey, answer: Answer) {
        if self.pending.contains_key(&key) {
            return self.answer_pending(now, key, answer);
        }
        self.feed(now, key, call::Input::Answer(answer));
    }

    /// Feeds one input to a call and carries out what it asks, in the call's span.
    fn feed(&mut self, now: Instant, key: CallKey, input: call::Input<'_>) {
        let Some(hosted) = self.calls.get_mut(&key) else {
            return;
        };
        let lent = hosted.call.swap_outputs(&mut self.call_outputs);
        // Taken out while entered (the node is borrowed mutably meanwhile), put
        // back after; a feed of the same call nested in this one finds none and
        // logs in this one's.
        let span = std::mem::replace(&mut hosted.span, tracing::Span::none());
        let entered = span.enter();
        hosted.call.handle_input(now, input);
        while let Some(output) = self
            .calls
            .get_mut(&key)
            .and_then(|hosted| hosted.call.poll_output())
        {
            self.carry_out(now, key, output);
        }
        let Some(hosted) = self.calls.get_mut(&key) else {
            // Gone: the queue lent went with it.
            drop(entered);
            return;
        };
        if lent {
            hosted.call.swap_outputs(&mut self.call_outputs);
        }
        if !hosted.call.kept_deadlines() {
            self.reindex(key);
        }
        drop(entered);
        if let Some(hosted) = self.calls.get_mut(&key) {
            hosted.span = span;
        }
    }

    /// Files the call's next deadline, so that [`Node::poll_timeout`] never
    /// walks every call: the shell asks after every packet, and that walk was
    /// most of a loaded node's time (`make bench`). A deadline that moved later
    /// (the RTP timeout, with each packet heard) is not filed again: the one
    /// filed comes first, the call is asked then (a timeout with nothing due
    /// does nothing) and its deadline filed anew. So a packet costs no
    /// reordering of the deadlines. Files whether it wants the tick too.
    fn reindex(&mut self, key: CallKey) {
        let Some(hosted) = self.calls.get_mut(&key) else {
            return;
        };
        if hosted.call.wants_tick() {
            self.ticking.insert(key);
        } else {
            self.ticking.remove(&key);
        }
        let next = hosted.call.poll_timeout();
        let filed = hosted.filed;
        if filed == next || next.zip(filed).is_some_and(|(next, filed)| next > filed) {
            return;
        }
        hosted.filed = next;
        if let Some(old) = filed {
            self.by_deadline.remove(&(old, key));
        }
        if let Some(at) = next {
            self.by_deadline.insert((at, key));
        }
    }

    /// Forgets the call's filed deadline.
    fn unfile(&mut self, key: CallKey) {
        if let Some(old) = self
            .calls
            .get_mut(&key)
            .and_then(|hosted| hosted.filed.take())
        {
            self.by_deadline.remove(&(old, key));
        }
    }

    /// While draining, hangs up each call past its conference's planned end plus
    /// the grace (once each).
    fn cut_overdue(&mut self, now: Instant) {
        let Some(started) = self.drain_started else {
            return;
        };
        let grace = self.config.drain_grace;
        let overdue: Vec<CallKey> = self
            .calls
            .iter()
            .filter(|(key, hosted)| {
                let until = hosted.ends.map_or(started, |ends| ends.max(started)) + grace;
                until <= now && !self.drain_cut.contains(key)
            })
            .map(|(key, _)| *key)
            .collect();
        for key in overdue {
            tracing::info!(
                leg = key.0,
                "node: draining, the call's time is up: hung up"
            );
            self.drain_cut.insert(key);
            self.feed(now, key, call::Input::HangUp);
        }
    }

    fn forget(&mut self, now: Instant, key: CallKey) {
        self.leave_room(now, key);
        self.ungate(now, key);
        self.left.remove(&key);
        self.drain_cut.remove(&key);
        self.unfile(key);
        if let Some(hosted) = self.calls.remove(&key) {
            self.ticking.remove(&key);
            let dropped = hosted.call.dropped_rtp();
            tracing::info!(
                call_id = %hosted.call_id,
                port = hosted.port,
                rtp_dropped_foreign_source = dropped.foreign_source,
                rtp_dropped_foreign_ssrc = dropped.foreign_ssrc,
                "node: call ended"
            );
            self.ended_drops += dropped;
            self.by_call_id.remove(&hosted.call_id);
            self.by_port.remove(hosted.port);
            self.free_ports.release(now, hosted.port);
            self.media(MediaOutput::ReleaseRtp(hosted.port));
        }
    }
}
