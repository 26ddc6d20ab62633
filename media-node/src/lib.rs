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
//! - [`call`]: one inbound leg tying the above together: INVITE → 100/200 with
//!   the SDP answer, prompts as RTP, DTMF (RFC 4733 or INFO) into the IVR,
//!   admission (join the room, open the CDR), BYE either way, CANCEL, hold,
//!   symmetric RTP, RTP timeout; the room itself belongs to the node.
//! - [`star44`]: who may dial `*44`: the accounts' IP phones (by address, or by
//!   the identity the trunk asserts), as the shell reads them from the store.
//! - [`node`]: all calls and rooms of the node: the trunk allow-list (403),
//!   OPTIONS keep-alives, access-number lookup (404), `*44`, RTP ports, SIP and
//!   RTP routed to their call, rooms created on the first join and ticked on
//!   their deadlines, CDRs and lookups handed to the shell.
//! - [`error`]: the crate's error, wrapping each module's.
//!
//! Still to come in #4: the tokio shell (sockets, the 20 ms clock, answering the
//! node's lookups from the store, writing CDRs), the `teleconf-media-node`
//! binary, and the end-to-end calls with sipp and baresip. Until the binary
//! exists, `make run` starts no media node and says so.

pub mod call;
pub mod conference;
pub mod error;
pub mod intro;
pub mod ivr;
pub mod keypad;
pub mod mixer;
pub mod node;
pub mod prompts;
pub mod rtp;
pub mod sdp;
pub mod shell;
pub mod sip;
pub mod star44;

pub use error::Error;

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod testkit;
