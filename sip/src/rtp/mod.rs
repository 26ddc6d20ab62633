//! RTP and the key presses it carries.
//!
//! - [`packet`]: reading and writing RTP packets (RFC 3550) over `rtp-rs`, with
//!   RTCP on the RTP port refused (RFC 5761 §4).
//! - [`event`]: the RFC 4733 telephone-event payload and the sixteen DTMF keys.
//! - [`dtmf`]: the receiver that turns telephone events into key presses, once
//!   each (RFC 4733 §2.5), and the SIP INFO fallback bodies.
//! - [`source`]: whose packets a call takes: its caller's, latched once; the rest
//!   dropped and counted.

pub mod dtmf;
pub mod event;
pub mod packet;
pub mod source;

pub use dtmf::{DtmfReceiver, END_TIMEOUT, REMEMBERED_PRESSES, digit_from_info};
pub use event::{Digit, EVENT_LEN, TelephoneEvent, parse_event};
pub use packet::{RtpError, RtpPacket, build, parse, write};
pub use source::{DropReason, DroppedRtp, MediaSource, Verdict};
