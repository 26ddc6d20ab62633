//! Monthly invoices (issued by the billing function, read by the API and portal).

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::{AccountId, ConferenceId, ConferenceNumber, YearMonth};

/// One line: a conference's usage in the month, or an adjustment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceLine {
    /// The conference billed; `None` on an adjustment line.
    pub conference_id: Option<ConferenceId>,
    /// Its number, as the customer knows it.
    pub conference_number: Option<ConferenceNumber>,
    /// Its description, or what the adjustment is.
    pub description: String,
    /// Legs counted.
    pub legs: u64,
    /// Billable seconds (each leg rounded up to the plan's increment).
    pub billable_seconds: u64,
    /// Amount in the invoice currency, to the cent.
    pub amount: Decimal,
}

/// A tax on the invoice (GST, QST…), each on its own line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxLine {
    /// Its name as printed ("TPS", "TVQ").
    pub name: String,
    /// The rate, e.g. 0.05.
    pub rate: Decimal,
    /// The amount, to the cent.
    pub amount: Decimal,
}

/// An account's invoice for a month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invoice {
    /// The invoice number, assigned by billing when issued.
    pub number: String,
    /// Billed account.
    pub account_id: AccountId,
    /// Billed month, in the account's time zone.
    pub month: YearMonth,
    /// ISO 4217 currency (USD for the seed's plan).
    pub currency: String,
    /// Usage lines.
    pub lines: Vec<InvoiceLine>,
    /// Sum of the lines.
    pub usage_amount: Decimal,
    /// The plan's monthly fee.
    pub plan_fee: Decimal,
    /// Taxes on usage and fee.
    pub taxes: Vec<TaxLine>,
    /// What is due.
    pub total: Decimal,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// When it is due.
    pub due_on: NaiveDate,
}
