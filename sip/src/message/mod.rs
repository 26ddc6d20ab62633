//! SIP messages (RFC 3261 §7), the bottom layer: the codec between bytes on
//! the wire and `rsip` messages the layers above can trust.
//!
//! - [`parse`] reads one datagram (or one message framed from a stream), never
//!   panicking; [`SipError`] says why it could not, and [`bad_request`] builds the
//!   stateless answer to a request it refused.
//! - [`frame`] cuts the first message out of a TCP stream.
//! - [`encode`] prints a message for the wire.
//! - [`response_to`] builds a response to a request, and [`stateless_response`] one
//!   sent outside any transaction, whose To tag ([`stateless_tag`]) is the same for a
//!   retransmitted request.

mod codec;
mod error;
mod response;

pub use codec::{Framing, bad_request, encode, frame, parse};
pub use error::SipError;
pub use response::{response_to, stateless_response, stateless_tag, with_retry_after};

/// The largest message accepted, in bytes (64 KiB): the most one UDP datagram can
/// carry, and the cap on one message framed from a TCP stream.
pub const MAX_MESSAGE_SIZE: usize = 64 * 1024;
