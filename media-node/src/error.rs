//! The crate's error: each protocol module has its own error type (what went wrong
//! reading a SIP message is not what went wrong in SDP); this wraps them so the
//! shell can log one type and map it to a SIP response at the edge.

/// Anything the media node's protocol core can refuse, or its shell fail at.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A SIP message, an SDP body or an RTP packet could not be read.
    #[error(transparent)]
    Protocol(#[from] teleconf_sip::Error),
    /// The mixer refused a leg operation or a frame.
    #[error(transparent)]
    Mixer(#[from] crate::app::mixer::MixerError),
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
