//! The provider's monthly finance exports (written to S3 by the billing function):
//! the provider admin and finance download them as CSV.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use teleconf_core::blobs::BlobKey;
use teleconf_core::domain::YearMonth;
use teleconf_core::permissions::{Action, decide};

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Caller;
use crate::state::AppState;

/// One month's finance export, as CSV (provider admin, finance); 404 until billing wrote it.
#[utoipa::path(get, path = "/v1/exports/{month}", tag = "invoices", params(("month" = String, Path, example = "2026-11")),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
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
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"finance-{month}.csv\""),
            ),
        ],
        csv,
    )
        .into_response())
}
