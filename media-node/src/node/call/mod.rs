//! One inbound call leg, sans-IO: the glue between the SIP transactions and dialog,
//! SDP, RTP and DTMF, the IVR, the prompt player and the conference room (issue #4).
//!
//! Every rule lives in the module that owns it; a [`Call`] only routes:
//!
//! - **SIP**: every request goes through the call's [`ServerTransactions`] (100
//!   Trying, 2xx retransmitted until the ACK, retransmissions absorbed, CANCEL →
//!   487), then through the [`Dialog`] ([`Dialog::classify`]); our BYE is a
//!   [`ClientTransaction`] (Timer E/F).
//! - **SDP**: [`answer`](teleconf_sip::sdp::answer) for an INVITE with an offer,
//!   [`offer`](teleconf_sip::sdp::offer) in the 200 for one without (the answer
//!   comes in the ACK, [`accept_answer`](teleconf_sip::sdp::accept_answer)); the same
//!   for re-INVITEs (hold: [`Negotiated::remote`] is `None`, we stop sending).
//! - **RTP**: only the caller's media is taken ([`MediaSource`]): packets from
//!   the address its SDP gave, or, where the trunk's media comes from elsewhere
//!   (NAT), from one of the trunk's media sources or the host the INVITE came
//!   from, latched once; after that, every
//!   packet from another source or with another SSRC is dropped and counted
//!   ([`Call::dropped_rtp`]). We send to the latched source (symmetric RTP), the
//!   SDP address until then. Telephone events go to the [`DtmfReceiver`], audio
//!   after admission to the room: the node reads the caller's next frame in
//!   place ([`Call::room_audio`]), and a frame fed to the call comes out as
//!   [`Output::ToRoom`].
//! - **IVR**: keys (RFC 4733 or SIP INFO) go to the [`Ivr`] until admission, then
//!   to the [`Keypad`]; the IVR's lookups, and the fetches of custom prompts, go
//!   out unchanged as [`Output::Lookup`] and their answers come back as
//!   [`Input::Answer`]; its prompts play through the [`Player`], one clip per
//!   prompt, each clip's end reported as `PromptFinished`.
//! - **Room**: the room is shared by every call of a conference, so the call does
//!   not own it: it asks the node to [`Output::Join`], pushes the caller's audio
//!   with [`Output::ToRoom`], gives the node each of its mix's frames as a packet
//!   to send ([`Call::frame_from_room`]) and asks to
//!   [`Output::Leave`]. The conference's intro is played *before* the room's audio:
//!   while the player is busy the room's frames are dropped (the caller is already
//!   in the room and heard by the others; they hear the room once the intro ends).
//!
//! # Phases
//!
//! A call's life is a `Phase`: waiting for its INVITE, the INVITE with its
//! transaction, refused (no dialog), connected (a dialog: the caller, SDP, RTP,
//! the prompts, and the `Stage` the caller is at: ringing, in the IVR,
//! recording an intro, admitted, over with our BYE to send or sent), then
//! ended. Each phase and stage owns what only it has (the IVR, the open CDR leg
//! and the keypad, our BYE), so a call cannot be admitted and over, ring and
//! play the IVR, or send a BYE it has no dialog for.
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
//!
//! # Layout
//!
//! This file holds the call's inputs, outputs and phases; its methods are in
//! `signalling` (SIP: transactions, dialog, SDP, the hang-up), `media` (RTP both
//! ways, the 20 ms tick) and `caller` (keys to the IVR, the intro recorder or the
//! keypad, admission, the prompts).

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use rsip::{Request, SipMessage};

use teleconf_domain::{
    AccountId, CallLeg, CallerRole, ConferenceId, ConferencePrompts, DisconnectCause, E164,
    Language, PromptId,
};
use teleconf_sip::dialog::{Dialog, DialogState};
use teleconf_sip::rtp::{DroppedRtp, DtmfReceiver, MediaSource};
use teleconf_sip::sdp::{Codec, LocalMedia, Negotiated};
use teleconf_sip::sources::Sources;
use teleconf_sip::transaction::client::ClientState;
use teleconf_sip::transaction::{ClientTransaction, ServerTransactions, Timers, TransactionKey};

