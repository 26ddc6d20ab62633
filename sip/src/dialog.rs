//! The UAS side of one call's dialog (RFC 3261 §12), sans-IO: requests in, responses
//! and requests out, no socket, no clock.
//!
//! The media node only ever answers calls, so a [`Dialog`] is always created by a UAS
//! (§12.1.1) from the caller's INVITE and our To tag:
//!
//! - its identity is the Call-ID, our (local) tag and the caller's (remote) tag
//!   (§12, [`Dialog::matches`]);
//! - the route set is the INVITE's Record-Route URIs *in order* (a UAS keeps them as
//!   they come; the UAC reverses them), the remote target is the INVITE's Contact URI,
//!   the remote sequence number its CSeq, the local sequence number empty (§12.1.1);
//! - [`Dialog::answer`] builds our responses to the INVITE: To tag, Contact, the
//!   Record-Route values copied in order, Allow, SDP (§12.1.1, §13.3.1.4);
//! - [`Dialog::classify`] sorts what the caller sends on the dialog (§12.2.2: CSeq
//!   order checked, 500 when out of order): the ACK for our 2xx (§13.3.1.4), BYE
//!   (§15.1.2), re-INVITE (§14.2), INFO (RFC 6086) and OPTIONS (§11.2), and answers
//!   what the dialog alone can answer;
//! - [`Dialog::bye`] builds our BYE when the bridge hangs up (§15.1.1), following
//!   §12.2.1.1: Request-URI and Route from the remote target and the route set (loose
//!   routing, RFC 3261 §16.12.1.1; strict routers handled as §12.2.1.1 says), CSeq one
//!   above the local sequence number.
//!
//! Transactions (retransmissions, the 2xx retransmitted until ACK, CANCEL) are the
//! [transaction layer](crate::transaction)'s; SDP is [`crate::sdp`]'s. The dialog only
//! hands bodies up.
//!
//! The node never sends re-INVITEs, so the only INVITE "in progress" on a dialog is
//! the caller's: the initial one until its ACK, or a re-INVITE until we answered it
//! (and, when our 2xx carried the offer, until the ACK brings the answer).

use std::fmt::Write as _;

use rsip::headers::{ToTypedHeader, UntypedHeader};
use rsip::message::HeadersExt;
use rsip::{Header, Method, Request, Response};

use crate::message::response_to;

/// The methods a dialog accepts, advertised in Allow (RFC 3261 §20.5) on our INVITE
/// responses, in-dialog OPTIONS answers and 501s.
pub const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO";

/// Max-Forwards of the requests we originate (RFC 3261 §8.1.1.6: "SHOULD be 70").
pub const MAX_FORWARDS: u32 = 70;

/// The media type of an SDP body (RFC 3261 §13.2.1, RFC 4566 §8.1).
const APPLICATION_SDP: &str = "application/sdp";

/// Why an INVITE cannot create a dialog. Every variant is the caller's fault: answer
/// the INVITE 400 (RFC 3261 §8.2: a request we cannot process as a UAS).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DialogError {
    /// The INVITE has no Contact: the dialog would have no remote target (RFC 3261
    /// §8.1.1.8: "The Contact header field MUST be present ... in any request that can
    /// result in the establishment of a dialog").
    #[error("the INVITE has no Contact header: no remote target for the dialog")]
    MissingContact,
    /// The From header has no tag, so the caller's half of the dialog ID is missing
    /// (RFC 3261 §8.1.1.3, §12.1.1; RFC 2543 peers without tags are not supported).
    #[error("the From header has no tag")]
    MissingTag,
    /// The request is not an INVITE, or a header the dialog needs cannot be read.
    #[error("cannot create a dialog: {0}")]
    Malformed(String),
}

