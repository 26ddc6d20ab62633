//! What the scheduler and the mailer keep in the table beside the entities: each
//! conference's [`Lifecycle`] (the item `CONF#<id>` / `LIFECYCLE`, absent while the
//! conference is only scheduled), the mail the scheduler queues (`CONF#<id>` /
//! `MAIL#<kind>`), and the mailer's ledger of deliveries (`DELIVERY#<key>` /
//! `DELIVERY`, expiring through `ttl` after [`DELIVERY_RETENTION`]).
//!
//! Every write here is conditional: a transition only from the status it starts
//! from, a queued mail only once, a claim only on a delivery nobody holds. That is
//! what makes a duplicated scheduler tick or stream record change nothing twice.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use crate::error::Result;
use teleconf_domain::{
    AccountId, Claim, Conference, ConferenceId, ConferenceStatus, DeliveryKey, Lifecycle, Outcome,
    QueuedMail, QueuedMailKind,
};

/// How long a delivery's ledger entry is kept: longer than any stream record lives
/// (24 h) and any retry lasts, so a replay always finds it.
pub const DELIVERY_RETENTION: Duration = Duration::days(30);

/// Conferences' lifecycles and the mail queued at their transitions.
#[async_trait]
pub trait LifecycleStore: Send + Sync {
    /// The account's conferences whose planned start is in `[from, to]`, by start.
    async fn conferences_starting(
        &self,
        account: AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Conference>>;
    /// The recorded lifecycle; `None` while the conference is only scheduled.
    async fn lifecycle(&self, conference: ConferenceId) -> Result<Option<Lifecycle>>;
    /// The mail of `kind` queued for the conference, if it was.
    async fn queued_mail(
        &self,
        conference: ConferenceId,
        kind: QueuedMailKind,
    ) -> Result<Option<QueuedMail>>;
    /// Stores `next` if the stored status is still `from` (no item counts as
    /// [`ConferenceStatus::Scheduled`]), queuing `mail` in the same write (and only if
    /// that kind was never queued for the conference). `Ok(false)` when another writer
    /// got there first: nothing was written.
    async fn advance_lifecycle(
        &self,
        from: ConferenceStatus,
        next: &Lifecycle,
        mail: Option<&QueuedMail>,
    ) -> Result<bool>;
}

/// The mailer's exactly-once ledger.
#[async_trait]
pub trait DeliveryStore: Send + Sync {
    /// Claims the delivery `key` at `now`: [`Claim::Mine`] when it was never claimed,
    /// its last attempt failed, or its holder has not finished within `lease` (it
    /// crashed); [`Claim::Settled`] once sent or dead-lettered; [`Claim::Busy`] while
    /// another holder's claim is fresh.
    async fn claim_delivery(
        &self,
        key: &DeliveryKey,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Claim>;
    /// Records how the claimed attempt ended.
    async fn settle_delivery(&self, key: &DeliveryKey, outcome: &Outcome) -> Result<()>;
}
