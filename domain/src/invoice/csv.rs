//! The invoice as CSV, the file billing stores beside the PDF and the API serves
//! (`GET /v1/invoices/{month}` as `text/csv`): a pure function of the issued
//! invoice (rows in a fixed order, money with two decimals), so a re-run writes the
//! same bytes; each cell is safe to open in a spreadsheet ([`crate::spreadsheet`]).

use rust_decimal::Decimal;
use serde::Serialize;

use super::Invoice;
use crate::error::Result;
use crate::spreadsheet::csv_bytes;

/// An amount with two decimals, as every billing CSV writes money.
pub(crate) fn cents(amount: Decimal) -> String {
    format!("{:.2}", amount.round_dp(2))
}

/// Seconds as minutes with two decimals.
pub(crate) fn minutes(seconds: u64) -> String {
    cents(Decimal::from(seconds) / Decimal::from(60))
}

/// A row of an invoice's CSV.
#[derive(Debug, Serialize)]
struct InvoiceRow<'a> {
    invoice_number: &'a str,
    month: String,
    due_on: String,
    /// `conference`, `adjustment`, `plan_fee`, `subtotal`, `tax` or `total`.
    kind: &'static str,
    /// The month the usage is from (an adjustment's earlier month).
    usage_month: String,
    conference_number: &'a str,
    description: &'a str,
    legs: Option<u64>,
    billable_seconds: Option<u64>,
    billable_minutes: String,
    /// Per participant-minute on a usage line (empty when its legs were priced at
    /// two rates, a plan having changed); the rate of a `tax` line.
    rate: String,
    amount: String,
}

/// The invoice as CSV: a header, one row per line (`conference` or `adjustment`),
/// then `plan_fee`, `subtotal`, one `tax` row per tax and `total`. Every row carries
/// the invoice number, month and due date.
pub fn invoice_csv(invoice: &Invoice) -> Result<Vec<u8>> {
    let month = invoice.month.to_string();
    let due_on = invoice.due_on.to_string();
    let row = |kind, description: &'static str, amount| InvoiceRow {
        invoice_number: &invoice.number,
        month: month.clone(),
        due_on: due_on.clone(),
        kind,
        usage_month: String::new(),
        conference_number: "",
        description,
        legs: None,
        billable_seconds: None,
        billable_minutes: String::new(),
        rate: String::new(),
        amount: cents(amount),
    };
    let mut rows: Vec<InvoiceRow<'_>> = invoice
        .lines
        .iter()
        .map(|l| InvoiceRow {
            kind: if l.adjusted_month.is_some() {
                "adjustment"
            } else {
                "conference"
            },
            usage_month: l.adjusted_month.unwrap_or(invoice.month).to_string(),
            conference_number: l.conference_number.as_ref().map_or("", |n| n.as_str()),
            description: &l.description,
            legs: Some(l.legs),
            billable_seconds: Some(l.billable_seconds),
            billable_minutes: minutes(l.billable_seconds),
            rate: l
                .rate_per_minute
                .map(|r| r.normalize().to_string())
                .unwrap_or_default(),
            ..row("conference", "", l.amount)
        })
        .collect();
    rows.push(row("plan_fee", "", invoice.plan_fee));
    rows.push(row("subtotal", "", invoice.usage_amount + invoice.plan_fee));
    for t in &invoice.taxes {
        rows.push(InvoiceRow {
            description: &t.name,
            rate: t.rate.normalize().to_string(),
            ..row("tax", "", t.amount)
        });
    }
    rows.push(row("total", "", invoice.total));
    csv_bytes(rows)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::{AccountId, ConferenceId, InvoiceLine, TaxLine};
    use chrono::{NaiveDate, TimeZone, Utc};
    use rust_decimal::dec;

    /// An invoice with a conference line, a late-leg adjustment, a plan fee and a tax.
    pub(crate) fn invoice() -> Invoice {
        let account = AccountId::new();
        let month = "2026-11".parse().unwrap();
        Invoice {
            number: Invoice::number_for(account, month),
            account_id: account,
            account_name: "Omnivigil, \"Solutions\"".into(),
            language: Default::default(),
            time_zone: chrono_tz::America::Toronto,
            month,
            currency: "USD".into(),
            lines: vec![
                InvoiceLine {
                    conference_id: Some(ConferenceId::new()),
                    conference_number: Some("7654321".parse().unwrap()),
                    description: "Réunion, mensuelle".into(),
                    legs: 3,
                    billable_seconds: 360,
                    amount: dec!(0.54),
                    adjusted_month: None,
                    rate_per_minute: Some(dec!(0.09)),
                },
                InvoiceLine {
                    conference_id: Some(ConferenceId::new()),
                    conference_number: Some("1234567".parse().unwrap()),
                    description: "Appels reçus en retard".into(),
                    legs: 1,
                    billable_seconds: 60,
                    amount: dec!(0.09),
                    adjusted_month: Some("2026-10".parse().unwrap()),
                    rate_per_minute: Some(dec!(0.09)),
                },
            ],
            usage_amount: dec!(0.63),
            plan_fee: dec!(10),
            taxes: vec![TaxLine {
                name: "TPS/GST".into(),
                rate: dec!(0.05),
                amount: dec!(0.53),
            }],
            total: dec!(11.16),
            issued_at: Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap(),
            due_on: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
        }
    }

    #[test]
    fn an_invoice_csv_has_its_lines_fee_taxes_and_total() {
        let inv = invoice();
        let text = String::from_utf8(invoice_csv(&inv).unwrap()).unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        assert_eq!(header[..4], ["invoice_number", "month", "due_on", "kind"]);
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        let kinds: Vec<&str> = rows.iter().map(|r| &r[3]).collect();
        assert_eq!(
            kinds,
            [
                "conference",
                "adjustment",
                "plan_fee",
                "subtotal",
                "tax",
                "total"
            ]
        );
        assert_eq!(&rows[0][6], "Réunion, mensuelle");
        assert_eq!(&rows[0][9], "6.00");
        // Every usage line says its rate.
        assert_eq!((&rows[0][10], &rows[0][11]), ("0.09", "0.54"));
        assert_eq!((&rows[1][10], &rows[1][11]), ("0.09", "0.09"));
        assert_eq!(&rows[1][4], "2026-10");
        assert_eq!(&rows[2][11], "10.00");
        assert_eq!(&rows[3][11], "10.63");
        assert_eq!((&rows[4][10], &rows[4][11]), ("0.05", "0.53"));
        assert_eq!(&rows[5][11], "11.16");
        assert!(rows.iter().all(|r| &r[2] == "2026-12-31"));
        // Pure: the same invoice, the same bytes.
        assert_eq!(invoice_csv(&inv).unwrap(), invoice_csv(&inv).unwrap());
    }
}
