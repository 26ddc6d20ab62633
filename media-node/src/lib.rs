//! # teleconf-media-node
//!
//! Terminates the provider's SIP trunk: callers dial an access number, the IVR
//! admits them to a conference, the mixer bridges them. The protocol logic is
//! sans-IO (the str0m pattern): every state machine takes `(now, input)` and
//! returns outputs (datagrams, timers, events); it never reads a socket or a clock.
//! A thin tokio shell owns those (issue #4).
//!
//! ## Layout (being built, issue #4)
//! - [`sip`]: SIP messages: the codec around `rsip` (compact headers, bare LF,
//!   folded headers, Content-Length checked, never a panic on garbage), and the
//!   RFC 3261 §17 transactions (INVITE server with RFC 6026's Accepted state,
//!   non-INVITE server and client) with their timers, and the UAS dialog
//!   (RFC 3261 §12: route set, BYE both ways, re-INVITE, INFO).
//! - [`sdp`]: SDP offer/answer for G.711 and telephone-event.
//! - [`rtp`]: RTP packets (`rtp-rs`), RFC 4733 events and the DTMF receiver.
//! - [`prompts`]: the default fr/en prompts (made offline by
//!   `scripts/make-prompts.sh`, embedded) and the player that turns prompts into
//!   20 ms frames.
//! - [`ivr`]: the access IVR: greeting, conference number, access code, window,
//!   full and brute-force checks, `*44`.
//! - [`mixer`]: a conference's room: jitter buffers, the 20 ms N−1 mix on
//!   absolute deadlines, listeners never heard, the shared mix encoded once.
//! - [`error`]: the crate's error, wrapping each module's.
//!
//! Still to come in #4: the call that ties a dialog to the IVR, the prompt player
//! and a room; CDR legs; the tokio shell and the `teleconf-media-node` binary. Until the binary
//! exists, `make run` starts no media node and says so.

pub mod error;
pub mod ivr;
pub mod mixer;
pub mod prompts;
pub mod rtp;
pub mod sdp;
pub mod sip;

pub use error::Error;
