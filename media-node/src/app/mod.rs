//! The application: what a caller meets once the node has answered, sans-IO and
//! free of SIP. Every machine here takes `(now, input)` and hands back outputs;
//! the [node](crate::node) feeds them and carries out what they ask.
//!
//! ## Layout
//! - [`lookup`]: the one lookup protocol: what a call asks of the store and the
//!   bucket, and the answers.
//! - [`ivr`]: the access IVR: greeting, conference number, access code, window,
//!   guessing limits, `*44`, one-time intro codes.
//! - [`intro`]: recording a conference's intro message by phone.
//! - [`keypad`]: the keys in the conference (`*6`, `*5`, …) and the command each
//!   is for a role.
//! - [`prompts`]: what the IVR, the keypad and the room say, the default fr/en
//!   recordings (made offline by `scripts/make-prompts.sh`, embedded) and the
//!   player that turns prompts into 20 ms frames.
//! - [`room`]: a conference running on the node (the domain's `Conference` is the
//!   scheduled one): who is in it, the lock, lecture mode, recording, and what
//!   the keypad's and the portal's commands do to it.
//! - [`mixer`]: a room's audio: jitter buffers, the 20 ms N−1 mix on absolute
//!   deadlines, listeners never heard, the shared mix encoded once.
//! - [`cascade`]: what the two ends of a node-to-node cascade agree on: the
//!   cascade INVITE's headers and their HMAC.
//! - [`CallKey`]: how the node keys its calls, which the rooms key their
//!   members by.

pub mod cascade;
pub mod intro;
pub mod ivr;
pub mod keypad;
pub mod lookup;
pub mod mixer;
pub mod prompts;
pub mod room;

/// One of the node's calls, as the node keys it (drawn at its INVITE): its
/// lookups are keyed by it, and its room knows its leg by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallKey(pub u64);
