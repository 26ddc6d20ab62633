//! Call detail records: JSON (paginated) or CSV (`Accept: text/csv`), filtered to
//! the conferences the caller may see the logs of.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use teleconf_views::cdrs::{CdrPage, CdrView};

use crate::download::csv_response;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{QueryParams, wants_csv};
use crate::state::AppState;
use crate::usecases::Caller;
use crate::usecases::cdrs::{CdrQuery, visible_legs};

/// Default page size.
pub const DEFAULT_LIMIT: usize = 100;
/// Largest page.
pub const MAX_LIMIT: usize = 1_000;

/// Call detail records of the account, as JSON pages or one CSV.
#[utoipa::path(get, path = "/v1/cdrs", tag = "logs", params(CdrQuery),
    responses((status = 200, body = CdrPage), (status = 200, content_type = "text/csv", body = String), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_cdrs(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    QueryParams(q): QueryParams<CdrQuery>,
) -> ApiResult<Response> {
    let legs = visible_legs(&*state.store, state.now(), &caller, &q).await?;
    let tz = caller.account.time_zone;
    if wants_csv(&headers) {
        return csv_response(
            legs.iter().map(|l| CdrView::new(l, tz)).collect(),
            "cdrs.csv",
        );
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
        .map(|l| CdrView::new(l, tz))
        .collect();
    let next = offset + items.len();
    let next_cursor = (next < legs.len()).then(|| next.to_string());
    Ok(Json(CdrPage { items, next_cursor }).into_response())
}