use crate::app::CallKey;
use crate::app::cascade::RoomMessage;
use crate::app::intro::{self, IntroRecorder};
use crate::app::ivr::{self, Ivr, Occupancy};
use crate::app::keypad::{Command, Keypad};
use crate::app::lookup::{Answer, IntroTarget, Lookup};
use crate::app::mixer::FRAME_BYTES;
use crate::app::prompts::{self, Clip, Player, Prompt};

mod caller;
mod media;
pub use media::{RoomAudio, RtpOut};
mod signalling;
pub(super) use signalling::pump_infos;

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
    pub leg: CallKey,
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
        /// The INVITE (boxed: the variant would dwarf the others).
        request: Box<Request>,
        /// Where it came from: where our SIP goes (the SIP entry, behind one).
        source: SocketAddr,
        /// The caller's own address: `source`, or the one a trusted SIP entry
        /// vouched for (`X-Teleconf-Source`). The IVR's guessing counters and the
        /// caller's RTP go by it.
        origin: IpAddr,
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
        /// `Some(conference)` for another node's cascade into this node's room
        /// of that conference (authenticated by the node): no IVR, no CDR, no
        /// prompts; the leg goes straight into the room once answered.
        cascade: Option<ConferenceId>,
    },
    /// A SIP message of this call (ACK, BYE, re-INVITE, INFO, CANCEL, OPTIONS,
    /// retransmissions, responses to our BYE).
    Sip(SipMessage),
    /// An RTP datagram received on the call's port, and its source.
    Rtp(&'a [u8], SocketAddr),
    /// The node's 20 ms tick: the next prompt frame is sent.
    Tick,
    /// Answers [`Output::Lookup`]: a prompt's audio goes to the player, the rest
    /// to the IVR.
    Answer(Answer),
    /// Answers [`Output::CountCallers`]: the conference's room now.
    Callers(Occupancy),
    /// The deadline of [`Call::poll_timeout`] has come.
    Timeout,
    /// The node is going away: hang up (BYE, CDR closed as a bridge hang-up).
    HangUp,
    /// A moderator removed this caller: hang up (CDR closed as a kick).
    Kick,
    /// Say this to the caller, over the room's audio (a keypad answer, a tone).
    Say(Prompt),
    /// A cascade leg: send the member this, as an INFO in the dialog.
    Tell(RoomMessage),
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
        bytes: RtpOut,
    },
    /// Ask the store or the bucket (the IVR's lookups, and custom prompts: after
    /// [`FETCH_GRACE`] without their audio the default plays instead); answer with
    /// [`Input::Answer`].
    Lookup(Lookup),
    /// Tell the conference's room's occupancy; answer with [`Input::Callers`].
    CountCallers(ConferenceId),
    /// A cascade leg: the member told the room this (an INFO, answered 200;
    /// a retransmission is absorbed by the transaction, never passed twice).
    Told(RoomMessage),
    /// Add this cascade leg to the conference's room, as one talker: the
    /// member node's callers' audio comes on it, the room's mix without it goes
    /// back.
    JoinCascade {
        /// The leg.
        leg: CallKey,
        /// The conference.
        conference: ConferenceId,
        /// The leg's codec.
        codec: Codec,
    },
    /// Add the leg to the conference's room.
    Join {
        /// The leg.
        leg: CallKey,
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
        /// The conference's planned end (it is never cut there; a draining node
        /// keeps the call until then plus its grace).
        ends: Instant,
    },
    /// One frame of the caller's audio for the room ([`crate::app::mixer::Mixer::push`]).
    ToRoom {
        /// The leg.
        leg: CallKey,
        /// RTP sequence number.
        seq: u16,
        /// RTP timestamp.
        ts: u32,
        /// The payload: one 20 ms frame of G.711.
        payload: [u8; FRAME_BYTES],
    },
    /// The caller keyed a keypad command in the conference.
    Keypad {
        /// The leg.
        leg: CallKey,
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
        leg: CallKey,
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
    /// Where the INVITE came from: where our SIP goes.
    source: SocketAddr,
    /// The caller's own address ([`Input::Invite`]'s `origin`).
    origin: IpAddr,
    /// The access number dialled (`None` for `*44`).
    dialled: Option<E164>,
    /// The caller ID as the trunk presented it.
    caller_id: String,
    /// Our RTP address and `o=` line (its version bumped at each answer).
    local_media: LocalMedia,
    /// When the INVITE came, monotonic and on the wall clock.
    started: (Instant, DateTime<Utc>),
    /// The language the call's prompts are said in.
    language: Language,
    /// The number's custom prompts.
    prompts: ConferencePrompts,
    /// `Some(account)` for a `*44` call from that account's IP phone.
    star44: Option<AccountId>,
    /// `Some(conference)` for another node's cascade into that room.
    cascade: Option<ConferenceId>,
}

