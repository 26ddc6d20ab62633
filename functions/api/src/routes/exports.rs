//! The finance team's monthly export (written by the billing function to S3): one
//! CSV across every account's invoice of the month. Only the `finance` role reads it;
//! for everyone else it does not exist (404).

use axum::extract::{Path, State};
use axum::response::Response;
use teleconf_domain::BlobKey;
use teleconf_domain::YearMonth;
use teleconf_domain::permissions::{Action, decide};

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Caller;
use crate::routes::cdrs::csv_file_response;
use crate::state::AppState;

/// A month's finance export as CSV: account, invoice number, usage minutes, usage
/// amount, plan fee, taxes, total (finance).
#[utoipa::path(get, path = "/v1/exports/{month}", tag = "exports", params(("month" = String, Path, example = "2026-11")),
    responses((status = 200, content_type = "text/csv", body = String), (status = 404, body = ErrorBody)))]
pub async fn get_export(
    State(state): State<AppState>,
    caller: Caller,
    Path(month): Path<String>,
) -> ApiResult<Response> {
    ApiError::check(
        decide(&caller.actor(), Action::ViewFinanceExports),
        "export",
    )?;
    let month: YearMonth = month.parse().map_err(|_| ApiError::not_found("export"))?;
    let csv = state
        .blobs
        .get(&BlobKey::finance_export(month))
        .await?
        .ok_or_else(|| ApiError::not_found("export"))?;
    Ok(csv_file_response(csv, &format!("finance-{month}.csv")))
}
