//! The billing crate's one error type.

use teleconf_core::domain::{AccountId, YearMonth};

/// What can stop a billing run.
#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    /// The store, S3 or a domain rule refused.
    #[error(transparent)]
    Core(#[from] teleconf_core::Error),
    /// The triggering event could not be read.
    #[error("bad billing event: {0}")]
    Event(String),
    /// A month is billed only once it has ended on the account's wall clock.
    #[error("{month} has not ended yet for account {account}")]
    MonthNotOver {
        /// The account.
        account: AccountId,
        /// The month asked for.
        month: YearMonth,
    },
    /// The PDF could not be rendered.
    #[error("invoice PDF: {0}")]
    Pdf(String),
    /// Some accounts failed (each is logged); the others were billed and the
    /// finance export written. A re-run bills only what is missing.
    #[error("{failed} of {accounts} accounts were not billed; see the log")]
    Incomplete {
        /// Accounts that failed.
        failed: usize,
        /// Accounts tried.
        accounts: usize,
    },
}

impl BillingError {
    /// True when running again later may succeed (the AWS services were away).
    pub fn is_retryable(&self) -> bool {
        match self {
            BillingError::Core(e) => e.is_retryable(),
            BillingError::Incomplete { .. } => true,
            _ => false,
        }
    }
}