impl Caller {
    /// The wall clock at `now`, from its one reading at the INVITE.
    fn wall_clock(&self, now: Instant) -> DateTime<Utc> {
        self.started.1 + since(self.started.0, now)
    }
}

/// One inbound call leg. See the [module documentation](self).
#[derive(Debug)]
pub struct Call {
    /// Its identity on the node, and what the node drew for it.
    settings: Settings,
    /// What it asks of the node, in order.
    outputs: VecDeque<Output>,
    /// Every request's transaction, from the INVITE until the last one ends.
    servers: ServerTransactions,
    /// Whose RTP is taken, and where ours goes (symmetric RTP); it counts what it
    /// drops from the start.
    media: MediaSource,
    /// Where the call is in its life, with what that part of it owns.
    phase: Phase,
    /// What [`Call::kept_deadlines`] says of the last input.
    kept_deadlines: bool,
}

/// Where a call is in its life.
#[derive(Debug)]
enum Phase {
    /// Created by the node, waiting for its [`Input::Invite`].
    Inviting,
    /// The INVITE came and is with its transaction, which passes it up next.
    Invited(Box<Caller>),
    /// The INVITE was refused, or no transaction took it: no dialog, no media. The
    /// call is over; it ends when the final response's transaction does.
    Refused(Box<Caller>),
    /// The INVITE was accepted: a dialog with the caller.
    Connected(Box<Line>),
    /// Over and every transaction finished: [`Output::Ended`] went out, and
    /// nothing happens to the call any more.
    Ended,
}

/// A call with a dialog: the caller, the dialog, what SDP agreed, the RTP both
/// ways, the prompts, and the stage the caller is at.
#[derive(Debug)]
struct Line {
    /// Who calls.
    caller: Caller,
    /// The initial INVITE's transaction (our 200 goes through it).
    invite: TransactionKey,
    /// The dialog the INVITE made (RFC 3261 §12).
    dialog: Dialog,
    /// What SDP agreed, once it did (after an offerless INVITE, in the ACK).
    negotiated: Option<Negotiated>,
    /// Our last SDP was an offer (offerless INVITE or re-INVITE): the ACK answers.
    awaiting_answer: bool,
    /// Telephone events into keys, when SDP agreed on telephone-event.
    dtmf: Option<DtmfReceiver>,
    /// When we last heard RTP (or answered).
    last_rtp: Option<Instant>,
    /// When we last heard from the caller's side: SIP in the dialog or RTP.
    last_heard: Option<Instant>,
    /// Our in-dialog OPTIONS, while one is out ([`HOLD_PROBE`]).
    probe: Option<ClientTransaction>,
    /// A cascade's INFOs to the member out ([`Input::Tell`]), oldest first.
    told: Vec<ClientTransaction>,
    told_sent: u32,
    /// Probes sent (each gets its own branch).
    probes_sent: u32,
    /// Our RTP sequence number.
    rtp_seq: u16,
    /// The timestamp of the last packet sent.
    last_sent_ts: Option<u32>,
    /// The prompts on their way to the caller.
    speaker: Speaker,
    /// Where the caller is.
    stage: Stage,
}