/// Where a dialog stands (RFC 3261 §12: early, confirmed, terminated).
///
/// For this UAS the dialog is [`DialogState::Early`] from [`Dialog::accept`] until the
/// caller's ACK arrives, even after our 2xx was sent: until then we may not send BYE
/// (§15: "the callee's UA MUST NOT send a BYE on a confirmed dialog until it has
/// received an ACK for its 2xx response or until the server transaction times out").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogState {
    /// Created by the INVITE; the ACK for our 2xx has not arrived yet.
    Early,
    /// The ACK arrived (or [`Dialog::confirm`] was called when it never did).
    Confirmed,
    /// A BYE went either way (§15); every later request gets 481.
    Terminated,
}

/// What a request received on the dialog is, and the response to send when the
/// dialog decides it alone ([`Dialog::classify`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InDialog {
    /// The ACK for our 2xx to an INVITE (RFC 3261 §13.3.1.4). Its body, when present,
    /// is the SDP answer to the offer our 2xx carried (an offerless INVITE): hand it
    /// to `sdp::accept_answer`. ACKs are never answered.
    Ack {
        /// The ACK's body as text, if it has one.
        sdp: Option<String>,
    },
    /// A re-INVITE (RFC 3261 §14.2): hold, unhold, codec change, or an offerless
    /// refresh. Run `sdp::answer` on `sdp` (or `sdp::offer` when it is `None`) and
    /// answer with [`Dialog::answer_reinvite`] (200 with SDP, or 488).
    ReInvite {
        /// The re-INVITE's body as text (the new offer), if it has one.
        sdp: Option<String>,
    },
    /// The caller hung up (RFC 3261 §15.1.2): send `response` (200); the dialog is
    /// [`DialogState::Terminated`].
    Bye {
        /// The 200 to send.
        response: Response,
    },
    /// An INFO (RFC 6086), e.g. DTMF relay (`application/dtmf-relay`,
    /// `application/dtmf`): send `response` (200) and read the body.
    Info {
        /// The Content-Type value, if present (e.g. `application/dtmf-relay`).
        content_type: Option<String>,
        /// The body, byte for byte.
        body: Vec<u8>,
        /// The 200 to send.
        response: Response,
    },
    /// An in-dialog OPTIONS (RFC 3261 §11.2, a keep-alive): send `response` (200 with
    /// Allow and Accept).
    Options {
        /// The 200 to send.
        response: Response,
    },
    /// The request is refused: send `response` (500 out of order or overlapping
    /// INVITE, 491 glare, 481 on a terminated dialog, 501 unsupported method).
    Reject {
        /// The error response to send.
        response: Response,
    },
    /// Nothing to do: a repeated ACK (the 2xx was retransmitted), or an ACK that
    /// acknowledges no INVITE of ours.
    Absorbed,
}

/// Where the caller's latest re-INVITE stands (RFC 3261 §14.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ReInvite {
    /// Its CSeq number: the ACK for our 2xx carries the same (§13.2.2.4).
    seq: u32,
    /// Whether our final response went out (through [`Dialog::answer_reinvite`]).
    answered: bool,
    /// Whether it came without SDP, so our 2xx carries an offer and the ACK the answer.
    offerless: bool,
}

/// The dialog of one answered call, seen from our side (the UAS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialog {
    /// The Call-ID (first part of the dialog ID, §12).
    call_id: String,
    /// Our tag: the To tag of our responses, the From tag of our requests.
    local_tag: String,
    /// The caller's tag: the From tag of the INVITE.
    remote_tag: String,
    /// The local URI: the INVITE's To URI (§12.1.1), From of our requests.
    local_uri: rsip::Uri,
    /// The remote URI: the INVITE's From URI (§12.1.1), To of our requests.
    remote_uri: rsip::Uri,
    /// Our Contact, in every response that establishes or refreshes the dialog.
    local_contact: rsip::Uri,
    /// The caller's Contact URI: the Request-URI (or last Route) of our requests.
    remote_target: rsip::Uri,
    /// The INVITE's Record-Route URIs in order, URI parameters kept (§12.1.1).
    route_set: Vec<Route>,
    /// The highest CSeq number received on the dialog (§12.2.2).
    remote_seq: u32,
    /// The CSeq number of our last request; `None` until we send one (§12.1.1: a UAS
    /// starts with an empty local sequence number).
    local_seq: Option<u32>,
    /// The CSeq number of the initial INVITE, which its ACK repeats.
    invite_seq: u32,
    /// Whether the initial INVITE came without SDP (our 2xx offers, the ACK answers).
    offerless: bool,
    /// The caller's re-INVITE still in progress, if any.
    reinvite: Option<ReInvite>,
    /// Early, confirmed or terminated.
    state: DialogState,
}

