//! SIP (RFC 3261) above `rsip`.

pub mod codec;

pub use codec::SipError;
