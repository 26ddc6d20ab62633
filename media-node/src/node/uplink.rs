//! This node's cascade to the room another node holds (the member's side,
//! issue #16): when the lease of a conference whose first caller this node
//! admits is another node's, the room opens here for this node's callers and
//! one SIP dialog (an [`Uplink`]) goes to the owner's cascade address, signed
//! ([`cascade`]). Once answered, its leg is one talker in the room here: what
//! it sends the owner is the room's N−1 mix for it, the sum of this node's
//! heard callers (never a listener, never a muted caller: the mixer's rule);
//! what the owner sends (its room's mix without this cascade) is mixed into
//! what each caller here hears, never their own voice.
//!
//! The room's authority is the owner's ([`cascade::RoomMessage`] in INFOs on
//! this dialog): this node reports its callers' joins, leaves and keypad
//! commands, each INFO a client transaction of its own; the owner's INFOs are
//! answered 200 and applied once each (one whose CSeq is not above the last
//! applied is a retransmission: answered again, not applied).
//!
//! The INVITE is retransmitted on Timer A until a response, given up on Timer B
//! (RFC 3261 §17.1.1.2, without the transaction layer: a 2xx and its
//! retransmissions are each ACKed, §13.2.2.4, a failure ACKed on its branch).
//! It ends with our BYE when the last caller here leaves, with the owner's BYE,
//! or when no RTP came from the owner for [`RTP_TIMEOUT`]: the room here then
//! goes on alone (split, logged and counted,
//! [`MediaStats::cascades_failed`](super::MediaStats)).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rsip::headers::UntypedHeader;
use rsip::message::HeadersExt;
use rsip::{Method, Request, Response, SipMessage};

use teleconf_domain::{ConferenceId, NodeId};
use teleconf_sip::message::{self, response_to};
use teleconf_sip::rtp;
use teleconf_sip::sdp::{self, Codec, LocalMedia, Negotiated};
use teleconf_sip::transaction::{self, ClientTransaction, Timers, TransactionKey};

use super::call::{RTP_TIMEOUT, RtpOut, pump_infos};
use super::rooms::Lease;
use super::{IoOutput, MediaOutput, Node};
use crate::app::CallKey;
use crate::app::cascade::{self, RoomMessage};
use crate::app::ivr::Occupancy;
use crate::app::prompts::FRAME_SAMPLES;

/// The codecs our cascade offer carries ([`sdp::offer`]'s).
const OFFERED: [Codec; 2] = [Codec::Pcmu, Codec::Pcma];

/// One cascade to the owner's room.
#[derive(Debug)]
pub(super) struct Uplink {
    conference: ConferenceId,
    /// The owner's SIP address.
    owner: SocketAddr,
    /// Our RTP port.
    pub(super) port: u16,
    call_id: String,
    local_tag: String,
    /// Our address, for Via, From and Contact.
    local: SocketAddr,
    node: NodeId,
    ssrc: u32,
    seq: u16,
    timestamp: u32,
    timers: Timers,
    state: State,
    /// Our last CSeq (the INVITE's is 1).
    cseq: u32,
    /// Our INFOs to the owner out.
    told: Vec<ClientTransaction>,
    /// The CSeq of the owner's last INFO applied.
    heard_seq: Option<u32>,
    /// The owner's room's figures, once it told them.
    pub(super) room: Option<Occupancy>,
    /// Its deadline as filed in the node's `uplink_deadlines`.
    filed: Option<Instant>,
}

#[derive(Debug)]
enum State {
    /// Our INVITE is out: resent at `resend_at`, given up at `give_up_at`.
    Inviting {
        invite: Vec<u8>,
        resend_at: Instant,
        interval: Duration,
        give_up_at: Instant,
    },
    /// Answered: the media goes both ways.
    Up {
        /// Our ACK, sent again for each retransmitted 2xx.
        ack: Vec<u8>,
        to_tag: String,
        negotiated: Negotiated,
        last_rtp: Instant,
    },
    /// Our BYE is out.
    Closing(Box<ClientTransaction>),
}

