//! The scheduler's error type.

/// Why a tick did not complete.
#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    /// The event carries no `time`: the tick has no instant to act at.
    #[error("the scheduled event has no time")]
    NoTime,
    /// The store failed for some conferences or lost nodes (the others were
    /// handled); the next tick, or the invocation's retry, catches up.
    #[error("{failed} conference(s) or lost node(s) not handled: {first}")]
    Store {
        /// How many conferences or nodes failed.
        failed: usize,
        /// The first failure.
        first: teleconf_adapters::Error,
    },
    /// The store failed before any conference could be looked at.
    #[error(transparent)]
    Adapters(#[from] teleconf_adapters::Error),
}
