//! Failure counters and locks in memory.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use teleconf_domain::{Attempt, Limit};

use super::MemoryStore;
use crate::error::Result;
use crate::store::ThrottleStore;

#[async_trait]
impl ThrottleStore for MemoryStore {
    async fn record_failure(
        &self,
        attempt: &Attempt,
        limit: &Limit,
        now: DateTime<Utc>,
    ) -> Result<u32> {
        let mut s = self.state()?;
        let count = s
            .failures
            .entry((attempt.key(), limit.window_start(now)))
            .or_insert(0);
        *count += 1;
        Ok(*count)
    }

    async fn failures(&self, attempt: &Attempt, limit: &Limit, now: DateTime<Utc>) -> Result<u32> {
        Ok(self
            .state()?
            .failures
            .get(&(attempt.key(), limit.window_start(now)))
            .copied()
            .unwrap_or(0))
    }

    async fn lock(&self, attempt: &Attempt, until: DateTime<Utc>) -> Result<()> {
        let mut s = self.state()?;
        let lock = s.locks.entry(attempt.key()).or_insert(until);
        *lock = (*lock).max(until);
        Ok(())
    }

    async fn locked_until(
        &self,
        attempt: &Attempt,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>> {
        Ok(self
            .state()?
            .locks
            .get(&attempt.key())
            .copied()
            .filter(|until| *until > now))
    }
}
