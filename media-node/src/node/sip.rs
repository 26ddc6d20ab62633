//! The node's SIP edge: datagrams parsed (garbage answered 400 or dropped), the
//! trunk's and the IP phones' requests routed to their call or answered
//! statelessly (403, 404, 481, 503, OPTIONS' 200, or 503 while draining), and a
//! new INVITE's lookup, RTP port and [`Call`].
//!
//! Behind the SIP entry (Kamailio, `infra/kamailio/`) every request comes from
//! the entry's address; the entry names the real sender in [`SOURCE_HEADER`].
//! That header is believed only from the entry's addresses
//! ([`NodeConfig::entry_sources`](super::NodeConfig::entry_sources)): the sender
//! it names is then the caller's origin for the trunk allow-list, `*44` and the
//! IVR's guessing counters. From anyone else it is ignored and counted
//! ([`MediaStats::untrusted_source_headers`](super::MediaStats)).
//!
//! Another node's cascade INVITE ([`cascade`]) is taken only straight from a
//! node's address ([`NodeConfig::cascade`](super::NodeConfig::cascade)), never
//! through the SIP entry, signed with the nodes' secret, into a room this node
//! holds (404 otherwise: the member reads the lease again); it becomes a call
//! with no IVR and no CDR whose leg is one talker in the room. Refused ones get
//! 403 and are counted ([`MediaStats::cascades_refused`](super::MediaStats)).
//! The cascade's in-dialog requests come from the member node's address.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use rsip::headers::UntypedHeader;
use rsip::message::HeadersExt;
use rsip::{Header, Method, Request, Response, SipMessage};

use teleconf_domain::{AccountId, ConferencePrompts, E164, Language, PhoneNumber};
use teleconf_sip::dialog::ALLOW;
use teleconf_sip::message::{self, response_to, stateless_response};
use teleconf_sip::sdp::LocalMedia;
use teleconf_sip::transaction::TransactionKey;

use super::call::{self, Call, Settings};
use super::star44::STAR44;
use super::{HostedCall, IoOutput, MediaOutput, Node};
use crate::app::CallKey;
use crate::app::cascade;
use crate::app::lookup::{Answer, Lookup};

/// The header in which the SIP entry names the sender of the request it relays
/// (`ip:port`, `[ip]:port` for IPv6).
pub const SOURCE_HEADER: &str = "X-Teleconf-Source";

/// An INVITE waiting for its access number, or for its `*44` account.
#[derive(Debug)]
pub(super) struct PendingInvite {
    request: Request,
    source: SocketAddr,
    /// The caller's own address (`source`, or the one the SIP entry named).
    origin: SocketAddr,
    call_id: String,
    /// The call's span, from its first INVITE on ([`HostedCall::span`]).
    pub(super) span: tracing::Span,
    /// The access number, or `None` for `*44`.
    dialled: Option<E164>,
    /// For `*44`, the account of the IP phone that dialled.
    star44: Option<AccountId>,
    /// When it came, with the wall clock then.
    received: (Instant, DateTime<Utc>),
}

impl PendingInvite {
    /// Its entry in [`Node::trying_due`] as call `key`: when its `100 Trying`
    /// is due. Gone from there once the 100 went.
    fn trying_due(&self, key: CallKey) -> (Instant, CallKey) {
        (self.received.0 + TRYING_AFTER, key)
    }
}

/// How long an INVITE waits for its lookup before we send `100 Trying` (RFC 3261
/// §17.2.1: within 200 ms). It also tells the SIP entry that this node has the
/// call: with no reply at all the entry fails over to the next node after 2 s
/// (`FR_TIMER`), and a slow store would set the caller up on two nodes.
pub(super) const TRYING_AFTER: Duration = Duration::from_millis(200);

/// New calls waiting for their access number's lookup at once: ten seconds of
/// a top-of-the-hour rush (50 calls a second) on a store that does not answer.
/// Past it a new INVITE gets 503 with Retry-After, which the SIP entry takes
/// to the next node, rather than wait behind the others (each held until the
/// store client's own timeout) while its caller gives up.
pub(super) const MAX_PENDING: usize = 512;

/// What a new call is given besides its INVITE.
#[derive(Debug)]
struct NewCall {
    request: Request,
    source: SocketAddr,
    origin: SocketAddr,
    call_id: String,
    span: tracing::Span,
    dialled: Option<E164>,
    wall_clock: DateTime<Utc>,
    language: Language,
    prompts: teleconf_domain::ConferencePrompts,
    star44: Option<AccountId>,
    /// Another node's cascade into that conference's room.
    cascade: Option<teleconf_domain::ConferenceId>,
}

