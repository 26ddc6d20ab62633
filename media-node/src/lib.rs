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
//! dialogs; offer/answer; packets, RFC 4733 and the media source rule). Here, three
//! layers, each using only those listed before it:
//! - [`app`]: what a caller meets, free of SIP: the access IVR, the intro
//!   recorder, the keypad, the prompts and their player, a conference's room and
//!   its mixer.
//! - [`node`]: every call and room of the node: a [`node::call::Call`] ties one
//!   inbound leg's SIP, SDP and RTP to the IVR and its room; the node routes
//!   SIP and RTP to its calls, keeps the rooms, and hands the shell what needs I/O.
//! - [`shell`]: the I/O around the node: sockets, the clock, the store's and the
//!   bucket's answers, the CDR spool, recordings, the `teleconf-media-node`
//!   binary's settings.
//! - [`dispatcher`]: the SIP entry's list of nodes from the node registry,
//!   sans-IO, for the `teleconf-dispatcher-sync` binary beside Kamailio.
//! - [`error`]: the crate's error, wrapping each module's.

pub mod app;
pub mod dispatcher;
pub mod error;
pub mod node;
pub mod shell;

pub use error::Error;

#[cfg(test)]
mod testkit;
