//! Call detail records: the legs of the conferences the caller may see the logs of,
//! over at most [`MAX_MONTHS`] months.

use std::collections::HashSet;

use chrono::{DateTime, FixedOffset, Utc};
use serde::Deserialize;
use teleconf_adapters::store::{CdrStore, ConferenceStore};
use teleconf_domain::permissions::{Action, ConferenceRef, decide};
use teleconf_domain::{CallLeg, ConferenceId, YearMonth};
use utoipa::IntoParams;

use super::Caller;
use super::conferences::conference_for;
use crate::error::Error;

/// Longest range one request may span (months are queried one by one).
pub const MAX_MONTHS: usize = 13;

/// Filters and paging.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CdrQuery {
    /// Legs joined at or after this instant (RFC 3339); the start of the current month by default.
    pub from: Option<DateTime<FixedOffset>>,
    /// Legs joined before this instant; now by default.
    pub to: Option<DateTime<FixedOffset>>,
    /// Only this conference's legs.
    pub conference_id: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1–1000 (JSON only; CSV has every row).
    pub limit: Option<usize>,
}

/// The legs in `[from, to)` the caller may see, in join order.
pub async fn visible_legs<S: ConferenceStore + CdrStore + ?Sized>(
    store: &S,
    now: DateTime<Utc>,
    caller: &Caller,
    q: &CdrQuery,
) -> Result<Vec<CallLeg>, Error> {
    let tz = caller.account.time_zone;
    let to = q.to.map(|t| t.to_utc()).unwrap_or(now);
    let from = q
        .from
        .map(|t| t.to_utc())
        .unwrap_or_else(|| YearMonth::of(now, tz).start_in(tz));
    if from > to {
        return Err(Error::invalid("from", "from must not be after to"));
    }
    let in_range = |l: &CallLeg| l.joined_at >= from && l.joined_at < to;
    let mut legs = match &q.conference_id {
        Some(id) => {
            let conference = conference_for(store, caller, id, Action::ViewLogs).await?;
            store
                .legs_of_conference(conference.id)
                .await?
                .into_iter()
                .filter(in_range)
                .collect::<Vec<_>>()
        }
        None => {
            Error::check(
                decide(&caller.actor(), Action::ListLogs(caller.account.id)),
                "cdr",
            )?;
            let visible: HashSet<ConferenceId> = store
                .conferences(caller.account.id)
                .await?
                .iter()
                .filter(|c| {
                    decide(&caller.actor(), Action::ViewLogs(ConferenceRef::from(*c))).is_allowed()
                })
                .map(|c| c.id)
                .collect();
            let mut months = vec![YearMonth::of(from, tz)];
            let last = YearMonth::of(to, tz);
            while months[months.len() - 1] < last {
                if months.len() == MAX_MONTHS {
                    return Err(Error::invalid(
                        "from",
                        format!("ask for at most {MAX_MONTHS} months at a time"),
                    ));
                }
                months.push(months[months.len() - 1].next());
            }
            let mut legs = Vec::new();
            for month in months {
                let of_month = store.legs_of_month(caller.account.id, month).await?;
                legs.extend(
                    of_month
                        .into_iter()
                        .filter(|l| in_range(l) && visible.contains(&l.conference_id)),
                );
            }
            legs
        }
    };
    legs.sort_by_key(|l| (l.joined_at, l.id));
    Ok(legs)
}