/// Where the caller of a call with a dialog is.
#[derive(Debug)]
enum Stage {
    /// Ringing until `at`, when the 200 carrying `answer` (our SDP) goes out.
    Ringing {
        /// When to answer.
        at: Instant,
        /// Our SDP answer, or offer for an offerless INVITE.
        answer: String,
    },
    /// Answered: the IVR has the caller.
    Ivr(Box<Ivr>),
    /// An intro code opened the recorder: the caller records the conference's
    /// intro message.
    Intro(IntroRecorder, IntroTarget),
    /// In the conference.
    Admitted(Admitted),
    /// Another node's cascade, in that conference's room.
    Cascade(ConferenceId),
    /// Over: the CDR leg closed, the IVR and the prompts stopped; what is left is
    /// our BYE and the transactions' end.
    Over(Bye),
}

/// A caller in the conference.
#[derive(Debug)]
struct Admitted {
    /// The open CDR leg.
    leg: CallLeg,
    /// The conference keys of the caller's role.
    keypad: Keypad,
    /// When to say the conference ends in five minutes.
    warn_at: Option<Instant>,
}

/// Our BYE, on a call that is over.
#[derive(Debug)]
enum Bye {
    /// None to send: the caller hung up, cancelled, or the dialog is gone.
    NotNeeded,
    /// To send once the ACK comes (RFC 3261 §15: no BYE on a dialog before it).
    AfterAck,
    /// Sent: its client transaction (Timer E/F).
    Sent(Box<ClientTransaction>),
}

/// The prompts on their way to the caller: the player, and what waits for its
/// custom audio.
#[derive(Debug, Default)]
struct Speaker {
    /// What plays now, and the clips queued behind it.
    player: Player,
    /// Prompts waiting for their custom audio, in order.
    waiting: VecDeque<Queued>,
    /// Custom prompts' audio, as it came.
    fetched: HashMap<PromptId, Arc<[i16]>>,
    /// Custom prompts asked for.
    requested: HashSet<PromptId>,
    /// Prompts played to their end (for the logs and the scenario tests).
    finished: u32,
}

impl Speaker {
    /// Stops the prompt playing and drops those queued.
    fn stop(&mut self) {
        self.player.stop();
        self.waiting.clear();
    }
}

/// A prompt asked for, waiting for its custom audio.
#[derive(Debug)]
struct Queued {
    /// What the IVR (or the keypad, the room) asked to say.
    prompt: Prompt,
    /// What says it, custom recordings included.
    clips: Vec<Clip>,
    /// When the default plays instead of what is still missing.
    give_up_at: Instant,
}

impl Line {
    /// Whether the call is over (hung up either way).
    fn is_over(&self) -> bool {
        matches!(self.stage, Stage::Over(_))
    }

    /// Our BYE, once sent.
    fn bye(&self) -> Option<&ClientTransaction> {
        match &self.stage {
            Stage::Over(Bye::Sent(bye)) => Some(bye),
            _ => None,
        }
    }

    /// Whether the dialog is confirmed (the ACK came, or its wait timed out).
    fn is_confirmed(&self) -> bool {
        self.dialog.state() == DialogState::Confirmed
    }

    /// When to ask whether a held call's dialog still stands: [`HOLD_PROBE`]
    /// after the last sign of its caller's side, while we expect no media from it
    /// and no probe is out.
    fn probe_deadline(&self) -> Option<Instant> {
        let held = self.negotiated.is_some_and(|n| !n.direction.receives());
        (!self.is_over() && held && self.is_confirmed() && self.probe.is_none())
            .then_some(self.last_heard)
            .flatten()
            .map(|at| at + HOLD_PROBE)
    }

    /// When the caller's silence ends the call: [`RTP_TIMEOUT`] after the last
    /// packet, while we expect to receive (not on an `inactive` hold).
    fn rtp_deadline(&self) -> Option<Instant> {
        let receiving = self.negotiated.is_none_or(|n| n.direction.receives());
        (!self.is_over() && receiving)
            .then_some(self.last_rtp)
            .flatten()
            .map(|at| at + RTP_TIMEOUT)
    }
}