impl Dialog {
    /// Creates the dialog our answer to `invite` establishes (RFC 3261 §12.1.1).
    ///
    /// `local_tag` is our To tag (§19.3: at least 32 bits of randomness, chosen by the
    /// caller); `local_contact` is our Contact URI (`sip:conference@<addr:port>`).
    ///
    /// # Errors
    /// [`DialogError::MissingContact`] when the INVITE has no Contact (no remote
    /// target), [`DialogError::MissingTag`] when its From has no tag, and
    /// [`DialogError::Malformed`] when it is not an INVITE, its From, To, Call-ID,
    /// CSeq, Contact or Record-Route cannot be read, or a URI of From, To, Contact or
    /// Record-Route is no SIP URI our requests could print. Answer any of them 400.
    pub fn accept(
        invite: &Request,
        local_tag: &str,
        local_contact: &rsip::Uri,
    ) -> Result<Self, DialogError> {
        if invite.method != Method::Invite {
            return Err(DialogError::Malformed(format!(
                "a {} cannot create a dialog",
                invite.method
            )));
        }
        if local_tag.is_empty() {
            return Err(DialogError::Malformed("our local tag is empty".into()));
        }
        let from = invite
            .from_header()
            .and_then(|from| from.typed())
            .map_err(|error| malformed("From", error))?;
        let remote_tag = from
            .tag()
            .map(|tag| tag.value().to_owned())
            .filter(|tag| !tag.is_empty())
            .ok_or(DialogError::MissingTag)?;
        let to = invite
            .to_header()
            .and_then(|to| to.typed())
            .map_err(|error| malformed("To", error))?;
        let call_id = invite
            .call_id_header()
            .map_err(|error| malformed("Call-ID", error))?
            .value()
            .to_owned();
        let cseq = invite
            .cseq_header()
            .and_then(|cseq| cseq.typed())
            .map_err(|error| malformed("CSeq", error))?;
        let contact = invite
            .contact_headers()
            .into_iter()
            .next()
            .ok_or(DialogError::MissingContact)?
            .typed()
            .map_err(|error| malformed("Contact", error))?;
        for (name, uri) in [
            ("From", &from.uri),
            ("To", &to.uri),
            ("Contact", &contact.uri),
        ] {
            if !is_sip_uri(uri) {
                return Err(DialogError::Malformed(format!(
                    "{name}: not a SIP URI: {uri}"
                )));
            }
        }
        let route_set = record_route_uris(invite)?;

        tracing::debug!(%call_id, %remote_tag, routes = route_set.len(), "dialog created");
        Ok(Self {
            call_id,
            local_tag: local_tag.to_owned(),
            remote_tag,
            local_uri: to.uri,
            remote_uri: from.uri,
            local_contact: local_contact.clone(),
            remote_target: contact.uri,
            route_set,
            remote_seq: cseq.seq,
            local_seq: None,
            invite_seq: cseq.seq,
            offerless: invite.body.is_empty(),
            reinvite: None,
            state: DialogState::Early,
        })
    }

    /// The Call-ID shared by every message of the dialog.
    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    /// Our tag (the To tag of our responses).
    pub fn local_tag(&self) -> &str {
        &self.local_tag
    }

    /// The caller's tag (the From tag of its requests).
    pub fn remote_tag(&self) -> &str {
        &self.remote_tag
    }

    /// Where our requests go: the caller's Contact URI (§12.1.1).
    pub fn remote_target(&self) -> &rsip::Uri {
        &self.remote_target
    }

