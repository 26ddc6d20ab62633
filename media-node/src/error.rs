//! The crate's error: each protocol module has its own error type (what went wrong
//! reading a SIP message is not what went wrong in SDP); this wraps them so the
//! shell can log one type and map it to a SIP response at the edge.

/// Anything the media node's protocol core can refuse, or its shell fail at.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A SIP message could not be read.
    #[error(transparent)]
    Sip(#[from] crate::sip::SipError),
    /// An SDP body could not be read or answered.
    #[error(transparent)]
    Sdp(#[from] crate::sdp::SdpError),
    /// An RTP packet could not be read.
    #[error(transparent)]
    Rtp(#[from] crate::rtp::RtpError),
    /// The mixer refused a leg operation or a frame.
    #[error(transparent)]
    Mixer(#[from] crate::mixer::MixerError),
    /// A setting of the shell is missing or wrong (`teleconf_adapters::settings`).
    #[error(transparent)]
    Config(teleconf_adapters::Error),
    /// A socket of the shell failed.
    #[error("{what}: {source}")]
    Io {
        /// What the shell was doing.
        what: String,
        /// The failure.
        source: std::io::Error,
    },
    /// The media loop's thread ended without handing its I/O back (it panicked).
    #[error("the media loop thread panicked")]
    MediaLoopPanicked,
}
