//! The node: every call and every room of one media node, sans-IO (issue #4).
//!
//! The node only routes; each protocol rule lives in the module it calls:
//!
//! - **SIP datagrams** are parsed by the [codec](crate::sip::codec) (garbage gets its
//!   [`bad_request`] or nothing). A request from a source that is neither a trunk
//!   address nor an IP phone's ([`IpPhones`]) gets 403; a message whose Call-ID names a call goes to that
//!   [`Call`] (retransmitted INVITEs included); a response for no call is dropped;
//!   out of any call, OPTIONS gets 200 with Allow (the trunk's keep-alive), a
//!   request with a To tag (in-dialog) or any other non-INVITE gets 481, an ACK
//!   nothing.
//! - **A new INVITE**: the Request-URI's user part is the access number, looked up
//!   through the shell ([`Output::LookupNumber`]); unknown, or not routed to
//!   conferences, → 404; a store that cannot be read → 503. `*44` from an account's
//!   IP phone (by its address, or the identity the trunk asserts: [`crate::star44`])
//!   looks up that account instead ([`Output::LookupAccount`]), for the language
//!   its IVR speaks, and dials no number; `*44` from anyone else, or of an account
//!   that is gone, → 403. The shell hands the node the accounts' IP phones
//!   ([`Input::IpPhones`]) as it reads them from the store. The call then gets an
//!   RTP port drawn at random from the free ones of the range (none left → 503; a
//!   stranger cannot guess it from the calls before), the shell is told to
//!   [`Output::BindRtp`] it, and the [`Call`] takes the INVITE.
//! - **RTP** received on a port goes to the call that owns the port, which takes
//!   only its caller's ([`crate::rtp::source`]); what the calls drop is counted in
//!   [`Node::media_stats`].
//! - **Rooms**: a call's `Join` puts its leg into its conference's [`Room`]
//!   (created on the first join), `ToRoom` pushes its audio, `Leave` removes it
//!   (the room goes when empty). Each room ticks on its own absolute deadlines
//!   ([`Room::poll_timeout`]) and every leg's payload goes back to its call
//!   (`FromRoom`).
//! - **Lookups** of the IVR go out as [`Output::Lookup`], keyed by the call's
//!   [`LegKey`], and come back as inputs with that key; occupancy is answered here,
//!   from the room (a conference is pinned to one node; bridging is #5's).
//! - **The end**: a call's `Ended` forgets it and releases its port
//!   ([`Output::ReleaseRtp`]).
//!
//! Stateless answers (403, 404, 481, 503, OPTIONS' 200) are built with
//! [`response_to`] and a To tag that is a hash of the request, so a retransmitted
//! request gets the very same answer.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use rsip::headers::UntypedHeader;
use rsip::message::HeadersExt;
use rsip::{Header, Method, Request, SipMessage};

use teleconf_domain::{
    AccountId, ActivityKind, CallLeg, ConferenceId, ConferencePrompts, ControlCommand, E164,
    Language, LegId, LegQuality, LiveParticipant, PhoneNumber, PromptId,
};

use crate::call::{self, Call, Settings};
use crate::conference::{Conference, Control, Effect, Event};
use crate::ivr::{self, ConferenceInfo, IntroTarget};
use crate::mixer::{LegKey, LegStats};
use crate::prompts;
use crate::rtp::DroppedRtp;
use crate::sdp::LocalMedia;
use crate::sip::codec;
use crate::sip::dialog::ALLOW;
use crate::sip::transaction::{Timers, TransactionKey, response_to};
use crate::sources::Sources;
use crate::star44::{IpPhones, STAR44};

#[cfg(test)]
mod tests;

/// What a node is configured with.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// The SIP trunk's addresses: the only sources (besides the accounts' IP
    /// phones) whose requests are served.
    pub trunk_sources: Sources,
    /// Where the trunk's media may come from when not from the address its SDP
    /// gives (NAT): a call latches once on one of them ([`crate::rtp::source`]).
    pub trunk_media: Sources,
    /// Our SIP address, for Contact and Via.
    pub local_addr: SocketAddr,
    /// Our RTP address, advertised in SDP.
    pub rtp_addr: Ipv4Addr,
    /// The RTP ports calls get (even ones only, RFC 3550 §11), drawn at random
    /// from those free so that a call's port cannot be guessed.
    pub rtp_ports: Range<u16>,
    /// RFC 3261 timer values.
    pub timers: Timers,
}

/// The node's media figures since it started ([`Node::media_stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MediaStats {
    /// RTP packets the calls dropped: not from their caller's source, or not of
    /// its stream.
    pub rtp_dropped: DroppedRtp,
}