    /// The route set: the INVITE's Record-Route URIs in order, each exactly as the
    /// proxy wrote it between `<` and `>` (§12.1.1: "preserving all URI parameters").
    pub fn route_set(&self) -> impl Iterator<Item = &str> {
        self.route_set.iter().map(|route| route.text.as_str())
    }

    /// The highest CSeq number the caller used on the dialog (§12.2.2).
    pub fn remote_seq(&self) -> u32 {
        self.remote_seq
    }

    /// Early, confirmed or terminated.
    pub fn state(&self) -> DialogState {
        self.state
    }

    /// Whether `request` belongs to this dialog (RFC 3261 §12.2.2): same Call-ID, its
    /// From tag the caller's, its To tag ours. Unreadable headers never match.
    pub fn matches(&self, request: &Request) -> bool {
        let call_id = request.call_id_header().map(|call_id| call_id.value());
        let from_tag = request.from_header().ok().and_then(|from| from.tag().ok());
        let to_tag = request.to_header().ok().and_then(|to| to.tag().ok());
        call_id.is_ok_and(|call_id| call_id == self.call_id)
            && from_tag
                .flatten()
                .is_some_and(|tag| tag.value() == self.remote_tag)
            && to_tag
                .flatten()
                .is_some_and(|tag| tag.value() == self.local_tag)
    }

    /// Our response `status` to the initial INVITE or a re-INVITE (RFC 3261 §8.2.6,
    /// §12.1.1, §13.3.1): Via, From, Call-ID, CSeq copied, To with our tag, then for a
    /// 101–299 response our Contact and the request's Record-Route values in order
    /// (the UAC builds its route set from them), Allow on every response but 100, and
    /// `sdp` as an `application/sdp` body when given.
    ///
    /// A 100 Trying gets neither tag nor Contact: it creates no dialog (§8.2.6.2).
    /// This builder records nothing; answer a re-INVITE with
    /// [`Dialog::answer_reinvite`] so the dialog knows it is no longer pending.
    pub fn answer(&self, invite: &Request, status: u16, sdp: Option<&str>) -> Response {
        if status == 100 {
            return response_to(invite, 100, None);
        }
        let mut response = self.response(invite, status);
        if (101..300).contains(&status) {
            for header in invite.headers.iter() {
                if let Header::RecordRoute(record_route) = header {
                    response
                        .headers
                        .push(Header::RecordRoute(record_route.clone()));
                }
            }
            response
                .headers
                .push(Header::Contact(rsip::headers::Contact::new(format!(
                    "<{}>",
                    self.local_contact
                ))));
        }
        response
            .headers
            .push(Header::Allow(rsip::headers::Allow::new(ALLOW)));
        if let Some(sdp) = sdp {
            response
                .headers
                .push(Header::ContentType(rsip::headers::ContentType::new(
                    APPLICATION_SDP,
                )));
            response.body = sdp.as_bytes().to_vec();
        }
        with_content_length(response)
    }

    /// Our response to the re-INVITE [`Dialog::classify`] returned as
    /// [`InDialog::ReInvite`]: [`Dialog::answer`], plus the bookkeeping of RFC 3261
    /// §14.2. A final response ends the re-INVITE's "in progress" time, except that a
    /// 2xx carrying our offer (the re-INVITE had no SDP) stays pending until the ACK
    /// brings the answer.
    pub fn answer_reinvite(
        &mut self,
        reinvite: &Request,
        status: u16,
        sdp: Option<&str>,
    ) -> Response {
        let seq = cseq_number(reinvite);
        if status >= 200 {
            match self.reinvite {
                Some(ref mut pending) if Some(pending.seq) == seq => {
                    if (200..300).contains(&status) {
                        pending.answered = true;
                    } else {
                        // The non-2xx's ACK stays in the transaction layer (§17.2.1).
                        self.reinvite = None;
                    }
                }
                _ => {}
            }
        }
        self.answer(reinvite, status, sdp)
    }

