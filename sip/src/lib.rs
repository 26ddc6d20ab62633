//! # teleconf-sip
//!
//! SIP (RFC 3261), SDP (RFC 4566, RFC 3264) and RTP (RFC 3550, RFC 4733) as the
//! media node speaks them, sans-IO: every state machine takes `now` and its input
//! and hands back what to send and when to be woken; nothing here reads a socket
//! or a clock. It knows nothing of teleconf (no conference, no store, no async
//! runtime): the media node builds its calls on it.
//!
//! ## Layout
//! The SIP layers, as ezk layers them; each imports only those listed before it:
//! - [`message`]: SIP messages: the codec around `rsip` (compact headers, bare
//!   LF, folded headers, Content-Length checked, never a panic on garbage) and
//!   the responses built from a request.
//! - [`transaction`]: the RFC 3261 §17 transactions, one file per kind (INVITE
//!   server with RFC 6026's Accepted state, non-INVITE server and client), their
//!   timers and the server transaction table.
//! - [`dialog`]: the UAS dialog (RFC 3261 §12: route set, BYE both ways,
//!   re-INVITE, INFO, OPTIONS).
//!
//! Beside them:
//! - [`sdp`]: SDP offer/answer for G.711 and telephone-event.
//! - [`g711`]: G.711 µ-law and A-law through lookup tables, in the law of the
//!   codec SDP agreed on.
//! - [`rtp`]: RTP packets (`rtp-rs`), RFC 4733 events and the DTMF receiver, and
//!   the [media source](rtp::source) a call takes RTP from (its caller's, never a
//!   stranger's).
//! - [`connections`]: how many SIP-over-TCP connections to hold, from whom, and
//!   how long each may stay quiet.
//! - [`sources`]: sets of addresses, written as addresses or CIDR blocks (the
//!   trunk's signalling and media sources).
//! - [`error`]: the crate's error, wrapping each module's.
//! - `testkit` (feature `testkit`): sipp's messages, the datagram mutator and the
//!   proptest settings, for the tests of this crate and of the crates above it.

pub mod connections;
pub mod dialog;
pub mod error;
pub mod g711;
pub mod message;
pub mod rtp;
pub mod sdp;
pub mod sources;
pub mod transaction;

#[cfg(any(test, feature = "testkit"))]
pub mod testkit;

pub use error::Error;
