//! Invoices: the issued ones (written by the billing function) and the running,
//! not yet issued, estimate of the current month, as JSON or CSV (the CSV is the
//! very file billing stores in S3: `teleconf_domain::invoice::csv::invoice_csv`).
//! The rules: [`crate::usecases::invoices`].

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use teleconf_domain::invoice::csv::invoice_csv;
use teleconf_views::invoices::{InvoiceStatus, InvoiceView};

use crate::download::csv_file_response;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::wants_csv;
use crate::state::AppState;
use crate::usecases::Caller;
use crate::usecases::invoices::{self, Shown};

fn view(shown: Shown) -> InvoiceView {
    InvoiceView::new(&shown.invoice, shown.status, shown.pdf_url)
}

/// The current month's running estimate, then the issued invoices, newest first (owner).
#[utoipa::path(get, path = "/v1/invoices", tag = "invoices", responses((status = 200, body = [InvoiceView]), (status = 403, body = ErrorBody)))]
pub async fn list_invoices(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<InvoiceView>>> {
    let all = invoices::list(&*state.store, &*state.blobs, state.now(), &caller).await?;
    Ok(Json(all.into_iter().map(view).collect()))
}

/// One month's invoice (the current month: its running estimate), as JSON or
/// (`Accept: text/csv`) as the CSV billing stores (owner).
#[utoipa::path(get, path = "/v1/invoices/{month}", tag = "invoices", params(("month" = String, Path, example = "2026-11")),
    responses((status = 200, body = InvoiceView), (status = 200, content_type = "text/csv", body = String), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_invoice(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(month): Path<String>,
) -> ApiResult<Response> {
    let csv = wants_csv(&headers);
    let shown = invoices::get(
        &*state.store,
        &*state.blobs,
        state.now(),
        &caller,
        &month,
        !csv,
    )
    .await?;
    if csv {
        let name = match shown.status {
            InvoiceStatus::Issued => format!("invoice-{}.csv", shown.invoice.month),
            InvoiceStatus::Estimate => format!("estimate-{}.csv", shown.invoice.month),
        };
        return Ok(csv_file_response(invoice_csv(&shown.invoice)?, &name));
    }
    Ok(Json(view(shown)).into_response())
}