    /// Marks the dialog confirmed although no ACK came (RFC 3261 §13.3.1.4: on the
    /// transaction's ACK timeout the UAS "SHOULD confirm the dialog and then terminate
    /// the session with a BYE").
    pub fn confirm(&mut self) {
        if self.state == DialogState::Early {
            self.state = DialogState::Confirmed;
        }
    }

    /// Sorts a request of this dialog ([`Dialog::matches`] said so) and answers it
    /// when the dialog alone can (RFC 3261 §12.2.2):
    ///
    /// - on a terminated dialog: 481, an ACK is absorbed;
    /// - ACK: for the initial INVITE (confirms the dialog) or the pending re-INVITE's
    ///   2xx; a repeated or stray ACK is absorbed;
    /// - a CSeq number not above the last one received: 500 (§12.2.2 says "lower";
    ///   an equal one is also refused, since retransmissions were absorbed by the
    ///   transaction layer before reaching us, and a new request must increment it,
    ///   §12.2.1.1). ACK and CANCEL repeat their INVITE's number and are not checked;
    /// - BYE: 200, the dialog ends (§15.1.2);
    /// - INVITE while another of the caller's is still in progress: 500 with a
    ///   Retry-After of 0–10 s (§14.2); while our 2xx offer waits for its answer in
    ///   the ACK: 491 (§14.2's glare rule: an offer/answer exchange of ours is in
    ///   progress, RFC 3264 §4); otherwise a re-INVITE to answer;
    /// - INFO: 200, body handed up; OPTIONS: 200 with Allow and Accept;
    /// - CANCEL: 481 (a CANCEL for a live INVITE is matched by the transaction layer
    ///   first, §9.2); any other method: 501 with Allow.
    pub fn classify(&mut self, request: &Request) -> InDialog {
        let method = request.method;
        if self.state == DialogState::Terminated {
            if method == Method::Ack {
                return InDialog::Absorbed;
            }
            return InDialog::Reject {
                response: self.response(request, 481),
            };
        }
        let Some(seq) = cseq_number(request) else {
            // parse() checks CSeq; a hand-built request may not have one.
            return InDialog::Reject {
                response: self.response(request, 400),
            };
        };
        match method {
            Method::Ack => return self.ack(request, seq),
            Method::Cancel => {
                return InDialog::Reject {
                    response: self.response(request, 481),
                };
            }
            _ => {}
        }
        if seq <= self.remote_seq {
            tracing::debug!(call_id = %self.call_id, seq, last = self.remote_seq, %method,
                "out-of-order request");
            return InDialog::Reject {
                response: self.response(request, 500),
            };
        }
        self.remote_seq = seq;

        match method {
            Method::Bye => {
                self.state = DialogState::Terminated;
                tracing::debug!(call_id = %self.call_id, "dialog ended by the caller's BYE");
                InDialog::Bye {
                    response: self.response(request, 200),
                }
            }
            Method::Invite => self.reinvite(request, seq),
            Method::Info => InDialog::Info {
                content_type: request.headers.iter().find_map(|header| match header {
                    Header::ContentType(content_type) => Some(content_type.value().to_owned()),
                    _ => None,
                }),
                body: request.body.clone(),
                response: self.response(request, 200),
            },
            Method::Options => {
                let mut response = self.response(request, 200);
                response
                    .headers
                    .push(Header::Allow(rsip::headers::Allow::new(ALLOW)));
                response
                    .headers
                    .push(Header::Accept(rsip::headers::Accept::new(APPLICATION_SDP)));
                InDialog::Options { response }
            }
            _ => {
                let mut response = self.response(request, 501);
                response
                    .headers
                    .push(Header::Allow(rsip::headers::Allow::new(ALLOW)));
                InDialog::Reject { response }
            }
        }
    }