impl Stage {
    /// The stage's own deadline: the answer, the IVR's, the intro recorder's, the
    /// end-of-conference warning.
    fn poll_timeout(&self) -> Option<Instant> {
        match self {
            Stage::Ringing { at, .. } => Some(*at),
            Stage::Ivr(ivr) => ivr.poll_timeout(),
            Stage::Intro(recorder, _) => recorder.poll_timeout(),
            Stage::Admitted(admitted) => admitted.warn_at,
            Stage::Cascade(_) | Stage::Over(_) => None,
        }
    }
}

impl Call {
    /// A call waiting for its [`Input::Invite`].
    pub fn new(settings: Settings) -> Self {
        Self {
            servers: ServerTransactions::new(settings.timers),
            media: MediaSource::new(settings.trunk_media.clone()),
            settings,
            outputs: VecDeque::new(),
            phase: Phase::Inviting,
            kept_deadlines: false,
        }
    }

    /// Whether the last input only carried audio between the caller and its
    /// room (a frame heard from a caller heard before, a frame of the room
    /// sent): its deadlines can only have moved later, it wants the tick as
    /// before and it did not end, so the node need not look at them again.
    /// These are nearly all of a call's inputs.
    pub fn kept_deadlines(&self) -> bool {
        self.kept_deadlines
    }

    /// The leg's key in its room.
    pub fn leg(&self) -> CallKey {
        self.settings.leg
    }

    /// What was agreed in SDP, once it was.
    pub fn negotiated(&self) -> Option<&Negotiated> {
        self.line().and_then(|line| line.negotiated.as_ref())
    }

    /// RTP packets dropped so far: not from the caller's source, or not of its
    /// stream.
    pub fn dropped_rtp(&self) -> DroppedRtp {
        self.media.dropped()
    }

    /// Whether [`Output::Ended`] was emitted.
    pub fn is_ended(&self) -> bool {
        matches!(self.phase, Phase::Ended)
    }

    /// Whether the call is over and all that is left of it is its transactions'
    /// wait for retransmissions (Timer J, K, I): the CDR leg is closed, our BYE,
    /// if one was needed, is answered or given up, and a refusal of its INVITE
    /// acknowledged (until then it is resent, and a lost one would leave the
    /// caller's side, or the SIP entry, waiting). A node that stops need not wait
    /// for such a call.
    pub fn is_settled(&self) -> bool {
        match &self.phase {
            Phase::Inviting | Phase::Invited(_) => false,
            Phase::Refused(_) => !self.servers.refusal_unacknowledged(),
            Phase::Ended => true,
            Phase::Connected(line) => match &line.stage {
                Stage::Over(Bye::NotNeeded) => true,
                Stage::Over(Bye::Sent(bye)) => {
                    matches!(
                        bye.state(),
                        ClientState::Completed | ClientState::Terminated
                    )
                }
                _ => false,
            },
        }
    }

    /// Prompts played to their end so far.
    pub fn prompts_finished(&self) -> u32 {
        self.line().map_or(0, |line| line.speaker.finished)
    }