/// What happened to an uplink, for the node.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Happened {
    /// Nothing the node must act on.
    Nothing,
    /// Answered: its leg joins the room with this codec.
    Up(Codec),
    /// Over: refused, timed out, hung up by the owner, or our BYE done.
    Over(&'static str),
    /// The owner told the room here this.
    Told(RoomMessage),
}

impl Uplink {
    /// When the uplink next needs [`Uplink::timeout`].
    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        let told = self
            .told
            .iter()
            .filter_map(ClientTransaction::poll_timeout)
            .min();
        let state = match &self.state {
            State::Inviting {
                resend_at,
                give_up_at,
                ..
            } => Some((*resend_at).min(*give_up_at)),
            State::Up { last_rtp, .. } => Some(*last_rtp + RTP_TIMEOUT),
            State::Closing(bye) => bye.poll_timeout(),
        };
        [told, state].into_iter().flatten().min()
    }

    /// Whether the dialog is up (INFOs may go).
    pub(super) fn is_up(&self) -> bool {
        matches!(self.state, State::Up { .. })
    }

    /// The codec agreed, once up.
    fn codec(&self) -> Option<Codec> {
        match &self.state {
            State::Up { negotiated, .. } => Some(negotiated.codec),
            State::Inviting { .. } | State::Closing(_) => None,
        }
    }

    fn request(&self, method: &str, cseq: u32, branch: &str, to_tag: Option<&str>) -> String {
        let to_tag = to_tag.map(|tag| format!(";tag={tag}")).unwrap_or_default();
        format!(
            "{method} sip:cascade@{owner} SIP/2.0\r\n\
             Via: SIP/2.0/UDP {local};branch={branch}\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:{node}@{local}>;tag={tag}\r\n\
             To: <sip:cascade@{owner}>{to_tag}\r\n\
             Call-ID: {call_id}\r\n\
             CSeq: {cseq} {method}\r\n",
            owner = self.owner,
            local = self.local,
            node = self.node,
            tag = self.local_tag,
            call_id = self.call_id,
        )
    }

    fn branch(&self, what: &str) -> String {
        format!("z9hG4bK-{}-{what}", self.local_tag)
    }
}

impl Node {
    /// Opens this node's cascade to `conference`'s room at `owner` (its
    /// cascade address): the uplink's leg joins the room here once answered.
    /// `None` when no port is left or the cascade is not configured.
    pub(super) fn open_uplink(
        &mut self,
        now: Instant,
        wall_clock: DateTime<Utc>,
        conference: ConferenceId,
        owner: SocketAddr,
    ) -> Option<CallKey> {
        let config = self.config.cascade.clone()?;
        let port = self.free_ports.take(now)?;
        let random: [u8; 20] = teleconf_domain::random::bytes();
        let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
        let (tag, rest) = random.split_at(8);
        let (ssrc, id) = rest.split_at(4);
        let key = CallKey(self.next_leg);
        self.next_leg += 1;
        let mut uplink = Uplink {
            conference,
            owner,
            port,
            call_id: format!("cascade-{}@{}", hex(id), config.addr.ip()),
            local_tag: hex(tag),
            local: config.addr,
            node: self.config.node_id.clone(),
            ssrc: u32::from_be_bytes(ssrc.try_into().unwrap_or_default()),
            seq: 0,
            timestamp: 0,
            timers: self.config.timers,
            state: State::Inviting {
                invite: Vec::new(),
                resend_at: now + self.config.timers.t1,
                interval: self.config.timers.t1,
                give_up_at: now + self.config.timers.sixty_four_t1(),
            },
            cseq: 1,
            told: Vec::new(),
            heard_seq: None,
            room: None,
            filed: None,
        };
        let offer = sdp::offer(&LocalMedia {
            addr: config.rtp_ip().unwrap_or(self.config.rtp_addr),
            port,
            session_id: u64::from(uplink.ssrc),
            version: 1,
        });
        let signed: String = cascade::headers(
            &config.secret,
            conference,
            &self.config.node_id,
            &uplink.call_id,
            wall_clock,
        )
        .iter()
        .map(|header| format!("{header}\r\n"))
        .collect();
        let invite = format!(
            "{}Contact: <sip:{}@{}>\r\n{signed}Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{offer}",
            uplink.request("INVITE", 1, &uplink.branch("invite"), None),
            uplink.node,
            uplink.local,
            offer.len()
        )
        .into_bytes();
        if let State::Inviting { invite: kept, .. } = &mut uplink.state {
            kept.clone_from(&invite);
        }
        tracing::info!(%conference, %owner, call_id = %uplink.call_id, "node: cascade INVITE to the room's owner");
        self.media(MediaOutput::BindRtp(port));
        self.io(IoOutput::SendSip {
            to: owner,
            bytes: invite,
        });
        self.uplinks.insert(key, uplink);
        self.uplinks_touched.push(key);
        Some(key)
    }

