//! RFC 3261 §17 transactions, sans-IO: the layer between the [codec](crate::message) and
//! the dialogs.
//!
//! One file per transaction kind, as in ezk:
//!
//! - [`server_inv`]: the INVITE server transaction (§17.2.1, with RFC 6026's
//!   "Accepted" state);
//! - [`server`]: the non-INVITE server transaction (§17.2.2) for BYE, OPTIONS, INFO
//!   and CANCEL;
//! - [`client`]: the non-INVITE client transaction (§17.1.2) for our BYE and OPTIONS;
//! - [`table`]: the server transaction table, matching received requests (§17.2.3).
//!
//! This module owns what they share: the [`TransactionKey`] a request is matched on
//! (§17.2.3), the [`Timers`] of Table 4 (Appendix A) and the [`Input`] / [`Output`]
//! pair. Responses to a request are built by the [message layer](crate::message)'s
//! [`response_to`](crate::message::response_to).
//!
//! Every transaction follows str0m's pattern: it never reads a clock nor touches a
//! socket. The caller feeds it with `handle(now, input)` and `handle_timeout(now)`,
//! then drains `poll_output()` and sleeps until `poll_timeout()`.
//!
//! The timers are those of an unreliable transport (UDP). Over TCP, Timers G, E
//! stop mattering and I, J, K are zero (§17.1.2.2, §17.2.1, §17.2.2); running the UDP
//! schedule over TCP only keeps a finished transaction around a little longer.

use std::time::{Duration, Instant};

use rsip::headers::ToTypedHeader;
use rsip::message::HeadersExt;
use rsip::{Method, Request, Response, SipMessage};

pub mod client;
pub mod server;
pub mod server_inv;
pub mod table;

pub use client::ClientTransaction;
pub use server::ServerTransaction;
pub use server_inv::ServerInviteTransaction;
pub use table::{Received, Server, ServerTransactions};

/// The magic cookie that starts every RFC 3261 branch (§8.1.1.7).
pub const MAGIC_COOKIE: &str = "z9hG4bK";

/// The timer values of RFC 3261 Table 4 (Appendix A), derived from the three base
/// values a deployment may tune (§17.1.1.1: T1 "SHOULD" be 500 ms but may be changed,
/// e.g. on a private network).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    /// T1, the round-trip time estimate (default 500 ms).
    pub t1: Duration,
    /// T2, the longest interval between retransmissions of a non-INVITE request or
    /// an INVITE response (default 4 s).
    pub t2: Duration,
    /// T4, the longest time a message stays in the network (default 5 s).
    pub t4: Duration,
}

impl Timers {
    /// RFC 3261 Table 4's T1: 500 ms.
    pub const T1: Duration = Duration::from_millis(500);
    /// RFC 3261 Table 4's T2: 4 s.
    pub const T2: Duration = Duration::from_secs(4);
    /// RFC 3261 Table 4's T4: 5 s.
    pub const T4: Duration = Duration::from_secs(5);

    /// 64*T1: Timer B, F, H, J and RFC 6026's Timer L (32 s by default).
    pub fn sixty_four_t1(&self) -> Duration {
        self.t1 * 64
    }

    /// The next retransmission interval after `interval`: doubled, capped at T2
    /// (Timers E and G, §17.1.2.2 and §17.2.1; 2xx retransmission, §13.3.1.4).
    pub fn backoff(&self, interval: Duration) -> Duration {
        (interval * 2).min(self.t2)
    }
}

impl Default for Timers {
    fn default() -> Self {
        Self {
            t1: Self::T1,
            t2: Self::T2,
            t4: Self::T4,
        }
    }
}

/// What a transaction is given besides time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A message received from the peer that matched this transaction: a request
    /// (retransmission, ACK) for a server transaction, a response for a client one.
    Receive(SipMessage),
    /// A response our TU sends through this server transaction.
    Respond(Response),
}

/// What a transaction asks of its caller, drained with `poll_output()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Bytes to send to the transaction's peer (the request's source for a server
    /// transaction, §18.2.2; the request's destination for a client one).
    Transmit(Vec<u8>),
    /// Something the TU (dialog or user agent core) must hear about.
    ToTu(TuEvent),
    /// The transaction is over: remove it from the table. Emitted once, last.
    Terminated,
}

