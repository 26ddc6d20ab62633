//! Why a SIP message could not be read, and the response a UAS answers it with.

use super::MAX_MESSAGE_SIZE;

/// Why a SIP message could not be read. Each variant maps to the response a UAS sends
/// for a refused request ([`SipError::status`], [`SipError::reason`]); a refused
/// response is dropped whatever the variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SipError {
    /// Nothing but CR/LF (a keep-alive) or no bytes at all: ignore it, answer nothing.
    #[error("no SIP message: empty datagram or CRLF keep-alive")]
    Empty,
    /// The message is larger than [`MAX_MESSAGE_SIZE`].
    #[error("message of {size} bytes is larger than the {MAX_MESSAGE_SIZE}-byte limit")]
    TooLarge {
        /// The message's size in bytes (declared, for a stream, or received).
        size: usize,
    },
    /// The bytes are not a SIP message: no start line, broken header lines, control
    /// characters, a header section that never ends, or text `rsip` refuses.
    #[error("malformed SIP message: {0}")]
    Malformed(String),
    /// The start line names a SIP version other than 2.0 (answered 505).
    #[error("unsupported SIP version {0}")]
    UnsupportedVersion(String),
    /// The request method is not one `rsip` (and so this node) knows (answered 501).
    #[error("unknown request method {0}")]
    UnknownMethod(String),
    /// A mandatory header is absent (its full name, e.g. `"Call-ID"`).
    #[error("missing mandatory header {0}")]
    MissingHeader(&'static str),
    /// A header is present but unreadable, or a single-value header is repeated.
    #[error("invalid {name} header: {detail}")]
    InvalidHeader {
        /// The header's full name, e.g. `"Via"`.
        name: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// Content-Length declares more bytes than the datagram's body holds (RFC 3261
    /// §18.3: an error; a longer body is truncated instead).
    #[error("Content-Length is {declared} but the body has {actual} bytes")]
    ContentLength {
        /// The Content-Length value.
        declared: usize,
        /// The bytes present after the header section.
        actual: usize,
    },
    /// The CSeq method differs from the request method (RFC 3261 §8.1.1.5).
    #[error("CSeq method {cseq} does not match request method {method}")]
    CSeqMismatch {
        /// The method of the request line.
        method: String,
        /// The method in the CSeq header.
        cseq: String,
    },
}

impl SipError {
    /// The status code a UAS answers a refused request with: 400 for most errors,
    /// 505 for an unsupported version, 501 for an unknown method, 513 when too large
    /// (RFC 3261 §21.4.1, §21.5.2, §21.5.6, §21.5.7).
    pub fn status(&self) -> u16 {
        match self {
            Self::UnsupportedVersion(_) => 505,
            Self::UnknownMethod(_) => 501,
            Self::TooLarge { .. } => 513,
            _ => 400,
        }
    }

    /// A reason phrase for [`SipError::status`]: specific for a 400 (e.g. `"Missing
    /// Call-ID Header"`), the standard phrase for the other codes. Always printable
    /// ASCII, never empty, never a line break.
    pub fn reason(&self) -> &str {
        match self {
            Self::Empty => "Empty Message",
            Self::TooLarge { .. } => "Message Too Large",
            Self::Malformed(_) => "Malformed Message",
            Self::UnsupportedVersion(_) => "Version Not Supported",
            Self::UnknownMethod(_) => "Not Implemented",
            Self::MissingHeader(name) => match *name {
                "Via" => "Missing Via Header",
                "From" => "Missing From Header",
                "To" => "Missing To Header",
                "Call-ID" => "Missing Call-ID Header",
                "CSeq" => "Missing CSeq Header",
                "Content-Length" => "Missing Content-Length Header",
                _ => "Missing Mandatory Header",
            },
            Self::InvalidHeader { name, .. } => match *name {
                "Via" => "Invalid Via Header",
                "From" => "Invalid From Header",
                "To" => "Invalid To Header",
                "Call-ID" => "Invalid Call-ID Header",
                "CSeq" => "Invalid CSeq Header",
                "Max-Forwards" => "Invalid Max-Forwards Header",
                "Content-Length" => "Invalid Content-Length Header",
                _ => "Invalid Header",
            },
            Self::ContentLength { .. } => "Content-Length Exceeds Body",
            Self::CSeqMismatch { .. } => "CSeq Method Mismatch",
        }
    }
}