    /// The cascade of this member node to `conference`'s owner and its codec,
    /// while it is up.
    pub(super) fn uplink_up(&self, conference: ConferenceId) -> Option<(CallKey, Codec)> {
        let uplink = self.member_uplink(conference)?;
        Some((uplink, self.uplinks.get(&uplink)?.codec()?))
    }

    /// The uplink whose Call-ID this is.
    pub(super) fn uplink_of(&self, call_id: &str) -> Option<CallKey> {
        self.uplinks
            .iter()
            .find(|(_, uplink)| uplink.call_id == call_id)
            .map(|(key, _)| *key)
    }

    /// The uplink whose RTP port this is.
    pub(super) fn uplink_on(&self, port: u16) -> Option<CallKey> {
        self.uplinks
            .iter()
            .find(|(_, uplink)| uplink.port == port)
            .map(|(key, _)| *key)
    }

    /// A SIP message of uplink `key`, from `from`.
    pub(super) fn uplink_sip(&mut self, now: Instant, key: CallKey, message: SipMessage) {
        self.uplinks_touched.push(key);
        let happened = match message {
            SipMessage::Response(response) => self.uplink_response(now, key, response),
            SipMessage::Request(request) => self.uplink_request(key, request),
        };
        self.uplink_happened(now, key, happened);
    }

