//! The crate's error: each module has its own error type (what went wrong reading
//! a SIP message is not what went wrong in SDP); this wraps them, so a caller can
//! hold one type and still tell them apart.

/// Anything this crate's modules refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A SIP message could not be read.
    #[error(transparent)]
    Message(#[from] crate::message::SipError),
    /// An INVITE could not create a dialog.
    #[error(transparent)]
    Dialog(#[from] crate::dialog::DialogError),
    /// An SDP body could not be read or answered.
    #[error(transparent)]
    Sdp(#[from] crate::sdp::SdpError),
    /// An RTP packet could not be read or built.
    #[error(transparent)]
    Rtp(#[from] crate::rtp::RtpError),
    /// A list of sources could not be read.
    #[error(transparent)]
    Source(#[from] crate::sources::InvalidSource),
}
