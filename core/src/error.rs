//! The crate's one error type. Edges map it: the API to an HTTP status, the media
//! node to a SIP response; nothing inside the crate knows about either.

use std::borrow::Cow;

/// Everything that can go wrong in the domain rules and the AWS adapters.
#[derive(Debug, thiserror::Error)]
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
    /// The thing does not exist (or belongs to someone the caller may not see).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A uniqueness rule or a concurrent change refused the write; names what clashed.
    #[error("{0} already exists or was changed concurrently")]
    Conflict(&'static str),
    /// The store or another AWS service could not be reached or is throttling:
    /// worth retrying later, nothing was lost.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// The store answered with something the domain cannot read, or refused the
    /// request for a reason that retrying will not fix.
    #[error("store error: {0}")]
    Store(String),
    /// A required setting is missing or malformed.
    #[error("configuration: {0}")]
    Config(String),
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

    /// True when retrying later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Unavailable(_))
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