    fn uplink_response(&mut self, now: Instant, key: CallKey, response: Response) -> Happened {
        let Some(uplink) = self.uplinks.get_mut(&key) else {
            return Happened::Nothing;
        };
        let owner = uplink.owner;
        let transaction = TransactionKey::of_response(&response);
        if let Some(info) = uplink.told.iter_mut().find(|info| {
            transaction.is_some() && transaction == TransactionKey::of_request(info.request())
        }) {
            info.handle(now, transaction::Input::Receive(response.into()));
            self.drain_told(key);
            return Happened::Nothing;
        }
        let code = response.status_code.code();
        let is_invite = response
            .cseq_header()
            .ok()
            .and_then(|cseq| cseq.method().ok())
            == Some(Method::Invite);
        let to_tag = response
            .to_header()
            .ok()
            .and_then(|to| to.tag().ok().flatten())
            .map(|tag| tag.value().to_string());
        let mut send = Vec::new();
        let happened = match &mut uplink.state {
            State::Closing(bye) => {
                bye.handle(
                    now,
                    transaction::Input::Receive(SipMessage::Response(response)),
                );
                pump(bye, &mut send, "our BYE answered")
            }
            _ if !is_invite || code < 200 => {
                if let State::Inviting {
                    resend_at,
                    give_up_at,
                    ..
                } = &mut uplink.state
                {
                    // A provisional answer stops the resending (§17.1.1.2).
                    *resend_at = *give_up_at;
                }
                Happened::Nothing
            }
            State::Up { ack, .. } => {
                // The 2xx again: our ACK was lost.
                if (200..300).contains(&code) {
                    send.push(ack.clone());
                }
                Happened::Nothing
            }
            State::Inviting { .. } if (200..300).contains(&code) => {
                let answer = std::str::from_utf8(&response.body)
                    .ok()
                    .and_then(|body| sdp::parse(body).ok())
                    .and_then(|offer| sdp::accept_answer(&OFFERED, &offer).ok());
                let to_tag = to_tag.unwrap_or_default();
                let ack = format!(
                    "{}Content-Length: 0\r\n\r\n",
                    uplink.request("ACK", 1, &uplink.branch("ack"), Some(&to_tag))
                )
                .into_bytes();
                send.push(ack.clone());
                match answer {
                    Some(negotiated) => {
                        uplink.state = State::Up {
                            ack,
                            to_tag,
                            negotiated,
                            last_rtp: now,
                        };
                        Happened::Up(negotiated.codec)
                    }
                    None => {
                        // Answered with nothing we offered: hang up at once.
                        uplink.state = State::Up {
                            ack,
                            to_tag,
                            negotiated: no_media(),
                            last_rtp: now,
                        };
                        self.close_uplink(now, key);
                        return Happened::Nothing;
                    }
                }
            }
            State::Inviting { .. } => {
                // A failure: ACKed on the INVITE's branch (§17.1.1.3).
                let ack = format!(
                    "{}Content-Length: 0\r\n\r\n",
                    uplink.request("ACK", 1, &uplink.branch("invite"), to_tag.as_deref())
                );
                send.push(ack.into_bytes());
                tracing::warn!(code, "node: cascade refused by the room's owner");
                Happened::Over("refused by the owner")
            }
        };
        for bytes in send {
            self.io(IoOutput::SendSip { to: owner, bytes });
        }
        happened
    }

    /// The owner's request on the cascade dialog: its BYE ends it; its INFO
    /// tells the room here something (applied once: a CSeq not above the last
    /// applied is a retransmission; an unreadable one is answered 400);
    /// anything else is answered 200 (OPTIONS: the dialog stands) and changes
    /// nothing.
    fn uplink_request(&mut self, key: CallKey, request: Request) -> Happened {
        let Some(uplink) = self.uplinks.get_mut(&key) else {
            return Happened::Nothing;
        };
        let owner = uplink.owner;
        let mut status = 200;
        let mut unreadable = None;
        let happened = match request.method {
            Method::Bye => Happened::Over("hung up by the owner"),
            Method::Info if is_room_message(&request) => {
                let seq = request.cseq_header().ok().and_then(|cseq| cseq.seq().ok());
                match (seq, RoomMessage::decode(&request.body)) {
                    (Some(seq), _) if uplink.heard_seq.is_some_and(|heard| seq <= heard) => {
                        Happened::Nothing
                    }
                    (Some(seq), Ok(told)) => {
                        uplink.heard_seq = Some(seq);
                        Happened::Told(told)
                    }
                    (_, Err(error)) => {
                        tracing::warn!(%error, "node: unreadable room message from the owner");
                        status = 400;
                        unreadable = Some(error);
                        Happened::Nothing
                    }
                    (None, Ok(_)) => {
                        status = 400;
                        Happened::Nothing
                    }
                }
            }
            _ => Happened::Nothing,
        };
        let mut response = response_to(&request, status, None);
        if let Some(error) = &unreadable {
            response = cascade::unreadable(response, error);
        }
        self.io(IoOutput::SendSip {
            to: owner,
            bytes: message::encode(&SipMessage::Response(response)),
        });
        happened
    }

