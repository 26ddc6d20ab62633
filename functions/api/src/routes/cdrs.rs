//! Call detail records: JSON (paginated) or CSV (`Accept: text/csv`), filtered to
//! the conferences the caller may see the logs of.

use std::collections::HashSet;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use teleconf_domain::permissions::{Action, ConferenceRef, decide};
use teleconf_domain::spreadsheet::csv_bytes;
use teleconf_domain::{CallLeg, CallerRole, ConferenceId, DisconnectCause, YearMonth};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Caller, QueryParams, wants_csv};
use crate::routes::conferences::conference_for;
use crate::routes::local;
use crate::state::AppState;

/// Default page size.
pub const DEFAULT_LIMIT: usize = 100;
/// Largest page.
pub const MAX_LIMIT: usize = 1_000;
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

/// One leg.
#[derive(Debug, Serialize, ToSchema)]
pub struct CdrView {
    /// Leg id.
    pub leg_id: String,
    /// Conference id.
    pub conference_id: String,
    /// Its number.
    pub conference_number: String,
    /// The access number dialled; null for an IP phone's `*44`, which dials none.
    pub dialled: Option<String>,
    /// The caller's number.
    pub caller_id: String,
    /// participant, listener or moderator.
    #[schema(value_type = String)]
    pub role: CallerRole,
    /// Joined at, in the account's zone.
    pub joined_at: DateTime<FixedOffset>,
    /// Left at; absent while on the line.
    pub left_at: Option<DateTime<FixedOffset>>,
    /// Seconds on the line (rounded down), once left.
    pub duration_s: Option<u64>,
    /// Why the leg ended.
    #[schema(value_type = Option<String>)]
    pub cause: Option<DisconnectCause>,
    /// Frames received from the caller, once left.
    pub packets_received: Option<u64>,
    /// Frames lost (never arrived in time), once left.
    pub packets_lost: Option<u64>,
    /// Highest interarrival jitter in milliseconds, once left.
    pub max_jitter_ms: Option<u32>,
}

/// A page of legs.
#[derive(Debug, Serialize, ToSchema)]
pub struct CdrPage {
    /// The legs, in join order.
    pub items: Vec<CdrView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

fn view(leg: &CallLeg, tz: chrono_tz::Tz) -> CdrView {
    CdrView {
        leg_id: leg.id.to_string(),
        conference_id: leg.conference_id.to_string(),
        conference_number: leg.conference_number.to_string(),
        dialled: leg.dialled.as_ref().map(ToString::to_string),
        caller_id: leg.caller_id.clone(),
        role: leg.role,
        joined_at: local(leg.joined_at, tz),
        left_at: leg.left_at.map(|t| local(t, tz)),
        duration_s: leg.duration_ms().map(|ms| ms / 1000),
        cause: leg.cause,
        packets_received: leg.quality.map(|q| q.packets_received),
        packets_lost: leg.quality.map(|q| q.packets_lost),
        max_jitter_ms: leg.quality.map(|q| q.max_jitter_ms),
    }
}

/// The legs in `[from, to)` the caller may see, in join order.
async fn visible_legs(state: &AppState, caller: &Caller, q: &CdrQuery) -> ApiResult<Vec<CallLeg>> {
    let tz = caller.account.time_zone;
    let now = state.now();
    let to = q.to.map(|t| t.to_utc()).unwrap_or(now);
    let from = q
        .from
        .map(|t| t.to_utc())
        .unwrap_or_else(|| YearMonth::of(now, tz).start_in(tz));
    if from > to {
        return Err(ApiError::invalid("from", "from must not be after to"));
    }
    let in_range = |l: &CallLeg| l.joined_at >= from && l.joined_at < to;
    let mut legs = match &q.conference_id {
        Some(id) => {
            let conference = conference_for(state, caller, id, Action::ViewLogs).await?;
            state
                .store
                .legs_of_conference(conference.id)
                .await?
                .into_iter()
                .filter(in_range)
                .collect::<Vec<_>>()
        }
        None => {
            ApiError::check(
                decide(&caller.actor(), Action::ListLogs(caller.account.id)),
                "cdr",
            )?;
            let visible: HashSet<ConferenceId> = state
                .store
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
                    return Err(ApiError::invalid(
                        "from",
                        format!("ask for at most {MAX_MONTHS} months at a time"),
                    ));
                }
                months.push(months[months.len() - 1].next());
            }
            let mut legs = Vec::new();
            for month in months {
                let of_month = state.store.legs_of_month(caller.account.id, month).await?;
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

/// Call detail records of the account, as JSON pages or one CSV.
#[utoipa::path(get, path = "/v1/cdrs", tag = "logs", params(CdrQuery),
    responses((status = 200, body = CdrPage), (status = 200, content_type = "text/csv", body = String), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_cdrs(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    QueryParams(q): QueryParams<CdrQuery>,
) -> ApiResult<Response> {
    let legs = visible_legs(&state, &caller, &q).await?;
    let tz = caller.account.time_zone;
    if wants_csv(&headers) {
        return csv_response(legs.iter().map(|l| view(l, tz)).collect(), "cdrs.csv");
    }
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("limit is 1 to {MAX_LIMIT}"),
        ));
    }
    let offset = match &q.cursor {
        Some(c) => c
            .parse::<usize>()
            .map_err(|_| ApiError::invalid("cursor", "not a cursor from this API"))?,
        None => 0,
    };
    let items: Vec<CdrView> = legs
        .iter()
        .skip(offset)
        .take(limit)
        .map(|l| view(l, tz))
        .collect();
    let next = offset + items.len();
    let next_cursor = (next < legs.len()).then(|| next.to_string());
    Ok(Json(CdrPage { items, next_cursor }).into_response())
}

/// Rows as a CSV attachment (header from the row type), each cell safe to open
/// in a spreadsheet (`teleconf_domain::spreadsheet`).
pub fn csv_response<T: Serialize>(rows: Vec<T>, filename: &str) -> ApiResult<Response> {
    Ok(csv_file_response(csv_bytes(rows)?, filename))
}

/// A CSV file already rendered, downloaded as `filename`.
pub fn csv_file_response(body: Vec<u8>, filename: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response()
}