/// A lookup of the access number, handed out with [`Output::LookupNumber`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

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
    /// The node is to stop: new calls get 503 from now on, the calls up go on.
    Drain(Instant),
    /// Hang up every call (BYE, CDR closed); [`Node::calls`] reaches 0 once the
    /// BYEs are answered or time out.
    HangUpAll(Instant),
    /// Answers [`Output::LookupNumber`].
    NumberFound {
        /// Monotonic time.
        now: Instant,
        /// The lookup answered.
        req: RequestId,
        /// The number, `None` when unknown.
        number: Option<PhoneNumber>,
    },
    /// Answers [`Output::LookupAccount`]: the account's language, `None` when
    /// there is no such account.
    AccountFound {
        /// Monotonic time.
        now: Instant,
        /// The lookup answered.
        req: RequestId,
        /// The account's language.
        language: Option<Language>,
    },
    /// Answers [`Output::LookupNumber`] or [`Output::LookupAccount`] when the
    /// store could not be read: the caller gets 503, so the trunk may try another
    /// node or route.
    LookupFailed {
        /// Monotonic time.
        now: Instant,
        /// The lookup that failed.
        req: RequestId,
    },
    /// Answers [`Output::Lookup`] of `ivr::Output::LookupConference`.
    ConferenceFound {
        /// Monotonic time.
        now: Instant,
        /// The call that asked.
        leg: LegKey,
        /// The conference, `None` when no conference has the number.
        info: Option<ConferenceInfo>,
    },
    /// Answers [`Output::Lookup`] of `ivr::Output::LookupIntroCode`.
    IntroFound {
        /// Monotonic time.
        now: Instant,
        /// The call that asked.
        leg: LegKey,
        /// What the code opens, `None` when nothing.
        target: Option<IntroTarget>,
    },
    /// Answers [`Output::Lookup`] of `ivr::Output::CheckAttempts` and
    /// `ivr::Output::RecordFailure`.
    Attempts {
        /// Monotonic time.
        now: Instant,
        /// The call that asked.
        leg: LegKey,
        /// The failures counted now; `None` when the store could not tell (the
        /// call is refused: the counters fail closed).
        counts: Option<ivr::Attempts>,
    },
    /// Answers `ivr::Output::LookupOccupancy`, should the shell know better than
    /// the room (the node answers it itself).
    Occupancy {
        /// Monotonic time.
        now: Instant,
        /// The call that asked.
        leg: LegKey,
        /// Callers in the conference.
        callers: u32,
    },
    /// Answers [`Output::FetchPrompt`]: the prompt's 8 kHz PCM.
    PromptAudio {
        /// Monotonic time.
        now: Instant,
        /// The call that asked.
        leg: LegKey,
        /// The prompt.
        id: PromptId,
        /// Its audio.
        pcm: Arc<[i16]>,
    },
    /// The accounts' IP phones as the store holds them now: they replace those the
    /// node knew (who may dial `*44`, and whose address may send requests).
    IpPhones(IpPhones),
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

/// What the node asks of its shell, drained with [`Node::poll_output`].
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// A SIP datagram to send from the SIP socket.
    SendSip {
        /// Destination.
        to: SocketAddr,
        /// The printed message.
        bytes: Vec<u8>,
    },
    /// An RTP datagram to send from one of our RTP ports.
    SendRtp {
        /// The port (bound after [`Output::BindRtp`]).
        from_port: u16,
        /// Destination.
        to: SocketAddr,
        /// The packet.
        bytes: Vec<u8>,
    },
    /// Look up the access number; answer with [`Input::NumberFound`].
    LookupNumber {
        /// The key of the answer.
        req: RequestId,
        /// The number dialled.
        e164: E164,
    },
    /// Look up the account of an IP phone's `*44`, for its language; answer with
    /// [`Input::AccountFound`].
    LookupAccount {
        /// The key of the answer.
        req: RequestId,
        /// The IP phone's account.
        account: AccountId,
    },
    /// A call's lookup or record (`LookupConference`, `CheckAttempts`,
    /// `RecordFailure`); answer with the matching input and `leg`.
    Lookup {
        /// The call that asks.
        leg: LegKey,
        /// What it asks.
        what: ivr::Output,
    },
    /// Fetch a custom prompt; answer with [`Input::PromptAudio`].
    FetchPrompt {
        /// The call that asks.
        leg: LegKey,
        /// The prompt.
        id: PromptId,
    },
    /// Write the CDR leg.
    CdrOpen(CallLeg),
    /// Close the CDR leg.
    CdrClose(CallLeg),
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
    /// Open a socket on this RTP port.
    BindRtp(u16),
    /// Close the socket of this RTP port.
    ReleaseRtp(u16),
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

/// An INVITE waiting for its access number, or for its `*44` account.
#[derive(Debug)]
struct PendingInvite {
    request: Request,
    source: SocketAddr,
    call_id: String,
    /// The call's span, from its first INVITE on ([`Leg::span`]).
    span: tracing::Span,
    /// The access number, or `None` for `*44`.
    dialled: Option<E164>,
    /// For `*44`, the account of the IP phone that dialled.
    star44: Option<AccountId>,
    /// When it came, with the wall clock then.
    received: (Instant, DateTime<Utc>),
}