    /// Our BYE when the bridge hangs up (RFC 3261 §15.1.1, built per §12.2.1.1).
    ///
    /// Request-URI is the remote target and Route the route set when the first route
    /// is a loose router (`;lr`); for a strict router the first route becomes the
    /// Request-URI and the remote target the last Route. From is the local URI with
    /// our tag, To the remote URI with the caller's tag, Call-ID the dialog's, CSeq
    /// one above our local sequence number, which starts empty, so our first request
    /// has CSeq 1 (§8.1.1.5 allows any start below 2^31; 1 keeps the core
    /// deterministic, and the caller's CSeq space is separate from ours). One Via
    /// `SIP/2.0/<transport> <via_host>;branch=<branch>`, transport UDP unless the
    /// remote target says `transport=tcp`; `branch` must start with `z9hG4bK`.
    ///
    /// The dialog is terminated once this is built. Send it only on a confirmed
    /// dialog (after the ACK or [`Dialog::confirm`], §15).
    pub fn bye(&mut self, via_host: &str, branch: &str) -> Request {
        self.state = DialogState::Terminated;
        tracing::debug!(call_id = %self.call_id, "dialog ended by our BYE");
        self.request(Method::Bye, via_host, branch)
    }

    /// Our in-dialog OPTIONS, built as [`Dialog::bye`] is: asks whether the
    /// caller's side still knows the dialog (RFC 5057 §5.2: a 481 or 408, or no
    /// answer, says it does not; any other answer says it does). The dialog goes on.
    pub fn options(&mut self, via_host: &str, branch: &str) -> Request {
        self.request(Method::Options, via_host, branch)
    }