    /// Feeds one input.
    pub fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        self.kept_deadlines = false;
        if self.is_ended() {
            return;
        }
        match input {
            Input::Invite {
                request,
                source,
                origin,
                dialled,
                caller_id,
                local_media,
                wall_clock,
                language,
                prompts,
                star44,
                cascade,
            } => {
                if !matches!(self.phase, Phase::Inviting) {
                    return;
                }
                self.media.signalled_from(origin);
                self.phase = Phase::Invited(Box::new(Caller {
                    source,
                    origin,
                    dialled,
                    caller_id,
                    local_media,
                    started: (now, wall_clock),
                    language,
                    prompts,
                    star44,
                    cascade,
                }));
                self.receive_request(now, *request);
                // No transaction took it: nothing will answer or end this call.
                self.phase = match std::mem::replace(&mut self.phase, Phase::Ended) {
                    Phase::Invited(caller) => Phase::Refused(caller),
                    phase => phase,
                };
            }
            Input::Sip(SipMessage::Request(request)) => {
                self.heard(now);
                self.receive_request(now, request);
            }
            Input::Sip(SipMessage::Response(response)) => {
                self.heard(now);
                self.receive_response(now, response);
            }
            Input::Rtp(datagram, from) => {
                if self.receive_rtp(now, datagram, from) {
                    // Nothing changed that could end the call.
                    self.kept_deadlines = true;
                    return;
                }
            }
            Input::Tick => self.tick(now),
            Input::HangUp => {
                if !self.is_over() {
                    self.hang_up(now, DisconnectCause::BridgeHangup);
                }
            }
            Input::Kick => {
                if !self.is_over() {
                    self.hang_up(now, DisconnectCause::ModeratorKick);
                }
            }
            Input::Say(prompt) => {
                if self.admitted().is_some() {
                    self.queue_prompt(now, prompt);
                }
            }
            Input::Tell(message) => self.tell(now, &message),
            Input::Answer(Answer::Prompt(id, pcm)) => {
                if let Some(line) = self.line_mut() {
                    line.speaker.fetched.insert(id, pcm);
                }
                self.feed_player(now);
            }
            Input::Answer(answer) => self.feed_ivr(now, ivr::Input::Answer(now, answer)),
            Input::Callers(occupancy) => self.feed_ivr(now, ivr::Input::Callers(now, occupancy)),
            Input::Timeout => self.timeout(now),
        }
        self.check_ended();
    }

    /// The next thing to do, until `None`.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// Exchanges the call's queue of outputs with `queue` when both are empty
    /// (true then). A node that lends every call it feeds the same queue, and
    /// takes it back once drained, has their outputs written into memory that
    /// is warm, not into each call's own (a cache miss per packet). Nothing
    /// waiting is ever moved, so the outputs keep their order.
    pub fn swap_outputs(&mut self, queue: &mut VecDeque<Output>) -> bool {
        let empty = self.outputs.is_empty() && queue.is_empty();
        if empty {
            std::mem::swap(&mut self.outputs, queue);
        }
        empty
    }

    /// When to feed [`Input::Timeout`]: the earliest of the transactions', the DTMF
    /// receiver's, the IVR's, the answer's, a custom prompt's grace and the RTP
    /// timeout. `Tick`s are the node's own 20 ms clock and are not included.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let line = match &self.phase {
            Phase::Ended => return None,
            Phase::Connected(line) => Some(line.as_ref()),
            Phase::Inviting | Phase::Invited(_) | Phase::Refused(_) => None,
        };
        let transactions = [
            self.servers.poll_timeout(),
            line.and_then(|line| line.probe.as_ref())
                .and_then(ClientTransaction::poll_timeout),
            line.and_then(|line| {
                line.told
                    .iter()
                    .filter_map(ClientTransaction::poll_timeout)
                    .min()
            }),
            line.and_then(Line::bye)
                .and_then(ClientTransaction::poll_timeout),
        ];
        let timers = line.filter(|line| !line.is_over()).map(|line| {
            [
                line.stage.poll_timeout(),
                line.dtmf.as_ref().and_then(DtmfReceiver::poll_timeout),
                line.speaker.waiting.front().map(|queued| queued.give_up_at),
                line.probe_deadline(),
                line.rtp_deadline(),
            ]
        });
        transactions
            .into_iter()
            .chain(timers.into_iter().flatten())
            .flatten()
            .min()
    }

    /// The line, once the INVITE was accepted.
    fn line(&self) -> Option<&Line> {
        match &self.phase {
            Phase::Connected(line) => Some(line),
            _ => None,
        }
    }

    fn line_mut(&mut self) -> Option<&mut Line> {
        match &mut self.phase {
            Phase::Connected(line) => Some(line),
            _ => None,
        }
    }

    /// The caller, once the INVITE came.
    fn caller(&self) -> Option<&Caller> {
        match &self.phase {
            Phase::Invited(caller) | Phase::Refused(caller) => Some(caller),
            Phase::Connected(line) => Some(&line.caller),
            Phase::Inviting | Phase::Ended => None,
        }
    }

    /// The caller in the conference, if it is.
    fn admitted(&self) -> Option<&Admitted> {
        match &self.line()?.stage {
            Stage::Admitted(admitted) => Some(admitted),
            _ => None,
        }
    }

    /// Whether the call's leg is in a room: a caller admitted, or a cascade.
    fn in_room(&self) -> bool {
        self.line()
            .is_some_and(|line| matches!(line.stage, Stage::Admitted(_) | Stage::Cascade(_)))
    }

    /// Whether the call is over: refused, or hung up either way.
    fn is_over(&self) -> bool {
        match &self.phase {
            Phase::Inviting | Phase::Invited(_) => false,
            Phase::Refused(_) | Phase::Ended => true,
            Phase::Connected(line) => line.is_over(),
        }
    }

    /// The caller's side was heard from (SIP in the dialog, RTP).
    fn heard(&mut self, now: Instant) {
        if let Some(line) = self.line_mut() {
            line.last_heard = Some(now);
        }
    }

    /// The wall clock at `now`, from its one reading at the INVITE.
    fn wall_clock(&self, now: Instant) -> DateTime<Utc> {
        self.caller()
            .map_or(DateTime::UNIX_EPOCH, |caller| caller.wall_clock(now))
    }

    /// The call is over and every transaction finished: [`Output::Ended`].
    fn check_ended(&mut self) {
        let bye_done = self
            .line()
            .and_then(Line::bye)
            .is_none_or(ClientTransaction::is_terminated);
        if self.is_over() && !self.is_ended() && self.servers.is_empty() && bye_done {
            self.phase = Phase::Ended;
            self.outputs.push_back(Output::Ended);
        }
    }
}

