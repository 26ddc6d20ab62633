//! The domain's one error type: an input that breaks a rule, or something made in
//! memory that could not be made. Edges map it: the API to an HTTP status, the media
//! node to a SIP response; nothing in the domain knows about either. The adapters'
//! error wraps it (`teleconf_adapters::Error::Domain`).

use std::borrow::Cow;

/// Everything the domain's rules can refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Input broke a domain rule; `field` names the offending input (`"codes.listener"`).
    #[error("{field}: {message}")]
    Invalid {
        /// The input field at fault, in the API's spelling.
        field: Cow<'static, str>,
        /// What is wrong with it, for a human.
        message: String,
    },
    /// Input is larger than the service accepts (HTTP 413); `field` names it.
    #[error("{field}: {message}")]
    TooLarge {
        /// The input at fault.
        field: Cow<'static, str>,
        /// The limit, for a human.
        message: String,
    },
    /// Something the domain makes in memory could not be made (a password hash, a
    /// CSV, a MIME message): no input is at fault, retrying will not help.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Builds [`Error::Invalid`] for `field`.
    pub fn invalid(field: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Error::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The same error, blamed on `field` when it is an [`Error::Invalid`] (used when a
    /// value type is validated inside a larger input: `"13"` → `codes.listener`).
    pub fn in_field(self, field: impl Into<Cow<'static, str>>) -> Self {
        match self {
            Error::Invalid { message, .. } => Error::Invalid {
                field: field.into(),
                message,
            },
            other => other,
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
