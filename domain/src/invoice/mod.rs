//! Monthly invoices (issued by the billing function, read by the API and portal),
//! with their renderings.
//!
//! An issued invoice is a snapshot: the account's name, language and time zone are
//! copied in when it is issued, so everything rendered from it later (its CSV, its
//! PDF, its mail) is the same bytes however often it is rendered.
//!
//! ## Layout
//! - this module: the [`Invoice`] type, its lines and taxes.
//! - [`csv`]: the invoice as CSV (stored by billing, served by the API).
//! - [`words`]: its words in each language: the PDF's labels, months, money,
//!   adjustment lines, the mail's subject and the PDF's file name.
//! - [`mail`]: the mail that carries the PDF to the account's owners.
//!
//! The PDF is drawn in `functions/billing` (`pdf.rs`), with its words from
//! [`words`]: drawing it takes krilla (a PDF writer with its fonts), which only the
//! billing function needs; here it would be compiled into every crate that uses the
//! domain (the API, the portal, the media node), and the domain stays pure values.
//! Making a month into an invoice (lines, adjustments, taxes) is billing arithmetic,
//! in [`crate::billing::invoice`].

pub mod csv;
pub mod mail;
pub mod words;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{AccountId, ConferenceId, ConferenceNumber, DEFAULT_TIME_ZONE, Language, YearMonth};

/// One line: a conference's usage in the month, or an adjustment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceLine {
    /// The conference billed; `None` on an adjustment line that names none.
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
    /// On an adjustment: the earlier, already invoiced month whose late legs this
    /// line bills. `None` on a line of the invoice's own month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjusted_month: Option<YearMonth>,
    /// The rate per participant-minute its legs were priced at; `None` when they
    /// were priced at two rates (the plan changed in the month), and on invoices
    /// issued before lines carried it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_per_minute: Option<Decimal>,
}

/// A tax on the invoice (GST, QST…), each on its own line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxLine {
    /// Its name as printed ("TPS/GST", "TVQ/QST").
    pub name: String,
    /// The rate, e.g. 0.05.
    pub rate: Decimal,
    /// The amount, to the cent.
    pub amount: Decimal,
}

/// An account's invoice for a month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invoice {
    /// The invoice number ([`Invoice::number_for`]).
    pub number: String,
    /// Billed account.
    pub account_id: AccountId,
    /// The account's name when the invoice was issued.
    #[serde(default)]
    pub account_name: String,
    /// The language it is written in (the account's).
    #[serde(default)]
    pub language: Language,
    /// The zone its dates are shown in (the account's).
    #[serde(default = "default_zone")]
    pub time_zone: Tz,
    /// Billed month, in the account's time zone.
    pub month: YearMonth,
    /// ISO 4217 currency (USD for the seed's plan).
    pub currency: String,
    /// Usage lines: one per conference of the month, then adjustments for late legs
    /// of earlier months.
    pub lines: Vec<InvoiceLine>,
    /// Sum of the lines.
    pub usage_amount: Decimal,
    /// The plan's monthly fee.
    pub plan_fee: Decimal,
    /// Taxes on usage and fee.
    pub taxes: Vec<TaxLine>,
    /// What is due.
    pub total: Decimal,
    /// When it was issued (for an estimate: when it was computed).
    pub issued_at: DateTime<Utc>,
    /// When it is due.
    pub due_on: NaiveDate,
}

fn default_zone() -> Tz {
    DEFAULT_TIME_ZONE
}

impl Invoice {
    /// The number of `account`'s invoice for `month`: `YYYYMM-` and the account id's
    /// last 12 hex digits (random in a UUIDv7), e.g. `202611-4F3A9B21C0DE`. The same
    /// inputs always give the same number, so a re-run cannot number it twice.
    pub fn number_for(account: AccountId, month: YearMonth) -> String {
        let id = account.to_string();
        let tail = &id[id.len().saturating_sub(12)..];
        format!(
            "{:04}{:02}-{}",
            month.year(),
            month.month(),
            tail.to_ascii_uppercase()
        )
    }

    /// Billable seconds of every line (the month's own and the adjustments).
    pub fn billable_seconds(&self) -> u64 {
        self.lines.iter().map(|l| l.billable_seconds).sum()
    }

    /// The sum of the taxes.
    pub fn tax_amount(&self) -> Decimal {
        self.taxes.iter().map(|t| t.amount).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invoice_number_is_the_month_and_the_accounts_random_tail() {
        let account: AccountId = "0190a1b2-c3d4-7e5f-8a6b-4f3a9b21c0de".parse().unwrap();
        let month: YearMonth = "2026-11".parse().unwrap();
        assert_eq!(Invoice::number_for(account, month), "202611-4F3A9B21C0DE");
    }

    #[test]
    fn an_invoice_stored_before_the_snapshot_fields_still_reads() {
        let json = r#"{"number":"F-1","account_id":"0190a1b2-c3d4-7e5f-8a6b-4f3a9b21c0de","month":"2026-10",
            "currency":"USD","lines":[],"usage_amount":"0","plan_fee":"0","taxes":[],"total":"0",
            "issued_at":"2026-11-01T12:00:00Z","due_on":"2026-12-01"}"#;
        let invoice: Invoice = serde_json::from_str(json).unwrap();
        assert_eq!(invoice.language, Language::Fr);
        assert_eq!(invoice.time_zone, DEFAULT_TIME_ZONE);
    }
}
