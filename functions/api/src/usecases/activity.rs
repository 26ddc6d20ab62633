//! The account's activity feed: written after each change, read newest first.

use chrono::{DateTime, Utc};
use teleconf_adapters::store::ActivityStore;
use teleconf_domain::permissions::{Action, decide};
use teleconf_domain::{AccountId, Activity, ActivityKind, ConferenceId};

use super::Caller;
use crate::error::Error;

/// Appends to the caller's account feed. The change it describes is already made,
/// so a failure here is logged, not answered as an error (a retry would repeat
/// the change).
pub async fn record<S: ActivityStore + ?Sized>(
    store: &S,
    now: DateTime<Utc>,
    caller: &Caller,
    kind: ActivityKind,
    conference: Option<ConferenceId>,
    summary: impl Into<String>,
) {
    record_in(
        store,
        now,
        caller.account.id,
        caller,
        kind,
        conference,
        summary,
    )
    .await;
}

/// Appends to `account`'s feed what the caller did to it (the provider assigning
/// an access number to a customer's account), as [`record`] does.
pub async fn record_in<S: ActivityStore + ?Sized>(
    store: &S,
    now: DateTime<Utc>,
    account: AccountId,
    caller: &Caller,
    kind: ActivityKind,
    conference: Option<ConferenceId>,
    summary: impl Into<String>,
) {
    let entry = Activity::new(
        account,
        now,
        Some(caller.user.id),
        kind,
        conference,
        summary,
    );
    if let Err(e) = store.record_activity(&entry).await {
        tracing::error!(error = %e, kind = ?kind, "activity entry lost");
    }
}

/// Most entries per request.
pub const MAX_ENTRIES: usize = 200;

/// The newest `limit` entries (50 by default, at most [`MAX_ENTRIES`]) of the
/// caller's account feed.
pub async fn recent<S: ActivityStore + ?Sized>(
    store: &S,
    caller: &Caller,
    limit: Option<usize>,
) -> Result<Vec<Activity>, Error> {
    Error::check(
        decide(&caller.actor(), Action::ViewActivity(caller.account.id)),
        "activity",
    )?;
    let limit = limit.unwrap_or(50);
    if !(1..=MAX_ENTRIES).contains(&limit) {
        return Err(Error::invalid(
            "limit",
            format!("limit is 1 to {MAX_ENTRIES}"),
        ));
    }
    Ok(store.recent_activity(caller.account.id, limit).await?)
}
