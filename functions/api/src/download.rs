//! Files the API answers for download: CSV attachments.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use teleconf_domain::spreadsheet::csv_bytes;

use crate::error::ApiResult;

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