/// What a transaction passes up to its TU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TuEvent {
    /// A request for the TU: the one that created a server transaction, or the ACK
    /// for a 2xx (the dialog's business, §13.3.1.4, RFC 6026 §8.7).
    Request(Request),
    /// A response to our request (client transaction, §17.1.2.2).
    Response(Response),
    /// Timer B, F or H fired: no final response came, or no ACK for a non-2xx final
    /// (§17.1.2.2, §17.2.1). The TU treats it as a failed call leg.
    Timeout,
    /// No ACK came for our 2xx within 64*T1 (§13.3.1.4): the TU "SHOULD confirm the
    /// dialog and then terminate the session with a BYE".
    AckTimeout,
}

/// The method part of a [`TransactionKey`]: ACK belongs to its INVITE's transaction,
/// CANCEL has its own (§17.2.3, §9.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KeyMethod {
    /// An INVITE or the ACK for its non-2xx final response.
    Invite,
    /// A CANCEL (matched separately from the request it cancels).
    Cancel,
    /// Any other method, by name.
    Other(String),
}

/// What identifies a transaction (RFC 3261 §17.2.3 for requests, §17.1.3 for
/// responses): the top Via's branch and sent-by, and the method, with ACK counted as
/// INVITE. Only RFC 3261 branches (starting `z9hG4bK`) are supported; RFC 2543
/// peers, whose branches lack the cookie, cannot be matched.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TransactionKey {
    /// The top Via's branch parameter, compared as is.
    pub branch: String,
    /// The top Via's sent-by (host and port), lower-cased.
    pub sent_by: String,
    /// The request's method, ACK folded into INVITE.
    pub method: KeyMethod,
}

impl TransactionKey {
    /// The key of a received request (§17.2.3), or `None` when its top Via has no
    /// RFC 3261 branch. An ACK gets its INVITE's key: it matches the INVITE
    /// transaction it acknowledges when that ended with a non-2xx (the ACK for a 2xx
    /// carries a new branch and matches none, §17.1.1.3).
    pub fn of_request(request: &Request) -> Option<Self> {
        Self::from_parts(request, &request.method)
    }

    /// The key of a received response, matching the client transaction that sent the
    /// request (§17.1.3: the top Via's branch and the CSeq method).
    pub fn of_response(response: &Response) -> Option<Self> {
        let method = response.cseq_header().ok()?.typed().ok()?.method;
        Self::from_parts(response, &method)
    }

    /// The key of the INVITE transaction a CANCEL with this key cancels (§9.2: same
    /// branch and sent-by, method INVITE), or `None` if this is not a CANCEL's key.
    pub fn cancelled_invite(&self) -> Option<Self> {
        (self.method == KeyMethod::Cancel).then(|| Self {
            method: KeyMethod::Invite,
            ..self.clone()
        })
    }

    fn from_parts(message: &impl HeadersExt, method: &Method) -> Option<Self> {
        let via = message.via_header().ok()?.typed().ok()?;
        let branch = via.branch()?.to_string();
        if !branch.starts_with(MAGIC_COOKIE) {
            return None;
        }
        let method = match method {
            Method::Invite | Method::Ack => KeyMethod::Invite,
            Method::Cancel => KeyMethod::Cancel,
            other => KeyMethod::Other(other.to_string()),
        };
        Some(Self {
            branch,
            sent_by: via.uri.host_with_port.to_string().to_ascii_lowercase(),
            method,
        })
    }
}

/// A retransmission schedule (Timers E and G, §17.1.2.2, §17.2.1; the 2xx schedule of
/// §13.3.1.4): due at `at`, then again after an interval doubled up to T2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Retransmit {
    /// When the next retransmission is due.
    at: Instant,
    /// The interval that led to `at`.
    interval: Duration,
}

impl Retransmit {
    /// The schedule starting at T1 after `now`.
    fn start(now: Instant, timers: &Timers) -> Self {
        Self {
            at: now + timers.t1,
            interval: timers.t1,
        }
    }

