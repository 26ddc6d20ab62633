//! The crate's one error type: the domain's, or what went wrong reaching AWS. Edges
//! map it: the API to an HTTP status, the media node to a SIP response; nothing
//! inside the crate knows about either.

/// Everything that can go wrong in the adapters, the domain's refusals included.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A domain rule refused an input, or something made in memory failed.
    #[error(transparent)]
    Domain(#[from] teleconf_domain::Error),
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
    /// True when retrying later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Unavailable(_))
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