    /// Our in-dialog INFO (RFC 6086) carrying `body` of `content_type`, built
    /// as [`Dialog::bye`] is. The dialog goes on.
    pub fn info(
        &mut self,
        via_host: &str,
        branch: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Request {
        let mut request = self.request(Method::Info, via_host, branch);
        request
            .headers
            .retain(|header| !matches!(header, Header::ContentLength(_)));
        request
            .headers
            .push(Header::ContentType(rsip::headers::ContentType::new(
                content_type,
            )));
        request
            .headers
            .push(Header::ContentLength(rsip::headers::ContentLength::from(
                u32::try_from(body.len()).unwrap_or(u32::MAX),
            )));
        request.body = body;
        request
    }

    /// A request on the dialog (§12.2.1.1), with the next local CSeq.
    fn request(&mut self, method: Method, via_host: &str, branch: &str) -> Request {
        let seq = self.local_seq.map_or(1, |seq| seq.saturating_add(1));
        self.local_seq = Some(seq);
        let (uri, routes) = self.request_target();
        let transport = match self.remote_target.transport() {
            Some(transport) => transport.to_string().to_ascii_uppercase(),
            None => "UDP".to_owned(),
        };
        let mut headers = rsip::Headers::default();
        headers.push(Header::Via(rsip::headers::Via::new(format!(
            "SIP/2.0/{transport} {via_host};branch={branch}"
        ))));
        headers.push(Header::MaxForwards(rsip::headers::MaxForwards::new(
            MAX_FORWARDS.to_string(),
        )));
        for route in routes {
            headers.push(Header::Route(rsip::headers::Route::new(format!(
                "<{route}>"
            ))));
        }
        headers.push(Header::From(rsip::headers::From::new(format!(
            "<{}>;tag={}",
            self.local_uri, self.local_tag
        ))));
        headers.push(Header::To(rsip::headers::To::new(format!(
            "<{}>;tag={}",
            self.remote_uri, self.remote_tag
        ))));
        headers.push(Header::CallId(rsip::headers::CallId::new(
            self.call_id.clone(),
        )));
        headers.push(Header::CSeq(rsip::headers::CSeq::new(format!(
            "{seq} {method}"
        ))));
        headers.push(Header::ContentLength(rsip::headers::ContentLength::from(
            0u32,
        )));
        Request {
            method,
            uri,
            version: rsip::Version::V2,
            headers,
            body: Vec::new(),
        }
    }

    /// The Request-URI and the Route values of a request on the dialog (§12.2.1.1).
    fn request_target(&self) -> (rsip::Uri, Vec<String>) {
        let texts = |routes: &[Route]| -> Vec<String> {
            routes.iter().map(|route| route.text.clone()).collect()
        };
        match self.route_set.split_first() {
            None => (self.remote_target.clone(), Vec::new()),
            Some((first, _)) if is_loose(&first.uri) => {
                (self.remote_target.clone(), texts(&self.route_set))
            }
            Some((first, rest)) => {
                // Strict router: it takes the Request-URI, stripped of the parameters
                // not allowed there (§19.1.1: method, maddr, ttl, transport, lr are;
                // we keep transport and maddr, the ones that route).
                let mut uri = first.uri.clone();
                uri.params.retain(|param| {
                    matches!(param, rsip::Param::Transport(_) | rsip::Param::Maddr(_))
                });
                let mut routes = texts(rest);
                routes.push(self.remote_target.to_string());
                (uri, routes)
            }
        }
    }

    /// The ACK for a 2xx of ours (§13.3.1.4, §14.2).
    fn ack(&mut self, request: &Request, seq: u32) -> InDialog {
        let sdp = body_text(request);
        if self.state == DialogState::Early && seq == self.invite_seq {
            self.state = DialogState::Confirmed;
            tracing::debug!(call_id = %self.call_id, "dialog confirmed by the ACK");
            return InDialog::Ack { sdp };
        }
        match self.reinvite {
            Some(pending) if pending.seq == seq && pending.answered => {
                self.reinvite = None;
                InDialog::Ack { sdp }
            }
            _ => InDialog::Absorbed,
        }
    }

    /// A re-INVITE whose CSeq is in order (§14.2).
    fn reinvite(&mut self, request: &Request, seq: u32) -> InDialog {
        // Our 2xx carried an offer and its answer (the ACK) has not arrived: a new
        // offer now would cross ours, as in glare.
        let our_offer_pending = match (self.state, self.reinvite) {
            (DialogState::Early, _) => self.offerless,
            (_, Some(pending)) => pending.answered && pending.offerless,
            _ => false,
        };
        // The caller's previous INVITE has had no final response yet (the initial
        // INVITE counts as in progress until its ACK confirms the dialog).
        let previous_in_progress = match (self.state, self.reinvite) {
            (DialogState::Early, _) => true,
            (_, Some(pending)) => !pending.answered,
            _ => false,
        };
        if our_offer_pending {
            return InDialog::Reject {
                response: self.response(request, 491),
            };
        }
        if previous_in_progress {
            let response = self.response(request, 500);
            let response = crate::message::with_retry_after(response, self.retry_after(seq));
            return InDialog::Reject { response };
        }
        self.reinvite = Some(ReInvite {
            seq,
            answered: false,
            offerless: request.body.is_empty(),
        });
        InDialog::ReInvite {
            sdp: body_text(request),
        }
    }

    /// The Retry-After seconds of a 500 to an overlapping INVITE: "randomly chosen ...
    /// between 0 and 10 seconds" (§14.2). The core has no randomness source, so it is
    /// a hash of the Call-ID and CSeq: spread across calls, the same for a
    /// retransmission.
    fn retry_after(&self, seq: u32) -> u64 {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let mut text = self.call_id.clone();
        let _ = write!(text, " {seq}");
        for byte in text.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        hash % 11
    }

    /// A response to an in-dialog request or the INVITE: §8.2.6 headers, our tag in To.
    fn response(&self, request: &Request, status: u16) -> Response {
        with_content_length(response_to(request, status, Some(&self.local_tag)))
    }
}

/// One URI of the route set: parsed (to tell a loose router) and as written.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Route {
    /// The URI as `rsip` reads it.
    uri: rsip::Uri,
    /// The URI exactly as the proxy wrote it between `<` and `>`. Printed back as is:
    /// `rsip` would normalise parameter values (`transport=udp` → `UDP`), and a proxy
    /// may recognise its own Record-Route byte for byte.
    text: String,
}

