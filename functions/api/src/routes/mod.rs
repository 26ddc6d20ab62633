//! One module per resource. Each handler checks the permission matrix
//! (`teleconf_domain::permissions`) before it reads or writes anything else, and
//! every change writes an activity entry.

pub mod accounts;
pub mod activity;
pub mod cdrs;
pub mod conferences;
pub mod controls;
pub mod exports;
pub mod health;
pub mod invitations;
pub mod invoices;
pub mod ip_phones;
pub mod me;
pub mod numbers;
pub mod participants;
pub mod prompts;
pub mod recordings;
pub mod users;

use chrono::{DateTime, FixedOffset, Utc};
use chrono_tz::Tz;
use teleconf_domain::{AccountId, Activity, ActivityKind, ConferenceId};

use crate::extract::Caller;
use crate::state::AppState;

/// An instant on the account's wall clock, printed RFC 3339 with its offset.
pub fn local(t: DateTime<Utc>, tz: Tz) -> DateTime<FixedOffset> {
    t.with_timezone(&tz).fixed_offset()
}

/// Appends to the caller's account feed. The change it describes is already made,
/// so a failure here is logged, not answered as an error (a retry would repeat
/// the change).
pub async fn record(
    state: &AppState,
    caller: &Caller,
    kind: ActivityKind,
    conference: Option<ConferenceId>,
    summary: impl Into<String>,
) {
    record_in(state, caller.account.id, caller, kind, conference, summary).await;
}

/// Appends to `account`'s feed what the caller did to it (the provider assigning
/// an access number to a customer's account), as [`record`] does.
pub async fn record_in(
    state: &AppState,
    account: AccountId,
    caller: &Caller,
    kind: ActivityKind,
    conference: Option<ConferenceId>,
    summary: impl Into<String>,
) {
    let entry = Activity::new(
        account,
        state.now(),
        Some(caller.user.id),
        kind,
        conference,
        summary,
    );
    if let Err(e) = state.store.record_activity(&entry).await {
        tracing::error!(error = %e, kind = ?kind, "activity entry lost");
    }
}

/// serde: tells an absent field (`None`) from an explicit `null` (`Some(None)`).
pub fn double_option<'de, T, D>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(de).map(Some)
}
