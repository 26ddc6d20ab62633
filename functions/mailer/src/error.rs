//! The mailer's error type.

/// What can stop a stream record from being handled now.
#[derive(Debug, thiserror::Error)]
pub enum MailerError {
    /// The store, SES or the stream could not be reached: retry the record later.
    #[error(transparent)]
    Adapters(#[from] teleconf_adapters::Error),
    /// Another worker is sending the same mail right now.
    #[error("delivery {0} is being sent by another worker")]
    InFlight(String),
    /// A mail could not be sent this time; the record is retried.
    #[error("delivery {key} failed (attempt {attempt}): {error}")]
    SendFailed {
        /// The delivery's idempotency key.
        key: String,
        /// Which attempt failed.
        attempt: u32,
        /// The provider's error.
        error: String,
    },
    /// The DynamoDB Streams API failed (the local loop only).
    #[error("reading the stream: {0}")]
    Stream(String),
    /// A stream iterator is past its 15 minutes (`ExpiredIteratorException`): the
    /// reader takes a fresh one.
    #[error("the stream iterator has expired")]
    IteratorExpired,
    /// The records asked for are past the stream's 24-hour retention
    /// (`TrimmedDataAccessException`): the reader goes on from the oldest left.
    #[error("the stream records asked for are trimmed")]
    StreamTrimmed,
}
