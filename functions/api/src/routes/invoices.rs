//! Invoices: the issued ones (written by the billing function) and the running,
//! not yet issued, estimate of the current month, as JSON or CSV (the CSV is the
//! very file billing stores in S3: `teleconf_domain::billing::csv::invoice_csv`).

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use teleconf_adapters::billing::statement::draft_invoice;
use teleconf_domain::BlobKey;
use teleconf_domain::billing::csv::invoice_csv;
use teleconf_domain::billing::invoice::ESTIMATE_LATE_LEG_MONTHS;
use teleconf_domain::permissions::{Action, decide};
use teleconf_domain::{Invoice, YearMonth};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Caller, wants_csv};
use crate::routes::cdrs::csv_file_response;
use crate::state::AppState;

/// How long an invoice PDF link works.
const PDF_LINK_TTL: Duration = Duration::from_secs(15 * 60);

/// A line of an invoice.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceLineView {
    /// The conference's number; empty on an adjustment that names none.
    pub conference_number: Option<String>,
    /// Its description, or what the adjustment is.
    pub description: String,
    /// Legs counted.
    pub legs: u64,
    /// Billable minutes (each leg rounded up to the plan's increment).
    #[schema(value_type = String)]
    pub billable_minutes: Decimal,
    /// Per participant-minute; null when the line's calls were priced at two rates
    /// (the plan changed in the month).
    #[schema(value_type = Option<String>)]
    pub rate_per_minute: Option<Decimal>,
    /// Amount.
    #[schema(value_type = String)]
    pub amount: Decimal,
    /// On an adjustment for late calls: the earlier month they belong to (YYYY-MM).
    pub adjusted_month: Option<String>,
}

/// A tax line.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaxView {
    /// Name.
    pub name: String,
    /// Rate.
    #[schema(value_type = String)]
    pub rate: Decimal,
    /// Amount.
    #[schema(value_type = String)]
    pub amount: Decimal,
}

/// Whether an invoice was issued or is the current month's running estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum InvoiceStatus {
    /// Issued by the monthly billing: final.
    Issued,
    /// The current month so far, not issued yet: it changes as calls end.
    Estimate,
}

/// An invoice.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceView {
    /// issued or estimate.
    pub status: InvoiceStatus,
    /// Invoice number (an estimate shows the number it will be issued under).
    pub number: String,
    /// Billed month, YYYY-MM.
    pub month: String,
    /// Currency.
    pub currency: String,
    /// Lines.
    pub lines: Vec<InvoiceLineView>,
    /// Sum of the lines.
    #[schema(value_type = String)]
    pub usage_amount: Decimal,
    /// The plan's monthly fee.
    #[schema(value_type = String)]
    pub plan_fee: Decimal,
    /// Taxes.
    pub taxes: Vec<TaxView>,
    /// Total due.
    #[schema(value_type = String)]
    pub total: Decimal,
    /// Due date; null on an estimate.
    pub due_on: Option<NaiveDate>,
    /// A link to the PDF, valid 15 minutes; null on an estimate.
    pub pdf_url: Option<String>,
}

impl InvoiceView {
    fn new(i: &Invoice, status: InvoiceStatus, pdf_url: Option<String>) -> Self {
        Self {
            status,
            number: i.number.clone(),
            month: i.month.to_string(),
            currency: i.currency.clone(),
            lines: i
                .lines
                .iter()
                .map(|l| InvoiceLineView {
                    conference_number: l.conference_number.as_ref().map(ToString::to_string),
                    description: l.description.clone(),
                    legs: l.legs,
                    billable_minutes: Decimal::from(l.billable_seconds) / Decimal::from(60),
                    rate_per_minute: l.rate_per_minute.map(|r| r.normalize()),
                    amount: l.amount,
                    adjusted_month: l.adjusted_month.map(|m| m.to_string()),
                })
                .collect(),
            usage_amount: i.usage_amount,
            plan_fee: i.plan_fee,
            taxes: i
                .taxes
                .iter()
                .map(|t| TaxView {
                    name: t.name.clone(),
                    rate: t.rate,
                    amount: t.amount,
                })
                .collect(),
            total: i.total,
            due_on: (status == InvoiceStatus::Issued).then_some(i.due_on),
            pdf_url,
        }
    }
}

/// The current month on the caller's account's wall clock.
fn current_month(state: &AppState, caller: &Caller) -> YearMonth {
    YearMonth::of(state.now(), caller.account.time_zone)
}

/// The running estimate of the current month (late legs looked for in last month only).
async fn estimate(state: &AppState, caller: &Caller) -> ApiResult<Invoice> {
    let month = current_month(state, caller);
    let (invoice, _) = draft_invoice(
        state.store.as_ref(),
        &caller.account,
        month,
        state.now(),
        ESTIMATE_LATE_LEG_MONTHS,
    )
    .await?;
    Ok(invoice)
}

/// An issued invoice's view, with its PDF link.
async fn issued_view(state: &AppState, invoice: &Invoice) -> ApiResult<InvoiceView> {
    let url = state
        .blobs
        .download_url(
            &BlobKey::invoice_pdf(invoice.account_id, invoice.month),
            PDF_LINK_TTL,
        )
        .await?;
    Ok(InvoiceView::new(invoice, InvoiceStatus::Issued, Some(url)))
}

/// The current month's running estimate, then the issued invoices, newest first (owner).
#[utoipa::path(get, path = "/v1/invoices", tag = "invoices", responses((status = 200, body = [InvoiceView]), (status = 403, body = ErrorBody)))]
pub async fn list_invoices(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<InvoiceView>>> {
    ApiError::check(
        decide(&caller.actor(), Action::ViewInvoices(caller.account.id)),
        "invoice",
    )?;
    let issued = state.store.invoices(caller.account.id).await?;
    let mut views = Vec::with_capacity(issued.len() + 1);
    if !issued
        .iter()
        .any(|i| i.month == current_month(&state, &caller))
    {
        views.push(InvoiceView::new(
            &estimate(&state, &caller).await?,
            InvoiceStatus::Estimate,
            None,
        ));
    }
    for invoice in &issued {
        views.push(issued_view(&state, invoice).await?);
    }
    Ok(Json(views))
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
    ApiError::check(
        decide(&caller.actor(), Action::ViewInvoices(caller.account.id)),
        "invoice",
    )?;
    let month: YearMonth = month.parse().map_err(|_| ApiError::not_found("invoice"))?;
    let (invoice, status) = match state.store.invoice(caller.account.id, month).await? {
        Some(issued) => (issued, InvoiceStatus::Issued),
        None if month == current_month(&state, &caller) => {
            (estimate(&state, &caller).await?, InvoiceStatus::Estimate)
        }
        None => return Err(ApiError::not_found("invoice")),
    };
    if wants_csv(&headers) {
        let name = match status {
            InvoiceStatus::Issued => format!("invoice-{month}.csv"),
            InvoiceStatus::Estimate => format!("estimate-{month}.csv"),
        };
        return Ok(csv_file_response(invoice_csv(&invoice)?, &name));
    }
    let view = match status {
        InvoiceStatus::Issued => issued_view(&state, &invoice).await?,
        InvoiceStatus::Estimate => InvoiceView::new(&invoice, status, None),
    };
    Ok(Json(view).into_response())
}