    /// Tells the owner `message` by an INFO on uplink `key`, once it is up.
    pub(super) fn uplink_tell(&mut self, now: Instant, key: CallKey, message: &RoomMessage) {
        self.uplinks_touched.push(key);
        let Some(uplink) = self.uplinks.get_mut(&key) else {
            return;
        };
        let State::Up { to_tag, .. } = &uplink.state else {
            return;
        };
        uplink.cseq += 1;
        let body = message.encode();
        let text = format!(
            "{}Content-Type: {}\r\nContent-Length: {}\r\n\r\n",
            uplink.request(
                "INFO",
                uplink.cseq,
                &uplink.branch(&format!("info{}", uplink.cseq)),
                Some(to_tag)
            ),
            cascade::ROOM_CONTENT_TYPE,
            body.len()
        );
        let mut bytes = text.into_bytes();
        bytes.extend_from_slice(&body);
        let Ok(SipMessage::Request(info)) = message::parse(&bytes) else {
            return;
        };
        uplink
            .told
            .push(ClientTransaction::new(now, info, uplink.timers));
        self.drain_told(key);
    }

    /// Sends what uplink `key`'s INFOs transmit, and forgets those done.
    fn drain_told(&mut self, key: CallKey) {
        let Some(uplink) = self.uplinks.get_mut(&key) else {
            return;
        };
        let send = pump_infos(&mut uplink.told);
        let owner = uplink.owner;
        for bytes in send {
            self.io(IoOutput::SendSip { to: owner, bytes });
        }
    }

    /// Uplink `key`'s deadline came.
    pub(super) fn uplink_timeout(&mut self, now: Instant, key: CallKey) {
        self.uplinks_touched.push(key);
        let Some(uplink) = self.uplinks.get_mut(&key) else {
            return;
        };
        let owner = uplink.owner;
        for info in &mut uplink.told {
            info.handle_timeout(now);
        }
        self.drain_told(key);
        let Some(uplink) = self.uplinks.get_mut(&key) else {
            return;
        };
        let mut send = Vec::new();
        let happened = match &mut uplink.state {
            State::Inviting { give_up_at, .. } if *give_up_at <= now => {
                Happened::Over("the owner never answered")
            }
            State::Inviting {
                invite,
                resend_at,
                interval,
                ..
            } => {
                if *resend_at <= now {
                    send.push(invite.clone());
                    *interval *= 2;
                    *resend_at = now + *interval;
                }
                Happened::Nothing
            }
            State::Up { last_rtp, .. } if *last_rtp + RTP_TIMEOUT <= now => {
                tracing::warn!("node: no RTP from the room's owner: cascade ended");
                self.close_uplink(now, key);
                return self.uplink_happened(now, key, Happened::Over("no RTP from the owner"));
            }
            State::Up { .. } => Happened::Nothing,
            State::Closing(bye) => {
                bye.handle_timeout(now);
                pump(bye, &mut send, "our BYE done")
            }
        };
        for bytes in send {
            self.io(IoOutput::SendSip { to: owner, bytes });
        }
        self.uplink_happened(now, key, happened);
    }

    /// The owner's RTP on uplink `key`'s port, into the room here.
    pub(super) fn uplink_rtp(
        &mut self,
        now: Instant,
        key: CallKey,
        bytes: &[u8],
        from: SocketAddr,
    ) {
        let Some(uplink) = self.uplinks.get_mut(&key) else {
            return;
        };
        let State::Up {
            negotiated,
            last_rtp,
            ..
        } = &mut uplink.state
        else {
            return;
        };
        // Only the owner's media, of the agreed payload type.
        let Ok(packet) = rtp::parse(bytes) else {
            return;
        };
        if negotiated.source.map(SocketAddr::V4) != Some(from)
            || packet.payload_type != negotiated.payload_type
        {
            return;
        }
        *last_rtp = now;
        let conference = uplink.conference;
        if let Some(room) = self.rooms.get_mut(&conference)
            && let Err(error) =
                room.mixer_mut()
                    .push(now, key, packet.sequence, packet.timestamp, packet.payload)
        {
            tracing::debug!(%error, "node: cascade frame refused by the room");
        }
    }

