//! The billing crate's one error type.

use chrono_tz::Tz;
use teleconf_domain::YearMonth;

/// What can stop a billing run.
#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    /// The store or S3 refused.
    #[error(transparent)]
    Adapters(#[from] teleconf_adapters::Error),
    /// A domain rule refused, or a CSV could not be written.
    #[error(transparent)]
    Domain(#[from] teleconf_domain::Error),
    /// The triggering event could not be read.
    #[error("bad billing event: {0}")]
    Event(String),
    /// A month is billed only once it has ended on the account's wall clock.
    #[error(
        "{month} has not ended yet in {zone}: a month is billed once it has ended (the last that has is {last})"
    )]
    MonthNotOver {
        /// The month asked for.
        month: YearMonth,
        /// The time zone of an account it has not ended for.
        zone: Tz,
        /// The last month that has ended there.
        last: YearMonth,
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
    /// [`BillingError::MonthNotOver`] when `month` has not ended at `now` on the
    /// clock of `zone`.
    pub fn unless_over(
        month: YearMonth,
        zone: Tz,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), Self> {
        if month.end_in(zone) > now {
            return Err(BillingError::MonthNotOver {
                month,
                zone,
                last: YearMonth::of(now, zone).previous(),
            });
        }
        Ok(())
    }

    /// True when running again later may succeed (the AWS services were away).
    pub fn is_retryable(&self) -> bool {
        match self {
            BillingError::Adapters(e) => e.is_retryable(),
            BillingError::Incomplete { .. } => true,
            _ => false,
        }
    }
}
