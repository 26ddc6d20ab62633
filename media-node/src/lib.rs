//! # teleconf-media-node
//!
//! Terminates the provider's SIP trunk: callers dial an access number, the IVR
//! admits them to a conference, the mixer bridges them. The protocol logic is
//! sans-IO (the str0m pattern): every state machine takes `(now, input)` and
//! returns outputs (datagrams, timers, events); it never reads a socket or a clock.
//! A thin shell owns those: the media loop's thread (RTP and the 20 ms clock) and
//! tokio tasks (SIP over UDP and TCP, the store and the bucket, the CDR spool).
//!
//! ## Layout
//! SIP, SDP and RTP are the [`teleconf_sip`] crate's (messages, transactions,
//! dialogs; offer/answer; packets, RFC 4733 and the media source rule).
//! - [`g711`]: G.711 in the law of the codec SDP agreed on.
//! - [`prompts`]: the default fr/en prompts (made offline by
//!   `scripts/make-prompts.sh`, embedded) and the player that turns prompts into
//!   20 ms frames.
//! - [`ivr`]: the access IVR: greeting, conference number, access code, window,
//!   guessing limits, `*44`, one-time intro codes.
//! - [`intro`]: recording a conference's intro message by phone.
//! - [`mixer`]: a conference's room: jitter buffers, the 20 ms N−1 mix on
//!   absolute deadlines, listeners never heard, the shared mix encoded once.
//! - [`keypad`] and [`conference`]: the keys in the conference (`*6`, `*5`, …)
//!   and what they do to it: mutes, lecture mode, the lock, removals, recording.
//! - [`call`]: one inbound leg tying the above together: INVITE → 100/200 with
//!   the SDP answer, prompts as RTP, DTMF (RFC 4733 or INFO) into the IVR, then
//!   the keypad, admission (join the room, open the CDR), BYE either way, CANCEL,
//!   hold, RTP from the caller only, RTP timeout; the room itself belongs to the
//!   node.
//! - [`star44`]: who may dial `*44`: the accounts' IP phones (by address, or by
//!   the identity the trunk asserts), as the shell reads them from the store.
//! - [`node`]: all calls and rooms of the node: the trunk allow-list (403),
//!   OPTIONS keep-alives, access-number lookup (404), `*44`, RTP ports drawn at
//!   random, SIP and RTP routed to their call, rooms created on the first join and
//!   ticked on their deadlines, CDRs and lookups handed to the shell, the media
//!   figures ([`node::MediaStats`]).
//! - [`shell`]: the I/O around the node: sockets, the clock, the store's and the
//!   bucket's answers, the CDR spool, recordings, the `teleconf-media-node`
//!   binary's settings.
//! - [`error`]: the crate's error, wrapping each module's.

pub mod call;
pub mod conference;
pub mod error;
pub mod g711;
pub mod intro;
pub mod ivr;
pub mod keypad;
pub mod mixer;
pub mod node;
pub mod prompts;
pub mod shell;
pub mod star44;

pub use error::Error;

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod testkit;
