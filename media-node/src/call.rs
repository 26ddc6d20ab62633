//! One inbound call leg, sans-IO: the glue between the SIP transactions and dialog,
//! SDP, RTP and DTMF, the IVR, the prompt player and the conference room (issue #4).
//!
//! Every rule lives in the module that owns it; a [`Call`] only routes:
//!
//! - **SIP**: every request goes through the call's [`ServerTransactions`] (100
//!   Trying, 2xx retransmitted until the ACK, retransmissions absorbed, CANCEL →
//!   487), then through the [`Dialog`] ([`Dialog::classify`]); our BYE is a
//!   [`ClientTransaction`] (Timer E/F).
//! - **SDP**: [`sdp::answer`] for an INVITE with an offer, [`sdp::offer`] in the 200
//!   for one without (the answer comes in the ACK, [`sdp::accept_answer`]); the same
//!   for re-INVITEs (hold: [`Negotiated::remote`] is `None`, we stop sending).
//! - **RTP**: only the caller's media is taken ([`MediaSource`]): packets from
//!   the address its SDP gave, or, where the trunk's media comes from elsewhere
//!   (NAT), from one of the trunk's media sources or the host the INVITE came
//!   from, latched once; after that, every
//!   packet from another source or with another SSRC is dropped and counted
//!   ([`Call::dropped_rtp`]). We send to the latched source (symmetric RTP), the
//!   SDP address until then. Telephone events go to the [`DtmfReceiver`], audio
//!   after admission to the room ([`Output::ToRoom`]).
//! - **IVR**: keys (RFC 4733 or SIP INFO) go to the [`Ivr`] until admission, then
//!   to the [`Keypad`]; the IVR's lookups go out as [`Output::Ivr`] and come back
//!   as inputs; its prompts play through the [`Player`], one clip per prompt,
//!   each clip's end reported as `PromptFinished`.
//! - **Room**: the room is shared by every call of a conference, so the call does
//!   not own it: it asks the node to [`Output::Join`], pushes the caller's audio
//!   with [`Output::ToRoom`], gets its mix back with [`Input::FromRoom`] and asks to
//!   [`Output::Leave`]. The conference's intro is played *before* the room's audio:
//!   while the player is busy the room's frames are dropped (the caller is already
//!   in the room and heard by the others; they hear the room once the intro ends).
//!
//! # Time
//!
//! Monotonic time is the `now` of every input. The wall clock is read once, at the
//! INVITE ([`Input::Invite::wall_clock`]), and advanced with `now`, as the IVR does:
//! the CDR's join and leave times come from it.
//!
//! # End of the call
//!
//! When the call is over (BYE either way, CANCEL, failed INVITE, RTP timeout) the
//! CDR leg is closed at once ([`Output::Leave`], [`Output::CdrClose`]), but
//! [`Output::Ended`] waits until every transaction has finished (Timer J absorbs a
//! retransmitted BYE, Timer K the retransmitted 200 to ours, Timer I the ACK of a
//! 487): the node keeps routing the call's messages until then.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use rsip::{Request, Response, SipMessage};

use teleconf_domain::{
    AccountId, CallLeg, CallerRole, CallerSource, ConferenceId, ConferencePrompts, DisconnectCause,
    E164, Language, LegId, PromptId, YearMonth,
};

use crate::intro::{self, IntroRecorder};
use crate::ivr::{self, ConferenceInfo, IntroTarget, Ivr, Prompt};
use crate::keypad::{Command, Keypad};
use crate::mixer::LegKey;
use crate::prompts::{self, Audio, Clip, Frame, Player};
use crate::rtp::{self, Digit, DropReason, DroppedRtp, DtmfReceiver, MediaSource, Verdict};
use crate::sdp::{self, Codec, LocalMedia, Negotiated, SdpError};
use crate::sip::dialog::{Dialog, DialogState, InDialog};
use crate::sip::transaction::{
    self, ClientTransaction, Received, Server, ServerTransactions, Timers, TransactionKey, TuEvent,
    response_to,
};
use crate::sources::Sources;

#[cfg(test)]
mod tests;