    /// The room's frame for uplink `key`: to the owner.
    pub(super) fn uplink_frame(&mut self, key: CallKey, frame: &[u8; FRAME_SAMPLES]) {
        let Some(uplink) = self.uplinks.get_mut(&key) else {
            return;
        };
        let State::Up { negotiated, .. } = &uplink.state else {
            return;
        };
        let Some(to) = negotiated.remote.map(SocketAddr::V4) else {
            return;
        };
        uplink.seq = uplink.seq.wrapping_add(1);
        uplink.timestamp = uplink.timestamp.wrapping_add(FRAME_SAMPLES as u32);
        let Ok(bytes) = RtpOut::new(
            uplink.ssrc,
            uplink.seq,
            uplink.timestamp,
            negotiated.payload_type,
            false,
            frame,
        ) else {
            return;
        };
        let from_port = uplink.port;
        self.media(MediaOutput::SendRtp {
            from_port,
            to,
            bytes,
        });
    }

    /// Ends uplink `key` with our BYE (its leg leaves the room here); one not
    /// answered yet is dropped (the owner's INVITE transaction times out).
    pub(super) fn close_uplink(&mut self, now: Instant, key: CallKey) {
        self.uplinks_touched.push(key);
        let Some(uplink) = self.uplinks.get_mut(&key) else {
            return;
        };
        let conference = uplink.conference;
        let bye = match &uplink.state {
            State::Up { to_tag, .. } => {
                let text = format!(
                    "{}Content-Length: 0\r\n\r\n",
                    uplink.request("BYE", uplink.cseq + 1, &uplink.branch("bye"), Some(to_tag))
                );
                match message::parse(text.as_bytes()) {
                    Ok(SipMessage::Request(bye)) => Some(bye),
                    _ => None,
                }
            }
            State::Inviting { .. } | State::Closing(_) => None,
        };
        let owner = uplink.owner;
        match bye {
            Some(bye) => {
                let mut transaction = ClientTransaction::new(now, bye, uplink.timers);
                let mut send = Vec::new();
                while let Some(output) = transaction.poll_output() {
                    if let transaction::Output::Transmit(bytes) = output {
                        send.push(bytes);
                    }
                }
                uplink.state = State::Closing(Box::new(transaction));
                for bytes in send {
                    self.io(IoOutput::SendSip { to: owner, bytes });
                }
            }
            None => self.drop_uplink(now, key),
        }
        if let Some(room) = self.rooms.get_mut(&conference) {
            room.leave(key);
        }
    }

    /// What the node does about what happened to uplink `key`.
    fn uplink_happened(&mut self, now: Instant, key: CallKey, happened: Happened) {
        let Some(conference) = self.uplinks.get(&key).map(|uplink| uplink.conference) else {
            return;
        };
        match happened {
            Happened::Nothing => {}
            Happened::Up(codec) => {
                let joined = self
                    .rooms
                    .get_mut(&conference)
                    .map(|room| room.join_cascade(key, codec));
                tracing::info!(%conference, ?codec, joined = ?joined.map(|r| r.is_ok()), "node: cascade to the room's owner up");
                self.report_callers(now, conference, key);
            }
            Happened::Told(told) => {
                let figures = match (&told, self.uplinks.get_mut(&key)) {
                    (&RoomMessage::Room { callers, locked }, Some(uplink)) => {
                        uplink.room = Some(Occupancy { callers, locked });
                        true
                    }
                    _ => false,
                };
                self.owner_told(now, conference, told);
                if figures {
                    // The callers checked against them are let through.
                    self.open_gate(now, conference);
                }
            }
            Happened::Over(why) => {
                let was_member = matches!(
                    self.leases.get(&conference),
                    Some(Lease::Member { uplink, .. }) if *uplink == key
                );
                if was_member {
                    self.cascades_failed += 1;
                    tracing::warn!(%conference, why, "node: cascade to the room's owner over: the room here goes on alone");
                    if let Some(Lease::Member { owner, .. }) = self.leases.remove(&conference) {
                        self.leases.insert(conference, Lease::Elsewhere { owner });
                    }
                } else {
                    tracing::info!(%conference, why, "node: cascade closed");
                }
                if let Some(room) = self.rooms.get_mut(&conference) {
                    room.leave(key);
                }
                self.drop_uplink(now, key);
                if was_member {
                    // The callers waiting on the owner's figures are checked
                    // against the room here.
                    self.open_gate(now, conference);
                }
            }
        }
    }