/// A call and what the node knows of it.
#[derive(Debug)]
struct Leg {
    call: Call,
    call_id: String,
    /// `call{call_id}`: entered for every input the call is fed but its room's
    /// frames ([`Node::feed`]), so every line the call (its dialog, IVR, media
    /// source…) and the node on its behalf log names it; the shell's work for the
    /// call runs in it too ([`Node::call_span`]).
    span: tracing::Span,
    port: u16,
    /// Its room, while it is in one.
    conference: Option<ConferenceId>,
}

/// What a new call is given besides its INVITE.
#[derive(Debug)]
struct NewCall {
    request: Request,
    source: SocketAddr,
    call_id: String,
    span: tracing::Span,
    dialled: Option<E164>,
    wall_clock: DateTime<Utc>,
    language: Language,
    prompts: teleconf_domain::ConferencePrompts,
    star44: Option<AccountId>,
}

/// Every call and room of one media node. See the [module documentation](self).
#[derive(Debug)]
pub struct Node {
    config: NodeConfig,
    outputs: VecDeque<Output>,
    legs: HashMap<LegKey, Leg>,
    by_call_id: HashMap<String, LegKey>,
    by_port: HashMap<u16, LegKey>,
    rooms: HashMap<ConferenceId, Conference>,
    /// Reception figures of legs that left their room, until their CDR closes.
    left: HashMap<LegKey, LegStats>,
    /// Callers admitted and not yet gone, as the live view shows them.
    on_line: HashMap<LegKey, LiveParticipant>,
    /// Each call's next deadline, and the calls ordered by it.
    deadlines: HashMap<LegKey, Instant>,
    by_deadline: BTreeSet<(Instant, LegKey)>,
    pending: HashMap<RequestId, PendingInvite>,
    /// Who may dial `*44` (and send requests from an address of their own).
    ip_phones: IpPhones,
    /// The RTP ports no call holds, in no order (a call's is drawn at random).
    free_ports: Vec<u16>,
    /// Shared by every call: where the trunk's media may come from.
    trunk_media: Arc<Sources>,
    /// RTP dropped by the calls that ended.
    ended_drops: DroppedRtp,
    /// Frames its callers never got: the rooms' deadlines skipped (a tick very
    /// late) times the legs in the room then.
    frames_lost: u64,
    /// New calls are refused (503): the node is stopping.
    draining: bool,
    next_leg: u64,
    next_req: u64,
    /// Scratch of the tick, kept between ticks so a tick allocates nothing.
    tick_legs: Vec<LegKey>,
    tick_frames: Vec<(LegKey, [u8; prompts::FRAME_SAMPLES])>,
}

impl Node {
    /// A node with no call.
    pub fn new(config: NodeConfig) -> Self {
        // RFC 3550 §11: RTP on even ports (the odd one above is RTCP's).
        let free_ports = config.rtp_ports.clone().filter(|p| p % 2 == 0).collect();
        Self {
            trunk_media: Arc::new(config.trunk_media.clone()),
            ended_drops: DroppedRtp::default(),
            frames_lost: 0,
            config,
            outputs: VecDeque::new(),
            legs: HashMap::new(),
            by_call_id: HashMap::new(),
            by_port: HashMap::new(),
            rooms: HashMap::new(),
            left: HashMap::new(),
            on_line: HashMap::new(),
            deadlines: HashMap::new(),
            by_deadline: BTreeSet::new(),
            pending: HashMap::new(),
            ip_phones: IpPhones::default(),
            free_ports,
            draining: false,
            next_leg: 0,
            next_req: 0,
            tick_legs: Vec::new(),
            tick_frames: Vec::new(),
        }
    }

    /// Calls alive (for the shell's drain and the tests).
    pub fn calls(&self) -> usize {
        self.legs.len()
    }

    /// The media figures since the node started: those of the calls that ended
    /// and of the calls up.
    pub fn media_stats(&self) -> MediaStats {
        let mut rtp_dropped = self.ended_drops;
        for leg in self.legs.values() {
            rtp_dropped += leg.call.dropped_rtp();
        }
        MediaStats { rtp_dropped }
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
    /// room ticked more than [`crate::mixer::MAX_CATCH_UP_FRAMES`] periods late
    /// skips the deadlines missed, each a frame lost for every leg in it.
    pub fn frames_lost(&self) -> u64 {
        self.frames_lost
    }

    /// The span of the call `leg` (`call{call_id}`), for the shell's work on its
    /// behalf (its lookups); `None` once the call is gone.
    pub fn call_span(&self, leg: LegKey) -> Option<&tracing::Span> {
        self.legs.get(&leg).map(|leg| &leg.span)
    }

    /// The span of the call whose INVITE waits for the lookup `req`.
    pub fn request_span(&self, req: RequestId) -> Option<&tracing::Span> {
        self.pending.get(&req).map(|pending| &pending.span)
    }

    /// The conferences this node holds (those with a room): the ones whose portal
    /// commands the shell fetches.
    pub fn conferences(&self) -> impl Iterator<Item = ConferenceId> + '_ {
        self.rooms.keys().copied()
    }