    /// Whether a retransmission is due at `now`; if so, the schedule moves on by the
    /// next interval, `next(interval)`, counted from `now`.
    fn fire(&mut self, now: Instant, next: impl FnOnce(Duration) -> Duration) -> bool {
        if now < self.at {
            return false;
        }
        self.interval = next(self.interval);
        self.at = now + self.interval;
        true
    }
}

/// The earliest of some optional deadlines.
fn earliest(deadlines: impl IntoIterator<Item = Option<Instant>>) -> Option<Instant> {
    deadlines.into_iter().flatten().min()
}

/// Whether `deadline` is set and due at `now`.
fn due(deadline: Option<Instant>, now: Instant) -> bool {
    deadline.is_some_and(|deadline| deadline <= now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{parse, response_to};

    /// sipp's INVITE, without a body.
    pub(super) fn invite_text() -> String {
        format!(
            "{}Content-Type: application/sdp\r\nContent-Length: 0\r\n\r\n",
            crate::testkit::SIPP_INVITE_HEAD
        )
    }

    pub(super) fn request(text: &str) -> Request {
        match parse(text.as_bytes()).expect("a valid literal") {
            SipMessage::Request(request) => request,
            SipMessage::Response(_) => panic!("not a request"),
        }
    }

    #[test]
    fn requests_match_their_transaction_by_branch_sent_by_and_method() {
        let invite = TransactionKey::of_request(&request(&invite_text())).expect("a key");
        assert_eq!(invite.branch, "z9hG4bK-4242-1-0");
        assert_eq!(invite.sent_by, "127.0.0.1:5061");
        assert_eq!(invite.method, KeyMethod::Invite);

        let other_branch = invite_text().replace("z9hG4bK-4242-1-0", "z9hG4bK-4242-2-0");
        let other_sent_by = invite_text().replace("127.0.0.1:5061;", "127.0.0.2:5061;");
        let cancel = invite_text()
            .replace("INVITE sip:", "CANCEL sip:")
            .replace("1 INVITE", "1 CANCEL");
        for different in [other_branch, other_sent_by, cancel.clone()] {
            assert_ne!(
                TransactionKey::of_request(&request(&different)),
                Some(invite.clone())
            );
        }
        let cancel = TransactionKey::of_request(&request(&cancel)).expect("a key");
        assert_eq!(cancel.method, KeyMethod::Cancel);
        assert_eq!(cancel.cancelled_invite(), Some(invite.clone()));
        assert_eq!(invite.cancelled_invite(), None);

        let rfc2543 = invite_text().replace("z9hG4bK-4242-1-0", "4242-1-0");
        assert_eq!(TransactionKey::of_request(&request(&rfc2543)), None);
    }

    #[test]
    fn an_ack_matches_its_invite_transaction() {
        let ack = "ACK sip:+33100000000@127.0.0.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-4242-1-0\r\n\
From: sipp <sip:sipp@127.0.0.1:5061>;tag=4242SIPpTag001\r\n\
To: <sip:+33100000000@127.0.0.1:5060>;tag=node1\r\n\
Call-ID: 1-4242@127.0.0.1\r\n\
CSeq: 1 ACK\r\n\
Max-Forwards: 70\r\n\
Content-Length: 0\r\n\r\n";
        assert_eq!(
            TransactionKey::of_request(&request(ack)),
            TransactionKey::of_request(&request(&invite_text()))
        );
    }

    #[test]
    fn a_response_matches_the_client_transaction_by_branch_and_cseq_method() {
        let response = response_to(&request(&invite_text()), 486, Some("node1"));
        assert_eq!(
            TransactionKey::of_response(&response),
            TransactionKey::of_request(&request(&invite_text()))
        );
        let printed = String::from_utf8(crate::message::encode(&response.into())).expect("UTF-8");
        assert!(
            printed.starts_with("SIP/2.0 486 Busy Here\r\n"),
            "{printed}"
        );
        assert!(printed.contains("To: <sip:+33100000000@127.0.0.1:5060>;tag=node1\r\n"));
    }
}