    /// Files again the deadlines of the uplinks touched since the last time
    /// (their SIP, INFOs, timeouts, closing: everything that may move a
    /// deadline sooner marks them; their RTP, 50 packets a second, moves only
    /// the RTP timeout, later, as a call's frame does), so that neither
    /// [`Node::poll_timeout`] nor [`Input::Timeout`](super::Input::Timeout)
    /// walks every uplink at each packet.
    pub(super) fn refile_uplinks(&mut self) {
        while let Some(key) = self.uplinks_touched.pop() {
            let Some(uplink) = self.uplinks.get_mut(&key) else {
                continue;
            };
            let next = uplink.poll_timeout();
            if next == uplink.filed {
                continue;
            }
            if let Some(old) = std::mem::replace(&mut uplink.filed, next) {
                self.uplink_deadlines.remove(&(old, key));
            }
            if let Some(at) = next {
                self.uplink_deadlines.insert((at, key));
            }
        }
    }

    /// The uplinks whose filed deadline is `now` or past, unfiled: the
    /// timeout of each files it again.
    pub(super) fn uplinks_due(&mut self, now: Instant) -> Vec<CallKey> {
        let mut due = Vec::new();
        while let Some(&(at, key)) = self.uplink_deadlines.first()
            && at <= now
        {
            self.uplink_deadlines.pop_first();
            if let Some(uplink) = self.uplinks.get_mut(&key) {
                uplink.filed = None;
            }
            due.push(key);
        }
        due
    }

    fn drop_uplink(&mut self, now: Instant, key: CallKey) {
        if let Some(uplink) = self.uplinks.remove(&key) {
            if let Some(at) = uplink.filed {
                self.uplink_deadlines.remove(&(at, key));
            }
            self.free_ports.release(now, uplink.port);
            self.media(MediaOutput::ReleaseRtp(uplink.port));
        }
    }
}

/// Whether `request` carries a [`RoomMessage`].
fn is_room_message(request: &Request) -> bool {
    request.headers.iter().any(|header| {
        matches!(header, rsip::Header::ContentType(content_type)
            if content_type.value().trim() == cascade::ROOM_CONTENT_TYPE)
    })
}

/// What our BYE's transaction sends (into `send`), and whether it is over
/// (`why`).
fn pump(bye: &mut ClientTransaction, send: &mut Vec<Vec<u8>>, why: &'static str) -> Happened {
    let mut over = false;
    while let Some(output) = bye.poll_output() {
        match output {
            transaction::Output::Transmit(bytes) => send.push(bytes),
            transaction::Output::Terminated => over = true,
            transaction::Output::ToTu(_) => {}
        }
    }
    if over {
        Happened::Over(why)
    } else {
        Happened::Nothing
    }
}

/// Media agreed on nothing (an answer we cannot use).
fn no_media() -> Negotiated {
    Negotiated {
        codec: Codec::Pcmu,
        payload_type: 0,
        telephone_event: None,
        remote: None,
        source: None,
        direction: sdp::Direction::Inactive,
        ptime_ms: 20,
    }
}