    /// Feeds one input.
    pub fn handle_input(&mut self, input: Input<'_>) {
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
                if let Some(&leg) = self.by_port.get(&port) {
                    self.feed(now, leg, call::Input::Rtp(bytes, from));
                }
            }
            Input::Tick(now) => {
                let mut legs = std::mem::take(&mut self.tick_legs);
                legs.extend(
                    self.legs
                        .iter()
                        .filter(|(_, leg)| leg.call.wants_tick())
                        .map(|(key, _)| *key),
                );
                for &leg in &legs {
                    self.feed(now, leg, call::Input::Tick);
                }
                legs.clear();
                self.tick_legs = legs;
                self.tick_rooms(now);
            }
            Input::Timeout(now) => {
                let due: Vec<LegKey> = self
                    .by_deadline
                    .iter()
                    .take_while(|(at, _)| *at <= now)
                    .map(|(_, key)| *key)
                    .collect();
                for leg in due {
                    self.feed(now, leg, call::Input::Timeout);
                }
                self.tick_rooms(now);
            }
            Input::Drain(_) => self.draining = true,
            Input::HangUpAll(now) => {
                self.draining = true;
                let legs: Vec<LegKey> = self.legs.keys().copied().collect();
                for leg in legs {
                    self.feed(now, leg, call::Input::HangUp);
                }
            }
            Input::NumberFound { now, req, number } => self.number_found(now, req, number),
            Input::AccountFound { now, req, language } => self.account_found(now, req, language),
            Input::LookupFailed { req, .. } => {
                if let Some(pending) = self.pending.remove(&req) {
                    let _call = pending.span.enter();
                    tracing::warn!("node: lookup failed");
                    self.respond(pending.source, &pending.request, 503);
                }
            }
            Input::IntroFound { now, leg, target } => {
                self.feed(now, leg, call::Input::IntroFound(target));
            }
            Input::ConferenceFound { now, leg, info } => {
                // A moderator's lock lives here, in the conference's state.
                let info = info.map(|mut info| {
                    info.locked |= self.rooms.get(&info.id).is_some_and(Conference::is_locked);
                    info
                });
                self.feed(now, leg, call::Input::ConferenceFound(info));
            }
            Input::Attempts { now, leg, counts } => {
                self.feed(now, leg, call::Input::Attempts(counts));
            }
            Input::Occupancy { now, leg, callers } => {
                self.feed(now, leg, call::Input::Occupancy(callers));
            }
            Input::PromptAudio { now, leg, id, pcm } => {
                self.feed(now, leg, call::Input::PromptAudio(id, pcm));
            }
            Input::Control {
                now,
                conference,
                command,
            } => self.control(now, conference, command),
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
        let rooms = self.rooms.values().filter_map(Conference::poll_timeout);
        calls.into_iter().chain(rooms).min()
    }

    // ---- SIP ---------------------------------------------------------------------

    fn receive_sip(
        &mut self,
        now: Instant,
        wall_clock: DateTime<Utc>,
        from: SocketAddr,
        bytes: &[u8],
    ) {
        let message = match codec::parse(bytes) {
            Ok(message) => message,
            Err(error) => {
                tracing::debug!(%from, %error, "node: unreadable SIP");
                if self.is_allowed(from.ip())
                    && let Some(bytes) = codec::bad_request(bytes, &error)
                {
                    self.outputs.push_back(Output::SendSip { to: from, bytes });
                }
                return;
            }
        };
        let request = match message {
            SipMessage::Response(response) => {
                if let Some(leg) = call_id(&response).and_then(|id| self.by_call_id.get(&id)) {
                    let leg = *leg;
                    self.feed(now, leg, call::Input::Sip(SipMessage::Response(response)));
                }
                return;
            }
            SipMessage::Request(request) => request,
        };
        if request.method == Method::Ack && !self.is_allowed(from.ip()) {
            return;
        }
        if !self.is_allowed(from.ip()) {
            tracing::info!(%from, method = %request.method, "node: source not allowed");
            return self.respond(from, &request, 403);
        }
        let Some(id) = call_id(&request) else {
            return;
        };
        if let Some(&leg) = self.by_call_id.get(&id) {
            return self.feed(now, leg, call::Input::Sip(SipMessage::Request(request)));
        }
        let in_dialog = request
            .to_header()
            .ok()
            .and_then(|to| to.tag().ok().flatten())
            .is_some();
        match request.method {
            Method::Ack => {}
            Method::Invite if !in_dialog => self.new_invite(now, wall_clock, from, id, request),
            Method::Options if !in_dialog => {
                let mut response = response_to(&request, 200, Some(&stateless_tag(&request)));
                response
                    .headers
                    .push(Header::Allow(rsip::headers::Allow::new(ALLOW)));
                self.send(from, SipMessage::Response(response));
            }
            _ => self.respond(from, &request, 481),
        }
    }

    fn is_allowed(&self, ip: IpAddr) -> bool {
        self.config.trunk_sources.contains(ip) || self.ip_phones.has_address(ip)
    }

    fn new_invite(
        &mut self,
        now: Instant,
        wall_clock: DateTime<Utc>,
        source: SocketAddr,
        call_id: String,
        request: Request,
    ) {
        if self.pending.values().any(|p| p.call_id == call_id) {
            return; // A retransmission while its number is looked up.
        }
        if self.draining {
            return self.respond(source, &request, 503);
        }
        // No RFC 3261 branch (an RFC 2543 peer's Via, or none): no transaction
        // could answer it, so no call may start (found by the fuzz).
        if TransactionKey::of_request(&request).is_none() {
            return self.respond(source, &request, 400);
        }
        let span = tracing::info_span!("call", %call_id);
        let call = span.clone();
        let _call = call.enter();
        let user = request.uri.user().unwrap_or_default().to_string();
        let req = RequestId(self.next_req);
        let (dialled, star44) = if user == STAR44 {
            let from_trunk = self.config.trunk_sources.contains(source.ip());
            let Some(account) = self.ip_phones.account_of(&request, source.ip(), from_trunk) else {
                tracing::info!(%source, "node: *44 from no account's IP phone");
                return self.respond(source, &request, 403);
            };
            self.outputs
                .push_back(Output::LookupAccount { req, account });
            (None, Some(account))
        } else {
            let Ok(dialled) = user.parse::<E164>() else {
                tracing::info!(%user, "node: not an E.164 number");
                return self.respond(source, &request, 404);
            };
            self.outputs.push_back(Output::LookupNumber {
                req,
                e164: dialled.clone(),
            });
            (Some(dialled), None)
        };
        self.next_req += 1;
        self.pending.insert(
            req,
            PendingInvite {
                request,
                source,
                call_id,
                span,
                dialled,
                star44,
                received: (now, wall_clock),
            },
        );
    }

    fn number_found(&mut self, now: Instant, req: RequestId, number: Option<PhoneNumber>) {
        let Some(pending) = self.pending.remove(&req) else {
            return;
        };
        let call = pending.span.clone();
        let _call = call.enter();
        let Some((number, prompts)) = number
            .as_ref()
            .and_then(|n| n.conference_prompts().map(|p| (n, p.clone())))
        else {
            tracing::info!("node: no conference access on this number");
            return self.respond(pending.source, &pending.request, 404);
        };
        let language = number.greeting_language;
        self.start_pending(now, pending, language, prompts);
    }

    /// A `*44` call's account is known: the IVR speaks its language.
    fn account_found(&mut self, now: Instant, req: RequestId, language: Option<Language>) {
        let Some(pending) = self.pending.remove(&req) else {
            return;
        };
        let call = pending.span.clone();
        let _call = call.enter();
        let Some(language) = language else {
            tracing::warn!("node: *44 from a phone of no account");
            return self.respond(pending.source, &pending.request, 403);
        };
        self.start_pending(now, pending, language, ConferencePrompts::default());
    }

    fn start_pending(
        &mut self,
        now: Instant,
        pending: PendingInvite,
        language: Language,
        prompts: ConferencePrompts,
    ) {
        if self.draining {
            return self.respond(pending.source, &pending.request, 503);
        }
        let elapsed = TimeDelta::from_std(now.saturating_duration_since(pending.received.0))
            .unwrap_or(TimeDelta::zero());
        self.start_call(
            now,
            NewCall {
                request: pending.request,
                source: pending.source,
                call_id: pending.call_id,
                span: pending.span,
                dialled: pending.dialled,
                wall_clock: pending.received.1 + elapsed,
                language,
                prompts,
                star44: pending.star44,
            },
        );
    }

    /// A free RTP port drawn at random, taken from the free ones.
    fn take_port(&mut self) -> Option<u16> {
        if self.free_ports.is_empty() {
            return None;
        }
        let draw = u32::from_be_bytes(teleconf_domain::random::bytes());
        let index = usize::try_from(draw).unwrap_or(0) % self.free_ports.len();
        Some(self.free_ports.swap_remove(index))
    }

    fn start_call(&mut self, now: Instant, new: NewCall) {
        let Some(port) = self.take_port() else {
            tracing::warn!("node: no RTP port left");
            return self.respond(new.source, &new.request, 503);
        };
        let key = LegKey(self.next_leg);
        self.next_leg += 1;
        let random: [u8; 20] = teleconf_domain::random::bytes();
        let [
            t0,
            t1,
            t2,
            t3,
            t4,
            t5,
            t6,
            t7,
            s0,
            s1,
            s2,
            s3,
            i0,
            i1,
            i2,
            i3,
            i4,
            i5,
            i6,
            i7,
        ] = random;
        let local_tag = format!(
            "{:016x}",
            u64::from_be_bytes([t0, t1, t2, t3, t4, t5, t6, t7])
        );
        let Ok(local_contact) =
            rsip::Uri::try_from(format!("sip:conference@{}", self.config.local_addr))
        else {
            self.free_ports.push(port);
            return self.respond(new.source, &new.request, 500);
        };
        let settings = Settings {
            leg: key,
            local_tag,
            ssrc: u32::from_be_bytes([s0, s1, s2, s3]),
            local_contact,
            via_host: self.config.local_addr.to_string(),
            timers: self.config.timers,
            answer_after: Duration::ZERO,
            trunk_media: self.trunk_media.clone(),
        };
        let local_media = LocalMedia {
            addr: self.config.rtp_addr,
            port,
            // RFC 4566 §5.2: an NTP-format id is suggested; any unique number works.
            session_id: u64::from_be_bytes([i0, i1, i2, i3, i4, i5, i6, i7]) >> 1,
            version: 1,
        };
        tracing::info!(port, leg = key.0, "node: new call");
        self.outputs.push_back(Output::BindRtp(port));
        self.by_call_id.insert(new.call_id.clone(), key);
        self.by_port.insert(port, key);
        self.legs.insert(
            key,
            Leg {
                call: Call::new(settings),
                call_id: new.call_id,
                span: new.span,
                port,
                conference: None,
            },
        );
        let caller_id = new
            .request
            .from_header()
            .ok()
            .and_then(|from| from.uri().ok())
            .and_then(|uri| uri.user().map(str::to_string))
            .filter(|user| !user.is_empty())
            .unwrap_or_else(|| "anonymous".into());
        self.feed(
            now,
            key,
            call::Input::Invite {
                request: new.request,
                source: new.source,
                dialled: new.dialled,
                caller_id,
                local_media,
                wall_clock: new.wall_clock,
                language: new.language,
                prompts: new.prompts,
                star44: new.star44,
            },
        );
    }

    /// A stateless response to `request`.
    fn respond(&mut self, to: SocketAddr, request: &Request, status: u16) {
        if request.method == Method::Ack {
            return;
        }
        let response = response_to(request, status, Some(&stateless_tag(request)));
        self.send(to, SipMessage::Response(response));
    }

    fn send(&mut self, to: SocketAddr, message: SipMessage) {
        self.outputs.push_back(Output::SendSip {
            to,
            bytes: codec::encode(&message),
        });
    }

    // ---- calls and rooms ---------------------------------------------------------

    /// Feeds one input to a call and carries out what it asks, in the call's span.
    /// Its room's frames, 50 a second per caller and never logged about, go
    /// without: entering a span costs about 0.1 µs.
    fn feed(&mut self, now: Instant, key: LegKey, input: call::Input<'_>) {
        let Some(leg) = self.legs.get_mut(&key) else {
            return;
        };
        // Taken out while entered (the node is borrowed mutably meanwhile), put
        // back after; a feed of the same call nested in this one finds none and
        // logs in this one's.
        let span = (!matches!(input, call::Input::FromRoom(_)))
            .then(|| std::mem::replace(&mut leg.span, tracing::Span::none()));
        let entered = span.as_ref().map(tracing::Span::enter);
        leg.call.handle_input(now, input);
        while let Some(output) = self
            .legs
            .get_mut(&key)
            .and_then(|leg| leg.call.poll_output())
        {
            self.carry_out(now, key, output);
        }
        self.reindex(key);
        drop(entered);
        if let (Some(span), Some(leg)) = (span, self.legs.get_mut(&key)) {
            leg.span = span;
        }
    }

    /// Files the call's next deadline (none once it is gone), so that
    /// [`Node::poll_timeout`] never walks every call: the shell asks after every
    /// packet, and that walk was most of a loaded node's time (`make bench`).
    fn reindex(&mut self, key: LegKey) {
        let next = self.legs.get(&key).and_then(|leg| leg.call.poll_timeout());
        if self.deadlines.get(&key) == next.as_ref() {
            return;
        }
        if let Some(old) = self.deadlines.remove(&key) {
            self.by_deadline.remove(&(old, key));
        }
        if let Some(at) = next {
            self.deadlines.insert(key, at);
            self.by_deadline.insert((at, key));
        }
    }

    fn carry_out(&mut self, now: Instant, key: LegKey, output: call::Output) {
        let Some(leg) = self.legs.get_mut(&key) else {
            return;
        };
        match output {
            call::Output::SendSip { to, bytes } => {
                self.outputs.push_back(Output::SendSip { to, bytes })
            }
            call::Output::SendRtp { to, bytes } => self.outputs.push_back(Output::SendRtp {
                from_port: leg.port,
                to,
                bytes,
            }),
            call::Output::Ivr(ivr::Output::LookupOccupancy(conference)) => {
                let callers = self.rooms.get(&conference).map_or(0, Conference::len);
                let callers = u32::try_from(callers).unwrap_or(u32::MAX);
                leg.call.handle_input(now, call::Input::Occupancy(callers));
            }
            call::Output::Ivr(what) => self.outputs.push_back(Output::Lookup { leg: key, what }),
            call::Output::FetchPrompt(id) => {
                self.outputs.push_back(Output::FetchPrompt { leg: key, id });
            }
            call::Output::Join {
                leg: _,
                conference,
                role,
                codec,
                account,
                record,
            } => {
                if record && !self.rooms.contains_key(&conference) {
                    self.outputs.push_back(Output::RecordingStart {
                        conference,
                        account,
                    });
                }
                // A room mixes on its own deadlines, from its first caller's
                // admission: rooms opened at different moments spread the
                // node's work over the 20 ms period.
                let room = self.rooms.entry(conference).or_insert_with(|| {
                    let mut room = Conference::new(account, record);
                    room.room_mut().anchor(now);
                    room
                });
                match room.join(key, role, codec) {
                    Ok(effects) => {
                        leg.conference = Some(conference);
                        self.apply(now, conference, effects);
                    }
                    Err(error) => tracing::warn!(%error, "node: join refused"),
                }
            }
            call::Output::Keypad { leg: _, command } => {
                if let Some((conference, effects)) = leg.conference.and_then(|c| {
                    self.rooms
                        .get_mut(&c)
                        .map(|room| (c, room.command(key, command)))
                }) {
                    self.apply(now, conference, effects);
                }
            }
            call::Output::ToRoom {
                leg: _,
                seq,
                ts,
                payload,
            } => {
                if let Some(room) = leg.conference.and_then(|c| self.rooms.get_mut(&c))
                    && let Err(error) = room.room_mut().push(now, key, seq, ts, &payload)
                {
                    tracing::debug!(%error, "node: frame refused by the room");
                }
            }
            call::Output::Leave { leg: _ } => self.leave_room(now, key),
            call::Output::StoreIntro { target, pcm } => {
                self.outputs.push_back(Output::StoreIntro { target, pcm });
            }
            call::Output::CdrOpen(cdr) => {
                let muted = leg
                    .conference
                    .and_then(|c| self.rooms.get(&c))
                    .and_then(|room| room.room().is_muted(key))
                    .unwrap_or(false);
                let participant = LiveParticipant {
                    leg_id: cdr.id,
                    conference_id: cdr.conference_id,
                    account_id: cdr.account_id,
                    caller_id: cdr.caller_id.clone(),
                    role: cdr.role,
                    joined_at: cdr.joined_at,
                    muted,
                };
                self.outputs
                    .push_back(Output::Live(LiveUpdate::Put(participant.clone())));
                self.on_line.insert(key, participant);
                self.outputs.push_back(Output::CdrOpen(cdr));
            }
            call::Output::CdrClose(mut cdr) => {
                // The room's figures for the leg, kept when it left (just before).
                if let Some(stats) = self.left.remove(&key) {
                    cdr.quality = Some(LegQuality {
                        packets_received: stats.received,
                        packets_lost: stats.lost,
                        max_jitter_ms: u32::try_from(stats.max_jitter().as_millis())
                            .unwrap_or(u32::MAX),
                    });
                }
                if self.on_line.remove(&key).is_some() {
                    self.outputs.push_back(Output::Live(LiveUpdate::Remove {
                        conference: cdr.conference_id,
                        leg: cdr.id,
                    }));
                }
                self.outputs.push_back(Output::CdrClose(cdr));
            }
            call::Output::Ended => self.forget(now, key),
        }
    }

    fn leave_room(&mut self, now: Instant, key: LegKey) {
        let Some(conference) = self
            .legs
            .get_mut(&key)
            .and_then(|leg| leg.conference.take())
        else {
            return;
        };
        if let Some(room) = self.rooms.get_mut(&conference) {
            let (stats, effects) = room.leave(key);
            if let Some(stats) = stats {
                self.left.insert(key, stats);
            }
            if room.is_empty() {
                tracing::info!(%conference, "node: room closed");
                if room.records() {
                    self.outputs.push_back(Output::RecordingStop { conference });
                }
                self.rooms.remove(&conference);
            }
            self.apply(now, conference, effects);
        }
    }

    /// Carries out what a change of `conference` asks of its calls, and tells
    /// the shell what the live view and the activity feed show.
    fn apply(&mut self, now: Instant, conference: ConferenceId, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Say(leg, prompt) => self.feed(now, leg, call::Input::Say(prompt)),
                Effect::Remove(leg) => self.feed(now, leg, call::Input::Kick),
                Effect::Event(event) => self.publish(conference, event),
            }
        }
    }

    /// Carries out a portal command on `conference`'s room.
    fn control(&mut self, now: Instant, conference: ConferenceId, command: ControlCommand) {
        let caller = |leg_id: LegId| {
            self.on_line
                .iter()
                .find(|(_, p)| p.leg_id == leg_id && p.conference_id == conference)
                .map(|(key, _)| *key)
        };
        let control = match command {
            ControlCommand::Mute { leg_id } => caller(leg_id).map(|leg| Control::Mute(leg, true)),
            ControlCommand::Unmute { leg_id } => {
                caller(leg_id).map(|leg| Control::Mute(leg, false))
            }
            ControlCommand::Remove { leg_id } => caller(leg_id).map(Control::Remove),
            ControlCommand::Lock => Some(Control::Lock(true)),
            ControlCommand::Unlock => Some(Control::Lock(false)),
            ControlCommand::MuteAll => Some(Control::Lecture(true)),
            ControlCommand::UnmuteAll => Some(Control::Lecture(false)),
        };
        let effects = match (control, self.rooms.get_mut(&conference)) {
            (Some(control), Some(room)) => room.control(control),
            _ => {
                tracing::info!(%conference, command = command.as_str(), "node: control for no caller or room here");
                return;
            }
        };
        self.apply(now, conference, effects);
    }

    /// A conference event, as a live-view update and an activity entry.
    fn publish(&mut self, conference: ConferenceId, event: Event) {
        let caller = |on_line: &HashMap<LegKey, LiveParticipant>, leg: LegKey| {
            on_line
                .get(&leg)
                .map(|p| p.caller_id.clone())
                .unwrap_or_default()
        };
        let (kind, summary) = match event {
            Event::Muted(leg, muted) => {
                if let Some(participant) = self.on_line.get_mut(&leg) {
                    participant.muted = muted;
                    let update = LiveUpdate::Put(participant.clone());
                    self.outputs.push_back(Output::Live(update));
                }
                let kind = if muted {
                    ActivityKind::CallerMuted
                } else {
                    ActivityKind::CallerUnmuted
                };
                (kind, caller(&self.on_line, leg))
            }
            Event::Lecture(on) => (
                if on {
                    ActivityKind::LectureModeOn
                } else {
                    ActivityKind::LectureModeOff
                },
                String::new(),
            ),
            Event::Locked(on) => (
                if on {
                    ActivityKind::ConferenceLocked
                } else {
                    ActivityKind::ConferenceUnlocked
                },
                String::new(),
            ),
            Event::RecordingPaused(on) => (
                if on {
                    ActivityKind::RecordingPaused
                } else {
                    ActivityKind::RecordingResumed
                },
                String::new(),
            ),
            Event::Removed(leg) => (ActivityKind::CallerRemoved, caller(&self.on_line, leg)),
        };
        if let Some(account) = self.rooms.get(&conference).and_then(Conference::account) {
            self.outputs.push_back(Output::Activity {
                account,
                conference,
                kind,
                summary,
            });
        }
    }

    fn forget(&mut self, now: Instant, key: LegKey) {
        self.leave_room(now, key);
        self.left.remove(&key);
        if let Some(leg) = self.legs.remove(&key) {
            let dropped = leg.call.dropped_rtp();
            tracing::info!(
                call_id = %leg.call_id,
                port = leg.port,
                rtp_dropped_foreign_source = dropped.foreign_source,
                rtp_dropped_foreign_ssrc = dropped.foreign_ssrc,
                "node: call ended"
            );
            self.ended_drops += dropped;
            self.by_call_id.remove(&leg.call_id);
            self.by_port.remove(&leg.port);
            self.free_ports.push(leg.port);
            self.outputs.push_back(Output::ReleaseRtp(leg.port));
        }
    }

    /// Ticks every room whose deadline has come (catching up when late) and hands
    /// each leg its payload.
    fn tick_rooms(&mut self, now: Instant) {
        let mut frames = std::mem::take(&mut self.tick_frames);
        for (id, conference) in &mut self.rooms {
            while let Some(report) = conference.room_mut().tick(now) {
                self.frames_lost += u64::from(report.skipped_frames) * conference.len() as u64;
                frames.extend(conference.room().outputs().filter_map(|(leg, payload)| {
                    payload.try_into().ok().map(|frame| (leg, frame))
                }));
                if let Some(pcm) = conference.recording_frame() {
                    self.outputs.push_back(Output::RecordFrame {
                        conference: *id,
                        pcm: pcm.into(),
                    });
                }
            }
        }
        for (leg, frame) in &frames {
            self.feed(now, *leg, call::Input::FromRoom(frame));
        }
        frames.clear();
        self.tick_frames = frames;
    }
}

/// The Call-ID of a message.
fn call_id(message: &impl HeadersExt) -> Option<String> {
    message
        .call_id_header()
        .ok()
        .map(|header| header.value().to_string())
}

/// The To tag of a stateless response: a hash of the request's identity, so its
/// retransmission gets the same response (as [`codec::bad_request`] does).
fn stateless_tag(request: &Request) -> String {
    let mut hasher = DefaultHasher::new();
    for header in [
        request.call_id_header().map(|h| h.value().to_string()),
        request.from_header().map(|h| h.value().to_string()),
        request.cseq_header().map(|h| h.value().to_string()),
        request.via_header().map(|h| h.value().to_string()),
    ] {
        header.unwrap_or_default().hash(&mut hasher);
    }
    format!("{:016x}", hasher.finish())
}
