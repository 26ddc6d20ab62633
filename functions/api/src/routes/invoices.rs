//! Issued invoices (written by the billing function), JSON or CSV.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use teleconf_core::domain::{Invoice, YearMonth};
use teleconf_core::permissions::{Action, decide};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Caller, wants_csv};
use crate::routes::cdrs::csv_response;
use crate::state::AppState;

/// A line of an invoice.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceLineView {
    /// The conference's number; empty on an adjustment.
    pub conference_number: Option<String>,
    /// Its description, or what the adjustment is.
    pub description: String,
    /// Legs counted.
    pub legs: u64,
    /// Billable minutes (each leg rounded up to the plan's increment).
    #[schema(value_type = String)]
    pub billable_minutes: Decimal,
    /// Amount.
    #[schema(value_type = String)]
    pub amount: Decimal,
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

/// An invoice.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceView {
    /// Invoice number.
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
    /// Due date.
    pub due_on: NaiveDate,
}

impl From<&Invoice> for InvoiceView {
    fn from(i: &Invoice) -> Self {
        Self {
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
                    amount: l.amount,
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
            due_on: i.due_on,
        }
    }
}

/// The account's issued invoices, newest first (owner).
#[utoipa::path(get, path = "/v1/invoices", tag = "invoices", responses((status = 200, body = [InvoiceView]), (status = 403, body = ErrorBody)))]
pub async fn list_invoices(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<InvoiceView>>> {
    ApiError::check(
        decide(&caller.actor(), Action::ViewInvoices(caller.account.id)),
        "invoice",
    )?;
    Ok(Json(
        state
            .store
            .invoices(caller.account.id)
            .await?
            .iter()
            .map(InvoiceView::from)
            .collect(),
    ))
}

/// One month's invoice, as JSON or (`Accept: text/csv`) its lines as CSV (owner).
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
    let invoice = state
        .store
        .invoice(caller.account.id, month)
        .await?
        .ok_or_else(|| ApiError::not_found("invoice"))?;
    let view = InvoiceView::from(&invoice);
    if wants_csv(&headers) {
        return csv_response(view.lines, &format!("invoice-{month}.csv"));
    }
    Ok(Json(view).into_response())
}