/// The Record-Route URIs of a request, in order, across headers and comma lists
/// (§12.1.1). Record-Route's header parameters (after `>`) are not part of the URI.
fn record_route_uris(request: &Request) -> Result<Vec<Route>, DialogError> {
    let mut routes = Vec::new();
    for header in request.headers.iter() {
        if let Header::RecordRoute(record_route) = header {
            for entry in split_list(record_route.value()) {
                let text = entry
                    .split_once('<')
                    .and_then(|(_display_name, rest)| rest.split_once('>'))
                    .map(|(uri, _)| uri.trim())
                    .ok_or_else(|| {
                        DialogError::Malformed(format!("Record-Route: no <URI> in {entry}"))
                    })?;
                let uri =
                    rsip::Uri::try_from(text).map_err(|error| malformed("Record-Route", error))?;
                if !is_sip_uri(&uri) {
                    return Err(DialogError::Malformed(format!(
                        "Record-Route: not a SIP URI: {text}"
                    )));
                }
                routes.push(Route {
                    uri,
                    text: text.to_owned(),
                });
            }
        }
    }
    Ok(routes)
}

/// The elements of a comma-separated header value (RFC 3261 §7.3.1), cut at the commas
/// outside `<...>` and quoted strings, trimmed, empty ones skipped.
fn split_list(value: &str) -> Vec<&str> {
    let mut entries = Vec::new();
    let (mut start, mut in_angle, mut in_quote, mut escaped) = (0, false, false, false);
    for (index, character) in value.char_indices() {
        match character {
            _ if escaped => escaped = false,
            '\\' if in_quote => escaped = true,
            '"' if !in_angle => in_quote = !in_quote,
            '<' if !in_quote => in_angle = true,
            '>' if !in_quote => in_angle = false,
            ',' if !in_angle && !in_quote => {
                entries.push(value.get(start..index).unwrap_or_default());
                start = index + 1;
            }
            _ => {}
        }
    }
    entries.push(value.get(start..).unwrap_or_default());
    entries
        .into_iter()
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .collect()
}

/// Whether a route URI names a loose router (`;lr`, RFC 3261 §19.1.1).
fn is_loose(uri: &rsip::Uri) -> bool {
    uri.params.iter().any(|param| match param {
        rsip::Param::Lr => true,
        rsip::Param::Other(name, _) => name.value().eq_ignore_ascii_case("lr"),
        _ => false,
    })
}

/// The CSeq number of a request, if readable.
fn cseq_number(request: &Request) -> Option<u32> {
    request.cseq_header().ok()?.seq().ok()
}

/// A request's body as text, `None` when empty.
fn body_text(request: &Request) -> Option<String> {
    (!request.body.is_empty()).then(|| String::from_utf8_lossy(&request.body).into_owned())
}

/// `response` with its Content-Length set to the body's true length (the codec's
/// `encode` does so too; this keeps the value right for whoever reads it before).
fn with_content_length(mut response: Response) -> Response {
    response
        .headers
        .retain(|header| !matches!(header, Header::ContentLength(_)));
    let length = u32::try_from(response.body.len()).unwrap_or(u32::MAX);
    response
        .headers
        .push(Header::ContentLength(rsip::headers::ContentLength::from(
            length,
        )));
    response
}

/// Whether `uri`, which our requests on the dialog print (From, To, Request-URI,
/// Route), is a SIP or SIPS URI (RFC 3261 §8.1.1.8: the Contact of an INVITE MUST
/// be one) that prints as one: no whitespace, control character, quote or angle
/// bracket (§25.1). `rsip` reads `Contact: ! sip:a@b` as a URI with no scheme and
/// the user `! sip`, and `From: a <si5061>` as one that prints `si5061>`: our BYE
/// then had a request line or a To that no parser reads.
fn is_sip_uri(uri: &rsip::Uri) -> bool {
    matches!(uri.scheme, Some(rsip::Scheme::Sip | rsip::Scheme::Sips))
        && !uri
            .to_string()
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '<' | '>'))
}

/// A [`DialogError::Malformed`] naming the unreadable header.
fn malformed(name: &str, error: rsip::Error) -> DialogError {
    DialogError::Malformed(format!("{name}: {error}"))
}

#[cfg(test)]
mod tests;