/// How long without RTP from the caller ends the call (issue #4: « RTP timeout 30 s »).
pub const RTP_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a call that sends us no media by agreement (an `inactive` or
/// `sendonly` hold) goes without a sign of its caller's side before we ask, by an
/// in-dialog OPTIONS, whether the dialog still stands: the RTP timeout cannot tell
/// a held call from one whose BYE was lost.
pub const HOLD_PROBE: Duration = Duration::from_secs(60);

/// How long a custom prompt may take to arrive from S3 before the default plays
/// instead (the caller should not hear dead air).
pub const FETCH_GRACE: Duration = Duration::from_secs(2);

/// How long before the planned end callers are told the conference ends soon.
pub const END_WARNING: TimeDelta = TimeDelta::minutes(5);

/// Samples (RTP timestamp units) in one 20 ms frame at 8 kHz.
const FRAME_TICKS: u32 = prompts::FRAME_SAMPLES as u32;

/// What a call is given when the node creates it: its identity on the node and the
/// values the core must not invent (randomness, addresses).
#[derive(Debug, Clone)]
pub struct Settings {
    /// The call's leg in its conference's room.
    pub leg: LegKey,
    /// Our To tag (RFC 3261 §19.3: at least 32 random bits, drawn by the node).
    pub local_tag: String,
    /// Our RTP SSRC (random, drawn by the node).
    pub ssrc: u32,
    /// Our Contact (`sip:conference@<addr:port>`).
    pub local_contact: rsip::Uri,
    /// The sent-by of our requests' Via (`<addr>:<port>`).
    pub via_host: String,
    /// RFC 3261 timer values.
    pub timers: Timers,
    /// Ringing before we answer (a 180 goes out meanwhile); zero answers at once.
    pub answer_after: Duration,
    /// The trunk's media sources: where the caller's RTP may come from when not
    /// from its SDP address (NAT), latched once ([`MediaSource`]).
    pub trunk_media: Arc<Sources>,
}

/// What happens to a call, each input stamped with `now` by [`Call::handle_input`].
#[derive(Debug)]
pub enum Input<'a> {
    /// The INVITE that creates the call. The node has already checked the trunk
    /// allow-list and looked up the access number.
    Invite {
        /// The INVITE.
        request: Request,
        /// Where it came from: where our SIP goes.
        source: SocketAddr,
        /// The access number dialled (`None` for `*44`).
        dialled: Option<E164>,
        /// The caller ID as the trunk presented it (`anonymous` when withheld).
        caller_id: String,
        /// Our RTP address and `o=` line.
        local_media: LocalMedia,
        /// The wall clock at `now` (the call's only reading of it).
        wall_clock: DateTime<Utc>,
        /// The number's language (the account's for `*44`).
        language: Language,
        /// The number's custom prompts.
        prompts: ConferencePrompts,
        /// `Some(account)` for a `*44` call from that account's IP phone.
        star44: Option<AccountId>,
    },
    /// A SIP message of this call (ACK, BYE, re-INVITE, INFO, CANCEL, OPTIONS,
    /// retransmissions, responses to our BYE).
    Sip(SipMessage),
    /// An RTP datagram received on the call's port, and its source.
    Rtp(&'a [u8], SocketAddr),
    /// The node's 20 ms tick: the next prompt frame is sent.
    Tick,
    /// The room's 20 ms for this leg, after [`Output::Join`].
    FromRoom(&'a [u8; prompts::FRAME_SAMPLES]),
    /// Answers [`ivr::Output::LookupConference`].
    ConferenceFound(Option<ConferenceInfo>),
    /// Answers [`ivr::Output::LookupIntroCode`].
    IntroFound(Option<IntroTarget>),
    /// Answers [`ivr::Output::CheckAttempts`] and [`ivr::Output::RecordFailure`]
    /// (`None`: the store could not tell).
    Attempts(Option<ivr::Attempts>),
    /// Answers [`ivr::Output::LookupOccupancy`].
    Occupancy(u32),
    /// Answers [`Output::FetchPrompt`]: the prompt's 8 kHz PCM.
    PromptAudio(PromptId, Arc<[i16]>),
    /// The deadline of [`Call::poll_timeout`] has come.
    Timeout,
    /// The node is going away: hang up (BYE, CDR closed as a bridge hang-up).
    HangUp,
    /// A moderator removed this caller: hang up (CDR closed as a kick).
    Kick,
    /// Say this to the caller, over the room's audio (a keypad answer, a tone).
    Say(Prompt),
}

/// What the call asks of the node, drained with [`Call::poll_output`].
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// A SIP message to send.
    SendSip {
        /// Destination.
        to: SocketAddr,
        /// The printed message.
        bytes: Vec<u8>,
    },
    /// An RTP packet to send from the call's port.
    SendRtp {
        /// Destination.
        to: SocketAddr,
        /// The packet.
        bytes: Vec<u8>,
    },
    /// A lookup or a count for the node: `LookupConference`, `CheckAttempts`,
    /// `RecordFailure` or `LookupOccupancy`. Answer with the matching input.
    Ivr(ivr::Output),
    /// Fetch this custom prompt (S3 or the node's cache); answer with
    /// [`Input::PromptAudio`]. After [`FETCH_GRACE`] the default plays instead.
    FetchPrompt(PromptId),
    /// Add the leg to the conference's room.
    Join {
        /// The leg.
        leg: LegKey,
        /// The conference.
        conference: ConferenceId,
        /// Its role there.
        role: CallerRole,
        /// The leg's codec.
        codec: Codec,
        /// The conference's account (whose bucket prefix a recording goes under).
        account: AccountId,
        /// The conference records.
        record: bool,
    },
    /// One frame of the caller's audio for the room ([`crate::mixer::Room::push`]).
    ToRoom {
        /// The leg.
        leg: LegKey,
        /// RTP sequence number.
        seq: u16,
        /// RTP timestamp.
        ts: u32,
        /// The payload (160 bytes of G.711).
        payload: Vec<u8>,
    },
    /// The caller keyed a keypad command in the conference.
    Keypad {
        /// The leg.
        leg: LegKey,
        /// What it asks.
        command: Command,
    },
    /// Store this recording as the conference's intro (intro by phone).
    StoreIntro {
        /// Whose intro, and the code that opened the recorder.
        target: IntroTarget,
        /// 8 kHz PCM.
        pcm: Arc<[i16]>,
    },
    /// Remove the leg from its room.
    Leave {
        /// The leg.
        leg: LegKey,
    },
    /// Write the CDR leg: the caller was admitted.
    CdrOpen(CallLeg),
    /// Close the CDR leg: `left_at` and `cause` are set.
    CdrClose(CallLeg),
    /// The call is over and every transaction finished: forget it.
    Ended,
}

/// What the INVITE told us about the caller, kept for the CDR and the IVR.
#[derive(Debug, Clone)]
struct Caller {
    source: SocketAddr,
    dialled: Option<E164>,
    caller_id: String,
    local_media: LocalMedia,
    started: (Instant, DateTime<Utc>),
    language: Language,
    prompts: ConferencePrompts,
    star44: Option<AccountId>,
}

/// A prompt the IVR asked for, waiting for its custom audio.
#[derive(Debug)]
struct Queued {
    prompt: Prompt,
    clips: Vec<Clip>,
    /// When the default plays instead of what is still missing.
    give_up_at: Instant,
}

/// One inbound call leg. See the [module documentation](self).
#[derive(Debug)]
pub struct Call {
    settings: Settings,
    outputs: VecDeque<Output>,
    caller: Option<Caller>,
    servers: ServerTransactions,
    /// The initial INVITE's transaction.
    invite_key: Option<TransactionKey>,
    /// When to send the 200 (ringing until then).
    answer_at: Option<Instant>,
    /// The SDP our 200 will carry.
    pending_answer: Option<String>,
    /// Our last SDP was an offer (offerless INVITE or re-INVITE): the ACK answers.
    awaiting_answer: bool,
    dialog: Option<Dialog>,
    /// Our BYE.
    bye: Option<ClientTransaction>,
    /// Our in-dialog OPTIONS, while one is out ([`HOLD_PROBE`]).
    probe: Option<ClientTransaction>,
    /// Probes sent (each gets its own branch).
    probes_sent: u32,
    /// When we last heard from the caller's side: SIP in the dialog or RTP.
    last_heard: Option<Instant>,
    /// A hang-up waiting for the ACK (no BYE on an early dialog, RFC 3261 §15).
    bye_pending: bool,
    negotiated: Option<Negotiated>,
    /// Whose RTP is taken, and where ours goes (symmetric RTP).
    media: MediaSource,
    /// When we last heard RTP (or answered).
    last_rtp: Option<Instant>,
    dtmf: Option<DtmfReceiver>,
    ivr: Ivr,
    player: Player,
    waiting: VecDeque<Queued>,
    fetched: HashMap<PromptId, Arc<[i16]>>,
    requested: HashSet<PromptId>,
    /// The conference the IVR found, for the CDR.
    conference: Option<ConferenceInfo>,
    /// The open CDR leg, from admission to the end.
    leg: Option<CallLeg>,
    admitted: bool,
    /// The keypad, once admitted.
    keypad: Option<Keypad>,
    /// When to say the conference ends in five minutes.
    warn_at: Option<Instant>,
    /// The intro recorder, when an intro code opened it.
    intro: Option<(IntroRecorder, IntroTarget)>,
    /// Our RTP sequence number, and the timestamp of the last packet sent.
    rtp_seq: u16,
    last_sent_ts: Option<u32>,
    /// Prompts played to their end (for the logs and the scenario tests).
    prompts_finished: u32,
    /// The call is over; [`Output::Ended`] once every transaction finished.
    over: bool,
    ended: bool,
}

impl Call {
    /// A call waiting for its [`Input::Invite`].
    pub fn new(settings: Settings) -> Self {
        Self {
            servers: ServerTransactions::new(settings.timers),
            media: MediaSource::new(settings.trunk_media.clone()),
            settings,
            outputs: VecDeque::new(),
            caller: None,
            invite_key: None,
            answer_at: None,
            pending_answer: None,
            awaiting_answer: false,
            dialog: None,
            bye: None,
            probe: None,
            probes_sent: 0,
            last_heard: None,
            bye_pending: false,
            negotiated: None,
            last_rtp: None,
            dtmf: None,
            ivr: Ivr::new(),
            player: Player::new(),
            waiting: VecDeque::new(),
            fetched: HashMap::new(),
            requested: HashSet::new(),
            conference: None,
            leg: None,
            admitted: false,
            keypad: None,
            warn_at: None,
            intro: None,
            rtp_seq: 0,
            last_sent_ts: None,
            prompts_finished: 0,
            over: false,
            ended: false,
        }
    }

    /// The leg's key in its room.
    pub fn leg(&self) -> LegKey {
        self.settings.leg
    }

    /// What was agreed in SDP, once it was.
    pub fn negotiated(&self) -> Option<&Negotiated> {
        self.negotiated.as_ref()
    }

    /// RTP packets dropped so far: not from the caller's source, or not of its
    /// stream.
    pub fn dropped_rtp(&self) -> DroppedRtp {
        self.media.dropped()
    }

    /// Whether [`Output::Ended`] was emitted.
    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// Feeds one input.
    pub fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        if self.ended {
            return;
        }
        match input {
            Input::Invite {
                request,
                source,
                dialled,
                caller_id,
                local_media,
                wall_clock,
                language,
                prompts,
                star44,
            } => {
                if self.caller.is_some() {
                    return;
                }
                self.media.signalled_from(source.ip());
                self.caller = Some(Caller {
                    source,
                    dialled,
                    caller_id,
                    local_media,
                    started: (now, wall_clock),
                    language,
                    prompts,
                    star44,
                });
                self.receive_request(now, request);
                // No transaction took it: nothing will answer or end this call.
                if self.invite_key.is_none() {
                    self.over = true;
                }
            }
            Input::Sip(SipMessage::Request(request)) => {
                self.last_heard = Some(now);
                self.receive_request(now, request);
            }
            Input::Sip(SipMessage::Response(response)) => {
                self.last_heard = Some(now);
                self.receive_response(now, response);
            }
            Input::Rtp(datagram, from) => self.receive_rtp(now, datagram, from),
            Input::Tick => self.tick(now),
            Input::HangUp => {
                if !self.over {
                    self.hang_up(now, DisconnectCause::BridgeHangup);
                }
            }
            Input::Kick => {
                if !self.over {
                    self.hang_up(now, DisconnectCause::ModeratorKick);
                }
            }
            Input::Say(prompt) => {
                if self.admitted && !self.over {
                    self.queue_prompt(now, prompt);
                }
            }
            Input::FromRoom(frame) => {
                if self.admitted && !self.over && self.player.is_idle() {
                    self.send_rtp(now, frame);
                }
            }
            Input::IntroFound(found) => self.feed_ivr(now, ivr::Input::IntroFound(now, found)),
            Input::ConferenceFound(found) => {
                self.conference.clone_from(&found);
                self.feed_ivr(now, ivr::Input::ConferenceFound(now, found));
            }
            Input::Attempts(counts) => self.feed_ivr(now, ivr::Input::Attempts(now, counts)),
            Input::Occupancy(callers) => self.feed_ivr(now, ivr::Input::Occupancy(now, callers)),
            Input::PromptAudio(id, pcm) => {
                self.fetched.insert(id, pcm);
                self.feed_player(now);
            }
            Input::Timeout => self.timeout(now),
        }
        self.check_ended();
    }

    /// The next thing to do, until `None`.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When to feed [`Input::Timeout`]: the earliest of the transactions', the DTMF
    /// receiver's, the IVR's, the answer's, a custom prompt's grace and the RTP
    /// timeout. `Tick`s are the node's own 20 ms clock and are not included.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.ended {
            return None;
        }
        let live = !self.over;
        [
            self.servers.poll_timeout(),
            self.bye.as_ref().and_then(ClientTransaction::poll_timeout),
            self.probe
                .as_ref()
                .and_then(ClientTransaction::poll_timeout),
            self.probe_deadline(),
            self.answer_at.filter(|_| live),
            self.dtmf
                .as_ref()
                .and_then(DtmfReceiver::poll_timeout)
                .filter(|_| live),
            self.ivr.poll_timeout().filter(|_| live),
            self.warn_at.filter(|_| live),
            self.intro
                .as_ref()
                .and_then(|(r, _)| r.poll_timeout())
                .filter(|_| live),
            self.waiting
                .front()
                .map(|queued| queued.give_up_at)
                .filter(|_| live),
            self.rtp_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    // ---- SIP ---------------------------------------------------------------------

    fn receive_request(&mut self, now: Instant, request: Request) {
        match self.servers.receive(now, request) {
            Received::New(_) | Received::Matched(_) => {}
            Received::Unmatched(request) => {
                tracing::debug!(method = %request.method, "call: request matches no transaction, dropped");
            }
        }
        self.drain_servers(now);
    }

    fn receive_response(&mut self, now: Instant, response: Response) {
        let key = TransactionKey::of_response(&response);
        let ours = |transaction: &ClientTransaction| {
            key.is_some() && key == TransactionKey::of_request(transaction.request())
        };
        if let Some(probe) = self.probe.as_mut().filter(|probe| ours(probe)) {
            probe.handle(now, transaction::Input::Receive(response.into()));
            return self.drain_probe(now);
        }
        if let Some(bye) = &mut self.bye {
            bye.handle(now, transaction::Input::Receive(response.into()));
        }
        self.drain_bye(now);
    }

    /// When to ask whether a held call's dialog still stands: [`HOLD_PROBE`]
    /// after the last sign of its caller's side, while we expect no media from it
    /// and no probe is out.
    fn probe_deadline(&self) -> Option<Instant> {
        let held = self.negotiated.is_some_and(|n| !n.direction.receives());
        let confirmed = self
            .dialog
            .as_ref()
            .is_some_and(|dialog| dialog.state() == DialogState::Confirmed);
        (!self.over && held && confirmed && self.probe.is_none())
            .then_some(self.last_heard)
            .flatten()
            .map(|at| at + HOLD_PROBE)
    }

    fn send_probe(&mut self, now: Instant) {
        self.probes_sent += 1;
        let branch = format!(
            "{}{}-probe{}",
            transaction::MAGIC_COOKIE,
            self.settings.local_tag,
            self.probes_sent
        );
        if let Some(dialog) = &mut self.dialog {
            let options = dialog.options(&self.settings.via_host, &branch);
            self.probe = Some(ClientTransaction::new(now, options, self.settings.timers));
        }
        self.drain_probe(now);
    }

    /// Sends what the probe transmits; a 481 or 408, or no answer, ends the call
    /// (RFC 5057 §5.2); any other answer says the dialog stands.
    fn drain_probe(&mut self, now: Instant) {
        let Some(probe) = &mut self.probe else {
            return;
        };
        let mut outputs = Vec::new();
        while let Some(output) = probe.poll_output() {
            outputs.push(output);
        }
        for output in outputs {
            match output {
                transaction::Output::Transmit(bytes) => self.send_sip(bytes),
                transaction::Output::ToTu(TuEvent::Response(response))
                    if matches!(response.status_code.code(), 408 | 481) =>
                {
                    tracing::info!(
                        status = response.status_code.code(),
                        "call: the held call's dialog is gone"
                    );
                    self.hang_up(now, DisconnectCause::TransactionFailure);
                }
                transaction::Output::ToTu(TuEvent::Timeout) => {
                    tracing::info!("call: no answer to our OPTIONS on hold");
                    self.hang_up(now, DisconnectCause::TransactionFailure);
                }
                transaction::Output::Terminated => self.probe = None,
                transaction::Output::ToTu(_) => {}
            }
        }
    }

    /// Sends what the server transactions transmit and handles what they pass up.
    fn drain_servers(&mut self, now: Instant) {
        while let Some((key, output)) = self.servers.poll_output() {
            match output {
                transaction::Output::Transmit(bytes) => self.send_sip(bytes),
                transaction::Output::ToTu(TuEvent::Request(request)) => {
                    self.on_request(now, key, request);
                }
                transaction::Output::ToTu(TuEvent::AckTimeout) => {
                    tracing::info!("call: no ACK for our 200");
                    if let Some(dialog) = &mut self.dialog {
                        dialog.confirm();
                    }
                    self.hang_up(now, DisconnectCause::TransactionFailure);
                }
                transaction::Output::ToTu(TuEvent::Timeout) => {
                    // No ACK for a non-2xx final: the call was already over.
                    self.finish(now, DisconnectCause::TransactionFailure);
                }
                transaction::Output::ToTu(TuEvent::Response(_)) => {}
                transaction::Output::Terminated => {}
            }
        }
    }

    fn drain_bye(&mut self, now: Instant) {
        let Some(bye) = &mut self.bye else {
            return;
        };
        let mut outputs = Vec::new();
        while let Some(output) = bye.poll_output() {
            outputs.push(output);
        }
        for output in outputs {
            match output {
                transaction::Output::Transmit(bytes) => self.send_sip(bytes),
                transaction::Output::ToTu(TuEvent::Timeout) => {
                    tracing::info!("call: no answer to our BYE");
                    self.finish(now, DisconnectCause::TransactionFailure);
                }
                _ => {}
            }
        }
    }

    fn respond(&mut self, now: Instant, key: &TransactionKey, response: Response) {
        if let Some(server) = self.servers.get_mut(key) {
            server.handle(now, transaction::Input::Respond(response));
        }
    }

    /// A request the transaction layer passed up.
    fn on_request(&mut self, now: Instant, key: TransactionKey, request: Request) {
        if self.invite_key.is_none() && request.method == rsip::Method::Invite {
            return self.on_invite(now, key, request);
        }
        if request.method == rsip::Method::Cancel {
            return self.on_cancel(now, &key, &request);
        }
        let Some(dialog) = self
            .dialog
            .as_mut()
            .filter(|dialog| dialog.matches(&request))
        else {
            let status = if request.method == rsip::Method::Ack {
                return;
            } else if request.method == rsip::Method::Options {
                200
            } else {
                481
            };
            let response = response_to(&request, status, Some(&self.settings.local_tag));
            return self.respond(now, &key, response);
        };
        match dialog.classify(&request) {
            InDialog::Ack { sdp } => self.on_ack(now, sdp),
            InDialog::Bye { response } => {
                self.respond(now, &key, response);
                tracing::info!("call: the caller hung up");
                self.finish(now, DisconnectCause::CallerHangup);
            }
            InDialog::Info {
                content_type,
                body,
                response,
            } => {
                self.respond(now, &key, response);
                if let Some(digit) =
                    rtp::digit_from_info(content_type.as_deref().unwrap_or(""), &body)
                {
                    self.on_digit(now, digit);
                }
            }
            InDialog::Options { response } | InDialog::Reject { response } => {
                self.respond(now, &key, response);
            }
            InDialog::ReInvite { sdp } => self.on_reinvite(now, &key, &request, sdp),
            InDialog::Absorbed => {}
        }
        self.drain_servers(now);
    }

    fn on_invite(&mut self, now: Instant, key: TransactionKey, invite: Request) {
        self.invite_key = Some(key.clone());
        let Some(caller) = &self.caller else {
            return;
        };
        let local_media = caller.local_media;
        let dialog = match Dialog::accept(
            &invite,
            &self.settings.local_tag,
            &self.settings.local_contact,
        ) {
            Ok(dialog) => dialog,
            Err(error) => {
                tracing::info!(%error, "call: INVITE refused");
                return self.refuse(now, &key, &invite, 400);
            }
        };
        let body = String::from_utf8_lossy(&invite.body).into_owned();
        let sdp = if invite.body.is_empty() {
            // RFC 3261 §13.2.1: our offer in the 200, the answer in the ACK.
            self.awaiting_answer = true;
            sdp::offer(&local_media)
        } else {
            match sdp::parse(&body).and_then(|offer| sdp::answer(&offer, &local_media)) {
                Ok((answer, negotiated)) => {
                    self.set_negotiated(negotiated);
                    answer
                }
                Err(error) => {
                    tracing::info!(%error, "call: offer refused");
                    let status = if matches!(error, SdpError::Malformed(_)) {
                        400
                    } else {
                        488
                    };
                    return self.refuse(now, &key, &invite, status);
                }
            }
        };
        let answer_at = now + self.settings.answer_after;
        if answer_at > now {
            self.respond(now, &key, dialog.answer(&invite, 180, None));
        }
        self.dialog = Some(dialog);
        self.pending_answer = Some(sdp);
        self.answer_at = Some(answer_at);
        if answer_at <= now {
            self.answer(now);
        }
    }

    /// Sends the 200 for the initial INVITE and starts the IVR.
    fn answer(&mut self, now: Instant) {
        self.answer_at = None;
        let (Some(key), Some(dialog), Some(sdp)) = (
            self.invite_key.clone(),
            &self.dialog,
            self.pending_answer.take(),
        ) else {
            return;
        };
        let Some(Server::Invite(transaction)) = self.servers.get_mut(&key) else {
            return;
        };
        let ok = dialog.answer(transaction.invite(), 200, Some(&sdp));
        transaction.handle(now, transaction::Input::Respond(ok));
        self.last_rtp = Some(now);
        self.last_heard = Some(now);
        let Some(caller) = &self.caller else {
            return;
        };
        let start = ivr::Input::Start {
            now,
            wall_clock: caller.started.1 + since(caller.started.0, now),
            language: caller.language,
            prompts: caller.prompts.clone(),
            caller: CallerSource::new(caller.source.ip(), &caller.caller_id),
            star44: caller.star44,
        };
        self.feed_ivr(now, start);
    }

    fn refuse(&mut self, now: Instant, key: &TransactionKey, invite: &Request, status: u16) {
        let response = response_to(invite, status, Some(&self.settings.local_tag));
        self.respond(now, key, response);
        self.over = true;
    }

    fn on_cancel(&mut self, now: Instant, key: &TransactionKey, cancel: &Request) {
        let tag = self.settings.local_tag.clone();
        let cancelled = match key
            .cancelled_invite()
            .and_then(|invite| self.servers.get_mut(&invite))
        {
            Some(Server::Invite(invite)) => invite.cancel(now, &tag),
            _ => false,
        };
        // RFC 3261 §9.2: the CANCEL itself is answered 200 either way.
        self.respond(now, key, response_to(cancel, 200, Some(&tag)));
        if cancelled {
            tracing::info!("call: cancelled before the answer");
            self.answer_at = None;
            self.pending_answer = None;
            self.finish(now, DisconnectCause::CallerHangup);
        }
        self.drain_servers(now);
    }

    fn on_ack(&mut self, now: Instant, sdp: Option<String>) {
        if let Some(body) = sdp.filter(|_| self.offered()) {
            match sdp::parse(&body)
                .and_then(|answer| sdp::accept_answer(&sdp::SUPPORTED_CODECS, &answer))
            {
                Ok(negotiated) => self.set_negotiated(negotiated),
                Err(error) => {
                    tracing::info!(%error, "call: unusable answer in the ACK");
                    self.bye_pending = true;
                }
            }
        }
        if self.bye_pending {
            self.hang_up(now, DisconnectCause::BridgeHangup);
        }
    }

    /// Whether our last SDP was an offer still waiting for its answer.
    fn offered(&self) -> bool {
        self.awaiting_answer
    }

    fn on_reinvite(
        &mut self,
        now: Instant,
        key: &TransactionKey,
        request: &Request,
        sdp: Option<String>,
    ) {
        let Some(caller) = &mut self.caller else {
            return;
        };
        // Our SDP changes with each answer: bump the o= version (RFC 3264 §8).
        caller.local_media.version += 1;
        let local_media = caller.local_media;
        let (status, body) = match sdp {
            None => {
                self.awaiting_answer = true;
                (200, Some(sdp::offer(&local_media)))
            }
            Some(offer) => {
                match sdp::parse(&offer).and_then(|offer| sdp::answer(&offer, &local_media)) {
                    Ok((answer, negotiated)) => {
                        self.set_negotiated(negotiated);
                        (200, Some(answer))
                    }
                    Err(error) => {
                        tracing::info!(%error, "call: re-offer refused");
                        (488, None)
                    }
                }
            }
        };
        let Some(dialog) = &mut self.dialog else {
            return;
        };
        let response = dialog.answer_reinvite(request, status, body.as_deref());
        self.respond(now, key, response);
    }

    fn set_negotiated(&mut self, negotiated: Negotiated) {
        self.awaiting_answer = false;
        if self.dtmf.as_ref().map(DtmfReceiver::payload_type) != negotiated.telephone_event {
            self.dtmf = negotiated.telephone_event.map(DtmfReceiver::new);
        }
        tracing::debug!(codec = ?negotiated.codec, remote = ?negotiated.remote, "call: media negotiated");
        self.media.expect(negotiated.source.map(SocketAddr::V4));
        self.negotiated = Some(negotiated);
    }

    /// The bridge ends the call: close the CDR now, BYE once the dialog allows it.
    fn hang_up(&mut self, now: Instant, cause: DisconnectCause) {
        let confirmed = self
            .dialog
            .as_ref()
            .is_some_and(|dialog| dialog.state() == DialogState::Confirmed);
        if self.bye.is_some()
            || self
                .dialog
                .as_ref()
                .is_some_and(|d| d.state() == DialogState::Terminated)
        {
            return self.finish(now, cause);
        }
        if !confirmed {
            // RFC 3261 §15: no BYE before the ACK (or its timeout).
            self.bye_pending = true;
            return self.finish(now, cause);
        }
        self.bye_pending = false;
        let branch = format!(
            "{}{}-bye",
            transaction::MAGIC_COOKIE,
            self.settings.local_tag
        );
        if let Some(dialog) = &mut self.dialog {
            let bye = dialog.bye(&self.settings.via_host, &branch);
            self.bye = Some(ClientTransaction::new(now, bye, self.settings.timers));
        }
        self.finish(now, cause);
        self.drain_bye(now);
    }

    /// The call is over: stop the IVR and media, close the CDR leg.
    fn finish(&mut self, now: Instant, cause: DisconnectCause) {
        self.close_leg(now, cause);
        self.over = true;
        self.player.stop();
        self.waiting.clear();
    }

    fn close_leg(&mut self, now: Instant, cause: DisconnectCause) {
        if let Some(mut leg) = self.leg.take() {
            leg.close(self.wall_clock(now), cause);
            tracing::info!(leg = %leg.id, ?cause, "call: leg closed");
            self.outputs.push_back(Output::Leave {
                leg: self.settings.leg,
            });
            self.outputs.push_back(Output::CdrClose(leg));
        }
    }

    fn check_ended(&mut self) {
        let bye_done = self
            .bye
            .as_ref()
            .is_none_or(ClientTransaction::is_terminated);
        if self.over && !self.ended && self.servers.is_empty() && bye_done {
            self.ended = true;
            self.outputs.push_back(Output::Ended);
        }
    }

    fn send_sip(&mut self, bytes: Vec<u8>) {
        if let Some(caller) = &self.caller {
            self.outputs.push_back(Output::SendSip {
                to: caller.source,
                bytes,
            });
        }
    }

    // ---- time --------------------------------------------------------------------

    fn timeout(&mut self, now: Instant) {
        self.servers.handle_timeout(now);
        self.drain_servers(now);
        if let Some(bye) = &mut self.bye {
            bye.handle_timeout(now);
        }
        self.drain_bye(now);
        if let Some(probe) = &mut self.probe {
            probe.handle_timeout(now);
        }
        self.drain_probe(now);
        if self.over {
            return;
        }
        if self.answer_at.is_some_and(|at| at <= now) {
            self.answer(now);
        }
        while let Some(dtmf) = self
            .dtmf
            .as_mut()
            .filter(|dtmf| dtmf.poll_timeout().is_some_and(|at| at <= now))
        {
            match dtmf.on_timeout(now) {
                Some(digit) => self.on_digit(now, digit),
                None => break,
            }
        }
        if self.ivr.poll_timeout().is_some_and(|at| at <= now) {
            self.feed_ivr(now, ivr::Input::Timeout(now));
        }
        if self
            .intro
            .as_ref()
            .and_then(|(r, _)| r.poll_timeout())
            .is_some_and(|at| at <= now)
        {
            self.feed_intro(now, intro::Input::Timeout(now));
        }
        if self.warn_at.is_some_and(|at| at <= now) {
            self.warn_at = None;
            self.queue_prompt(now, Prompt::EndsSoon);
        }
        self.feed_player(now);
        if self.probe_deadline().is_some_and(|at| at <= now) {
            self.send_probe(now);
        }
        if self.rtp_deadline().is_some_and(|at| at <= now) {
            tracing::info!("call: no RTP for {RTP_TIMEOUT:?}");
            self.hang_up(now, DisconnectCause::RtpTimeout);
        }
    }

    /// When the caller's silence ends the call: [`RTP_TIMEOUT`] after the last
    /// packet, while we expect to receive (not on an `inactive` hold).
    fn rtp_deadline(&self) -> Option<Instant> {
        let receiving = self.negotiated.is_none_or(|n| n.direction.receives());
        (!self.over && receiving)
            .then_some(self.last_rtp)
            .flatten()
            .map(|at| at + RTP_TIMEOUT)
    }

    fn wall_clock(&self, now: Instant) -> DateTime<Utc> {
        match &self.caller {
            Some(caller) => caller.started.1 + since(caller.started.0, now),
            None => DateTime::UNIX_EPOCH,
        }
    }

    // ---- RTP ---------------------------------------------------------------------

    fn receive_rtp(&mut self, now: Instant, datagram: &[u8], from: SocketAddr) {
        if self.over {
            return;
        }
        let Ok(packet) = rtp::parse(datagram) else {
            return;
        };
        if let Verdict::Drop(reason) = self.media.check(now, from, packet.ssrc, packet.sequence) {
            let dropped = self.media.dropped();
            let first = match reason {
                DropReason::Source => dropped.foreign_source == 1,
                DropReason::Ssrc => dropped.foreign_ssrc == 1,
            };
            if first {
                tracing::info!(%from, ssrc = packet.ssrc, reason = reason.as_str(), "call: RTP not from the caller dropped (counted from now on)");
            }
            return;
        }
        self.last_rtp = Some(now);
        self.last_heard = Some(now);
        if let Some(dtmf) = self
            .dtmf
            .as_mut()
            .filter(|dtmf| dtmf.payload_type() == packet.payload_type)
        {
            if let Some(digit) = dtmf.on_packet(now, &packet) {
                self.on_digit(now, digit);
            }
            return;
        }
        let is_audio = self
            .negotiated
            .is_some_and(|n| n.payload_type == packet.payload_type);
        if is_audio
            && let (Some((recorder, _)), Some(negotiated)) = (&self.intro, self.negotiated)
            && recorder.is_recording()
        {
            let mut pcm = Vec::with_capacity(packet.payload.len());
            negotiated.codec.decode(packet.payload, &mut pcm);
            self.feed_intro(now, intro::Input::Audio(now, pcm.into()));
            return;
        }
        if self.admitted && is_audio {
            self.outputs.push_back(Output::ToRoom {
                leg: self.settings.leg,
                seq: packet.sequence,
                ts: packet.timestamp,
                payload: packet.payload.to_vec(),
            });
        }
    }

    /// Where our RTP goes: nowhere on hold, else where the caller's comes from, else
    /// the SDP address.
    fn media_destination(&self) -> Option<SocketAddr> {
        let remote = self.negotiated?.remote?;
        Some(self.media.latched().unwrap_or(SocketAddr::V4(remote)))
    }

    /// Whether the 20 ms tick would do anything: a prompt is playing or queued
    /// on an answered call. The node feeds the tick only to these calls, so a
    /// node full of callers listening to their rooms does no work per call per tick.
    pub fn wants_tick(&self) -> bool {
        !self.ended
            && !self.over
            && self.answer_at.is_none()
            && self.negotiated.is_some()
            && !self.player.is_idle()
    }

    /// The 20 ms tick: the player's next frame while a prompt plays.
    fn tick(&mut self, now: Instant) {
        if self.over || self.answer_at.is_some() {
            return;
        }
        let Some(codec) = self.negotiated.map(|n| n.codec) else {
            return;
        };
        loop {
            match self.player.next_frame(codec) {
                Frame::Audio(payload) => return self.send_rtp(now, &payload),
                Frame::ClipFinished => {
                    self.prompts_finished += 1;
                    if !self.feed_intro(now, intro::Input::PromptFinished(now)) {
                        self.feed_ivr(now, ivr::Input::PromptFinished(now));
                    }
                }
                Frame::Idle => return,
            }
        }
    }

    fn send_rtp(&mut self, now: Instant, payload: &[u8]) {
        let (Some(to), Some(negotiated), Some(answered)) = (
            self.media_destination(),
            self.negotiated,
            self.caller.as_ref().map(|caller| caller.started.0),
        ) else {
            return;
        };
        // The timestamp follows the clock, so gaps between prompts are gaps in time.
        let frames = since(answered, now).num_milliseconds() / 20;
        let ts = (frames as u32).wrapping_mul(FRAME_TICKS);
        // RFC 3551 §4.1: the marker starts a talkspurt (after silence or at the start).
        let marker = self.last_sent_ts != Some(ts.wrapping_sub(FRAME_TICKS));
        self.last_sent_ts = Some(ts);
        self.rtp_seq = self.rtp_seq.wrapping_add(1);
        if let Ok(bytes) = rtp::build(
            self.settings.ssrc,
            self.rtp_seq,
            ts,
            negotiated.payload_type,
            marker,
            payload,
        ) {
            self.outputs.push_back(Output::SendRtp { to, bytes });
        }
    }

    // ---- IVR and prompts ---------------------------------------------------------

    fn on_digit(&mut self, now: Instant, digit: Digit) {
        if self.feed_intro(now, intro::Input::Digit(now, digit)) {
            return;
        }
        if self.admitted {
            if let Some(command) = self.keypad.as_mut().and_then(|k| k.on_digit(now, digit)) {
                tracing::info!(?command, "call: keypad");
                self.outputs.push_back(Output::Keypad {
                    leg: self.settings.leg,
                    command,
                });
            }
            return;
        }
        self.feed_ivr(now, ivr::Input::Digit(now, digit));
    }

    fn feed_ivr(&mut self, now: Instant, input: ivr::Input) {
        if self.over {
            return;
        }
        self.ivr.handle_input(input);
        while let Some(output) = self.ivr.poll_output() {
            match output {
                ivr::Output::Play(prompt) => self.queue_prompt(now, prompt),
                ivr::Output::StopPrompt => {
                    self.player.stop();
                    self.waiting.clear();
                }
                ivr::Output::Admit { conference, role } => self.admit(now, conference, role),
                ivr::Output::RecordIntro(target) => {
                    self.intro = Some((IntroRecorder::start(), target));
                    self.drive_intro(now);
                }
                ivr::Output::Hangup => self.hang_up(now, DisconnectCause::BridgeHangup),
                lookup => self.outputs.push_back(Output::Ivr(lookup)),
            }
        }
    }

    /// Carries out what the intro recorder asks.
    fn drive_intro(&mut self, now: Instant) {
        loop {
            let Some(output) = self.intro.as_mut().and_then(|(r, _)| r.poll_output()) else {
                return;
            };
            match output {
                intro::Output::Play(prompt) => self.queue_prompt(now, prompt),
                intro::Output::Beep => self
                    .player
                    .enqueue_parts(vec![Audio::Static(prompts::beep())]),
                intro::Output::PlayAudio(pcm) => {
                    self.player.enqueue_parts(vec![Audio::Shared(pcm)])
                }
                intro::Output::StopPrompt => {
                    self.player.stop();
                    self.waiting.clear();
                }
                intro::Output::Keep(pcm) => {
                    if let Some((_, target)) = &self.intro {
                        self.outputs.push_back(Output::StoreIntro {
                            target: target.clone(),
                            pcm,
                        });
                    }
                }
                intro::Output::Hangup => self.hang_up(now, DisconnectCause::BridgeHangup),
            }
        }
    }

    /// Feeds the intro recorder, if it has the call.
    fn feed_intro(&mut self, now: Instant, input: intro::Input) -> bool {
        let Some((recorder, _)) = &mut self.intro else {
            return false;
        };
        recorder.handle_input(input);
        self.drive_intro(now);
        true
    }

    fn admit(&mut self, now: Instant, conference: ConferenceId, role: CallerRole) {
        let (Some(info), Some(caller), Some(negotiated)) =
            (&self.conference, &self.caller, self.negotiated)
        else {
            tracing::warn!("call: admitted without a conference or media");
            return self.hang_up(now, DisconnectCause::BridgeHangup);
        };
        let joined_at = self.wall_clock(now);
        let leg = CallLeg {
            id: LegId::new(),
            account_id: info.account,
            conference_id: conference,
            conference_number: info.number.clone(),
            dialled: caller.dialled.clone(),
            caller_id: caller.caller_id.clone(),
            role,
            joined_at,
            month: YearMonth::of(joined_at, info.time_zone),
            left_at: None,
            cause: None,
            quality: None,
        };
        tracing::info!(leg = %leg.id, %conference, %role, "call: admitted");
        self.admitted = true;
        self.keypad = Some(Keypad::new(role));
        // "Ends in five minutes", said at five minutes before the planned end
        // (nothing is cut: the conference goes on until the last caller leaves).
        let warn_wall = info.schedule.end() - END_WARNING;
        self.warn_at = (warn_wall - joined_at)
            .to_std()
            .ok()
            .filter(|lead| !lead.is_zero())
            .map(|lead| now + lead);
        self.outputs.push_back(Output::Join {
            leg: self.settings.leg,
            conference,
            role,
            codec: negotiated.codec,
            account: info.account,
            record: info.record,
        });
        self.outputs.push_back(Output::CdrOpen(leg.clone()));
        self.leg = Some(leg);
    }

    /// Queues the IVR's prompt as one clip, fetching its custom audio first.
    fn queue_prompt(&mut self, now: Instant, prompt: Prompt) {
        let clips = prompts::default_prompt(self.ivr.language(), &prompt);
        for clip in &clips {
            if let Clip::Custom(id) = clip
                && !self.fetched.contains_key(id)
                && self.requested.insert(*id)
            {
                self.outputs.push_back(Output::FetchPrompt(*id));
            }
        }
        self.waiting.push_back(Queued {
            prompt,
            clips,
            give_up_at: now + FETCH_GRACE,
        });
        self.feed_player(now);
    }

    /// Moves the waiting prompts to the player, in order, as their audio arrives
    /// (or their grace runs out: the default then plays instead).
    fn feed_player(&mut self, now: Instant) {
        while let Some(queued) = self.waiting.front() {
            let ready: Option<Vec<Audio>> = queued
                .clips
                .iter()
                .map(|clip| match clip {
                    Clip::Default(pcm) => Some(Audio::Static(pcm)),
                    Clip::Custom(id) => self.fetched.get(id).cloned().map(Audio::Shared),
                })
                .collect();
            let parts = match ready {
                Some(parts) => parts,
                None if queued.give_up_at <= now => {
                    tracing::warn!(prompt = ?queued.prompt, "call: custom prompt late, default played");
                    fallback(self.ivr.language(), &queued.prompt)
                }
                None => return,
            };
            self.player.enqueue_parts(parts);
            self.waiting.pop_front();
        }
    }
}

/// The default audio for a prompt whose custom recording did not come in time;
/// nothing for an intro (it has no default), which still ends as a clip.
fn fallback(language: Language, prompt: &Prompt) -> Vec<Audio> {
    let default = match prompt {
        Prompt::Greeting(_) => Prompt::Greeting(None),
        Prompt::AskConferenceNumber(_) => Prompt::AskConferenceNumber(None),
        Prompt::AskAccessCode(_) => Prompt::AskAccessCode(None),
        Prompt::Intro(_) => return Vec::new(),
        other => other.clone(),
    };
    prompts::default_prompt(language, &default)
        .into_iter()
        .filter_map(|clip| match clip {
            Clip::Default(pcm) => Some(Audio::Static(pcm)),
            Clip::Custom(_) => None,
        })
        .collect()
}

/// The wall-clock time elapsed from `then` to `now`.
fn since(then: Instant, now: Instant) -> TimeDelta {
    TimeDelta::from_std(now.saturating_duration_since(then)).unwrap_or(TimeDelta::MAX)
}
