//! The finance team's monthly export (the rules: [`crate::usecases::exports`]).

use axum::extract::{Path, State};
use axum::response::Response;

use crate::download::csv_file_response;
use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;
use crate::usecases::{Caller, exports};

/// A month's finance export as CSV: account, invoice number, usage minutes, usage
/// amount, plan fee, taxes, total (finance).
#[utoipa::path(get, path = "/v1/exports/{month}", tag = "exports", params(("month" = String, Path, example = "2026-11")),
    responses((status = 200, content_type = "text/csv", body = String), (status = 404, body = ErrorBody)))]
pub async fn get_export(
    State(state): State<AppState>,
    caller: Caller,
    Path(month): Path<String>,
) -> ApiResult<Response> {
    let (month, csv) = exports::finance_export(&*state.blobs, &caller, &month).await?;
    Ok(csv_file_response(csv, &format!("finance-{month}.csv")))
}