impl Call {
    /// A deadline has come: the transactions' timers, then, on a call not over,
    /// the answer, the keys' end, the IVR's and the intro recorder's timers, the
    /// end-of-conference warning, the custom prompts' grace, the hold probe and
    /// the RTP timeout.
    fn timeout(&mut self, now: Instant) {
        self.servers.handle_timeout(now);
        self.drain_servers(now);
        if let Some(Stage::Over(Bye::Sent(bye))) = self.line_mut().map(|line| &mut line.stage) {
            bye.handle_timeout(now);
        }
        self.drain_bye(now);
        if let Some(probe) = self.line_mut().and_then(|line| line.probe.as_mut()) {
            probe.handle_timeout(now);
        }
        self.drain_probe(now);
        if let Some(line) = self.line_mut() {
            for info in &mut line.told {
                info.handle_timeout(now);
            }
        }
        self.drain_told();
        let due = |at: Option<Instant>| at.is_some_and(|at| at <= now);
        let Some(line) = self.line().filter(|line| !line.is_over()) else {
            return;
        };
        if matches!(line.stage, Stage::Ringing { .. }) && due(line.stage.poll_timeout()) {
            self.answer(now);
        }
        while let Some(dtmf) = self
            .line_mut()
            .and_then(|line| line.dtmf.as_mut())
            .filter(|dtmf| due(dtmf.poll_timeout()))
        {
            match dtmf.on_timeout(now) {
                Some(digit) => self.on_digit(now, digit),
                None => break,
            }
        }
        let stage = self.line().map(|line| &line.stage);
        if matches!(stage, Some(Stage::Ivr(ivr)) if due(ivr.poll_timeout())) {
            self.feed_ivr(now, ivr::Input::Timeout(now));
        }
        let stage = self.line().map(|line| &line.stage);
        if matches!(stage, Some(Stage::Intro(recorder, _)) if due(recorder.poll_timeout())) {
            self.feed_intro(now, intro::Input::Timeout(now));
        }
        self.warn_of_the_end(now);
        self.feed_player(now);
        if due(self.line().and_then(Line::probe_deadline)) {
            self.send_probe(now);
        }
        if due(self.line().and_then(Line::rtp_deadline)) {
            tracing::info!("call: no RTP for {RTP_TIMEOUT:?}");
            self.hang_up(now, DisconnectCause::RtpTimeout);
        }
    }
}

/// The wall-clock time elapsed from `then` to `now`.
fn since(then: Instant, now: Instant) -> TimeDelta {
    TimeDelta::from_std(now.saturating_duration_since(then)).unwrap_or(TimeDelta::MAX)
}
