//! An invoice, issued or the current month's running estimate.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use teleconf_domain::Invoice;
use utoipa::ToSchema;

/// A line of an invoice.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum InvoiceStatus {
    /// Issued by the monthly billing: final.
    Issued,
    /// The current month so far, not issued yet: it changes as calls end.
    Estimate,
}

/// An invoice.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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
    /// The view of `i`, issued or an estimate, with its PDF link if given.
    pub fn new(i: &Invoice, status: InvoiceStatus, pdf_url: Option<String>) -> Self {
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