impl Node {
    pub(super) fn receive_sip(
        &mut self,
        now: Instant,
        wall_clock: DateTime<Utc>,
        from: SocketAddr,
        bytes: &[u8],
    ) {
        let message = match message::parse(bytes) {
            Ok(message) => message,
            Err(error) => {
                tracing::debug!(%from, %error, "node: unreadable SIP");
                if (self.is_allowed(from.ip()) || self.is_entry(from.ip()))
                    && let Some(bytes) = message::bad_request(bytes, &error)
                {
                    self.io(IoOutput::SendSip { to: from, bytes });
                }
                return;
            }
        };
        let request = match message {
            SipMessage::Response(response) => {
                let id = call_id(&response);
                if let Some(leg) = id.as_ref().and_then(|id| self.by_call_id.get(id)) {
                    let leg = *leg;
                    self.feed(now, leg, call::Input::Sip(SipMessage::Response(response)));
                } else if let Some(uplink) = id.and_then(|id| self.uplink_of(&id))
                    && self.is_node(from.ip())
                {
                    self.uplink_sip(now, uplink, SipMessage::Response(response));
                }
                return;
            }
            SipMessage::Request(request) => request,
        };
        let from_entry = self.is_entry(from.ip());
        let from_node = self.is_node(from.ip());
        let origin = self.origin(from, from_entry, &request);
        if from_node && let Some(id) = call_id(&request) {
            if let Some(&leg) = self.by_call_id.get(&id) {
                return self.feed(now, leg, call::Input::Sip(SipMessage::Request(request)));
            }
            if let Some(uplink) = self.uplink_of(&id) {
                return self.uplink_sip(now, uplink, SipMessage::Request(request));
            }
        }
        if request.method == Method::Invite && cascade::is_cascade(&request) {
            return self.cascade_invite(now, wall_clock, from, from_node, request);
        }
        if !from_entry && !self.is_allowed(from.ip()) {
            if request.method != Method::Ack {
                tracing::info!(%from, method = %request.method, "node: source not allowed");
                self.respond(from, &request, 403);
            }
            return;
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
            Method::Invite if !in_dialog && !self.is_allowed(origin.ip()) => {
                tracing::info!(%from, %origin, "node: caller not allowed");
                self.respond(from, &request, 403);
            }
            Method::Invite if !in_dialog => {
                self.new_invite(now, wall_clock, (from, origin), id, request)
            }
            // The SIP entry's probe: a draining node leaves its set.
            Method::Options if !in_dialog && self.draining => self.respond(from, &request, 503),
            Method::Options if !in_dialog => {
                let mut response = stateless_response(&request, 200);
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

    /// Whether `ip` is another node's, whose cascade INVITEs are verified.
    fn is_node(&self, ip: IpAddr) -> bool {
        self.config
            .cascade
            .as_ref()
            .is_some_and(|cascade| cascade.sources.contains(ip))
    }

    /// Another node's cascade INVITE (see the module documentation).
    fn cascade_invite(
        &mut self,
        now: Instant,
        wall_clock: DateTime<Utc>,
        from: SocketAddr,
        from_node: bool,
        request: Request,
    ) {
        let verified = match &self.config.cascade {
            Some(config) if from_node => {
                cascade::verify(&config.secret, &request, wall_clock).map_err(|e| e.to_string())
            }
            Some(_) => Err("not from a node's address".into()),
            None => Err("no cascade configured".into()),
        };
        let invite = match verified {
            Ok(invite) => invite,
            Err(why) => {
                self.cascades_refused += 1;
                tracing::warn!(%from, %why, "node: cascade INVITE refused");
                return self.respond(from, &request, 403);
            }
        };
        let Some(call_id) = call_id(&request) else {
            return;
        };
        if self.draining {
            return self.respond(from, &request, 503);
        }
        if TransactionKey::of_request(&request).is_none() || request.body.is_empty() {
            // No transaction could answer it; a cascade always offers its media.
            return self.respond(from, &request, 400);
        }
        let span = tracing::info_span!("call", %call_id);
        let call = span.clone();
        let _call = call.enter();
        let held = self
            .leases
            .get(&invite.conference)
            .is_some_and(super::rooms::Lease::is_held)
            && self.rooms.contains_key(&invite.conference);
        if !held {
            tracing::info!(conference = %invite.conference, member = %invite.node, "node: cascade for a room not held here");
            return self.respond(from, &request, 404);
        }
        tracing::info!(conference = %invite.conference, member = %invite.node, "node: cascade INVITE");
        let key = CallKey(self.next_leg);
        self.next_leg += 1;
        self.start_call(
            now,
            key,
            NewCall {
                request,
                source: from,
                origin: from,
                call_id,
                span,
                dialled: None,
                wall_clock,
                language: Language::default(),
                prompts: ConferencePrompts::default(),
                star44: None,
                cascade: Some(invite.conference),
            },
        );
    }

    /// Whether `ip` is the SIP entry's, whose [`SOURCE_HEADER`] is believed.
    fn is_entry(&self, ip: IpAddr) -> bool {
        self.config.entry_sources.contains(ip)
    }

    /// Who really sent `request`, which came from `from`: the sender the SIP
    /// entry names when it comes from the entry (the entry itself when it names
    /// none: its own OPTIONS probes), else `from`, whose [`SOURCE_HEADER`], if
    /// any, is ignored and counted.
    fn origin(&mut self, from: SocketAddr, from_entry: bool, request: &Request) -> SocketAddr {
        // The last one: the entry removes any it receives and appends its own.
        let named = request
            .headers
            .iter()
            .filter_map(|header| match header {
                Header::Other(name, value) if name.eq_ignore_ascii_case(SOURCE_HEADER) => {
                    Some(value.trim())
                }
                _ => None,
            })
            .last();
        match (named, from_entry) {
            (None, _) => from,
            (Some(named), true) => named.parse().unwrap_or_else(|_| {
                tracing::warn!(%from, named, "node: the SIP entry named an unreadable source");
                from
            }),
            (Some(named), false) => {
                self.untrusted_source_headers += 1;
                tracing::info!(%from, named, "node: source header from outside the SIP entry ignored");
                from
            }
        }
    }

    fn new_invite(
        &mut self,
        now: Instant,
        wall_clock: DateTime<Utc>,
        (source, origin): (SocketAddr, SocketAddr),
        call_id: String,
        request: Request,
    ) {
        if let Some((&key, pending)) = self.pending.iter().find(|(_, p)| p.call_id == call_id) {
            // A retransmission while its number is looked up: absorbed, or our
            // 100 again once it went (RFC 3261 §17.2.1).
            if !self.trying_due.contains(&pending.trying_due(key)) {
                self.send(source, SipMessage::Response(trying(&request)));
            }
            return;
        }
        if self.draining {
            return self.respond(source, &request, 503);
        }
        let waiting = self.pending.len() >= MAX_PENDING;
        if self.overloaded || waiting {
            self.calls_shed += 1;
            let why = if waiting {
                "too many new calls waiting for their lookup"
            } else {
                "past its core"
            };
            tracing::info!(%call_id, why, "node: the new call gets 503");
            let response = stateless_response(&request, 503);
            let response = message::with_retry_after(response, super::RETRY_AFTER.as_secs());
            return self.send(source, SipMessage::Response(response));
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
        let key = CallKey(self.next_leg);
        let (dialled, star44) = if user == STAR44 {
            let from_trunk = self.config.trunk_sources.contains(origin.ip());
            let Some(account) = self.ip_phones.account_of(&request, origin.ip(), from_trunk) else {
                tracing::info!(%origin, "node: *44 from no account's IP phone");
                return self.respond(source, &request, 403);
            };
            self.io(IoOutput::Lookup {
                call: key,
                lookup: Lookup::Account(account),
            });
            (None, Some(account))
        } else {
            let Ok(dialled) = user.parse::<E164>() else {
                tracing::info!(%user, "node: not an E.164 number");
                return self.respond(source, &request, 404);
            };
            self.io(IoOutput::Lookup {
                call: key,
                lookup: Lookup::Number(dialled.clone()),
            });
            (Some(dialled), None)
        };
        self.next_leg += 1;
        let pending = PendingInvite {
            request,
            source,
            origin,
            call_id,
            span,
            dialled,
            star44,
            received: (now, wall_clock),
        };
        self.trying_due.insert(pending.trying_due(key));
        self.pending.insert(key, pending);
    }

    /// The answer to a new call's lookup, its access number or its `*44`
    /// account; any other answer for its key is none of its business.
    pub(super) fn answer_pending(&mut self, now: Instant, key: CallKey, answer: Answer) {
        if !matches!(answer, Answer::Number(_) | Answer::Account(_)) {
            return;
        }
        let Some(pending) = self.pending.remove(&key) else {
            return;
        };
        self.trying_due.remove(&pending.trying_due(key));
        match answer {
            Answer::Number(Ok(number)) => self.number_found(now, key, pending, number),
            Answer::Account(Ok(language)) => self.account_found(now, key, pending, language),
            _ => {
                let _call = pending.span.enter();
                tracing::warn!("node: lookup failed");
                self.respond(pending.source, &pending.request, 503);
            }
        }
    }

    fn number_found(
        &mut self,
        now: Instant,
        key: CallKey,
        pending: PendingInvite,
        number: Option<PhoneNumber>,
    ) {
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
        self.start_pending(now, key, pending, language, prompts);
    }

    /// A `*44` call's account is known: the IVR speaks its language.
    fn account_found(
        &mut self,
        now: Instant,
        key: CallKey,
        pending: PendingInvite,
        language: Option<Language>,
    ) {
        let call = pending.span.clone();
        let _call = call.enter();
        let Some(language) = language else {
            tracing::warn!("node: *44 from a phone of no account");
            return self.respond(pending.source, &pending.request, 403);
        };
        self.start_pending(now, key, pending, language, ConferencePrompts::default());
    }

    fn start_pending(
        &mut self,
        now: Instant,
        key: CallKey,
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
            key,
            NewCall {
                request: pending.request,
                source: pending.source,
                origin: pending.origin,
                call_id: pending.call_id,
                span: pending.span,
                dialled: pending.dialled,
                wall_clock: pending.received.1 + elapsed,
                language,
                prompts,
                star44: pending.star44,
                cascade: None,
            },
        );
    }

    fn start_call(&mut self, now: Instant, key: CallKey, new: NewCall) {
        let Some(port) = self.free_ports.take(now) else {
            tracing::warn!("node: no RTP port left");
            return self.respond(new.source, &new.request, 503);
        };
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
        // A cascade is answered on this node's address between nodes, a caller
        // on its public one.
        let (sip_addr, rtp_addr) = match (&new.cascade, &self.config.cascade) {
            (Some(_), Some(cascade)) => (
                cascade.addr,
                cascade.rtp_ip().unwrap_or(self.config.rtp_addr),
            ),
            _ => (self.config.local_addr, self.config.rtp_addr),
        };
        let Ok(local_contact) = rsip::Uri::try_from(format!("sip:conference@{sip_addr}")) else {
            self.free_ports.put_back(port);
            return self.respond(new.source, &new.request, 500);
        };
        let settings = Settings {
            leg: key,
            local_tag,
            ssrc: u32::from_be_bytes([s0, s1, s2, s3]),
            local_contact,
            via_host: sip_addr.to_string(),
            timers: self.config.timers,
            answer_after: Duration::ZERO,
            trunk_media: self.trunk_media.clone(),
        };
        let local_media = LocalMedia {
            addr: rtp_addr,
            port,
            // RFC 4566 §5.2: an NTP-format id is suggested; any unique number works.
            session_id: u64::from_be_bytes([i0, i1, i2, i3, i4, i5, i6, i7]) >> 1,
            version: 1,
        };
        tracing::info!(port, leg = key.0, "node: new call");
        self.media(MediaOutput::BindRtp(port));
        self.by_call_id.insert(new.call_id.clone(), key);
        self.by_port.insert(port, key);
        self.calls.insert(
            key,
            HostedCall {
                call: Call::new(settings),
                call_id: new.call_id,
                span: new.span,
                port,
                room: None,
                ends: None,
                owner: None,
                filed: None,
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
                request: Box::new(new.request),
                source: new.source,
                origin: new.origin.ip(),
                dialled: new.dialled,
                caller_id,
                local_media,
                wall_clock: new.wall_clock,
                language: new.language,
                prompts: new.prompts,
                star44: new.star44,
                cascade: new.cascade,
            },
        );
    }

    /// The INVITEs whose lookup has not answered within [`TRYING_AFTER`] get
    /// their `100 Trying`.
    pub(super) fn pending_timeout(&mut self, now: Instant) {
        while let Some(&(at, key)) = self.trying_due.first()
            && at <= now
        {
            self.trying_due.pop_first();
            let Some(pending) = self.pending.get(&key) else {
                continue;
            };
            let (source, response) = (pending.source, trying(&pending.request));
            self.send(source, SipMessage::Response(response));
        }
    }

    /// When the first `100 Trying` is due, if any.
    pub(super) fn pending_deadline(&self) -> Option<Instant> {
        self.trying_due.first().map(|(at, _)| *at)
    }

    /// A stateless response to `request`.
    fn respond(&mut self, to: SocketAddr, request: &Request, status: u16) {
        if request.method == Method::Ack {
            return;
        }
        let response = stateless_response(request, status);
        self.send(to, SipMessage::Response(response));
    }

    fn send(&mut self, to: SocketAddr, message: SipMessage) {
        self.io(IoOutput::SendSip {
            to,
            bytes: message::encode(&message),
        });
    }
}

/// Our `100 Trying` to a new INVITE whose lookup is slow ([`TRYING_AFTER`]): no
/// To tag (it makes no dialog, RFC 3261 §8.2.6.2).
fn trying(invite: &Request) -> Response {
    response_to(invite, 100, None)
}

/// The Call-ID of a message.
fn call_id(message: &impl HeadersExt) -> Option<String> {
    message
        .call_id_header()
        .ok()
        .map(|header| header.value().to_string())
}
