//! SIP (RFC 3261) above `rsip`.

pub mod codec;
pub mod connections;
pub mod dialog;
pub mod transaction;

pub use codec::SipError;
