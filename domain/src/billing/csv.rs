//! The billing files as CSV besides the invoice's own (which is
//! [`crate::invoice::csv`]): the CDR detail behind an invoice, and the finance team's
//! export of a month across accounts. Each is a pure function of its inputs (rows in
//! a fixed order, money with two decimals, times on the account's wall clock), so a
//! re-run writes the same bytes; each cell is safe to open in a spreadsheet
//! ([`crate::spreadsheet`]).

use serde::Serialize;

use super::pricing::billable_seconds;
use crate::error::Result;
use crate::invoice::csv::{cents, minutes};
use crate::spreadsheet::csv_bytes;
use crate::{Account, CallLeg, Invoice};

/// A row of the CDR detail.
#[derive(Debug, Serialize)]
struct DetailRow<'a> {
    leg_id: String,
    conference_number: &'a str,
    dialled: String,
    caller_id: &'a str,
    role: &'static str,
    joined_at: String,
    left_at: String,
    duration_ms: u64,
    billable_seconds: u64,
    rate_per_minute: String,
}

/// The closed legs of a month as CSV, in join order: who called which conference,
/// when (the account's wall clock, RFC 3339 with offset), for how long, and the
/// billable seconds and rate of the plan in force when the leg started.
pub fn cdr_detail_csv(account: &Account, legs: &[CallLeg]) -> Result<Vec<u8>> {
    let tz = account.time_zone;
    let local = |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&tz).to_rfc3339();
    csv_bytes(legs.iter().filter_map(|leg| {
        let (left_at, duration_ms) = (leg.left_at?, leg.duration_ms()?);
        let plan = account.plan_at(leg.joined_at);
        Some(DetailRow {
            leg_id: leg.id.to_string(),
            conference_number: leg.conference_number.as_str(),
            dialled: leg
                .dialled
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            caller_id: &leg.caller_id,
            role: leg.role.as_str(),
            joined_at: local(leg.joined_at),
            left_at: local(left_at),
            duration_ms,
            billable_seconds: billable_seconds(duration_ms, plan.increment_secs()),
            rate_per_minute: plan.rate_per_minute().normalize().to_string(),
        })
    }))
}

/// A row of the finance export.
#[derive(Debug, Serialize)]
struct FinanceRow<'a> {
    account_id: String,
    account_name: &'a str,
    invoice_number: &'a str,
    month: String,
    currency: &'a str,
    usage_minutes: String,
    usage_amount: String,
    plan_fee: String,
    taxes: String,
    total: String,
}

/// The finance team's export of a month: one row per invoice, by invoice number.
pub fn finance_export_csv(invoices: &[Invoice]) -> Result<Vec<u8>> {
    let mut sorted: Vec<&Invoice> = invoices.iter().collect();
    sorted.sort_by(|a, b| a.number.cmp(&b.number));
    csv_bytes(sorted.into_iter().map(|i| FinanceRow {
        account_id: i.account_id.to_string(),
        account_name: &i.account_name,
        invoice_number: &i.number,
        month: i.month.to_string(),
        currency: &i.currency,
        usage_minutes: minutes(i.billable_seconds()),
        usage_amount: cents(i.usage_amount),
        plan_fee: cents(i.plan_fee),
        taxes: cents(i.tax_amount()),
        total: cents(i.total),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ConferenceId;
    use crate::billing::usage::tests::leg;
    use crate::invoice::csv::invoice_csv;
    use crate::invoice::csv::tests::invoice;
    use chrono::{TimeZone, Utc};

    #[test]
    fn the_cdr_detail_lists_closed_legs_on_the_accounts_clock() {
        let account = crate::Account::new("Omnivigil", Utc::now()).unwrap();
        let conf = (ConferenceId::new(), "7654321");
        let joined = Utc.with_ymd_and_hms(2026, 12, 1, 3, 30, 0).unwrap();
        let closed = leg(&account, conf, joined, 61_500);
        let mut open = leg(&account, conf, joined, 0);
        open.left_at = None;
        let text = String::from_utf8(cdr_detail_csv(&account, &[closed, open]).unwrap()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[1].contains("2026-11-30T22:30:00-05:00"), "{text}");
        assert!(lines[1].ends_with(",61500,120,0.09"), "{text}");
    }

    #[test]
    fn every_billing_csv_writes_formulas_and_phone_numbers_as_text() {
        let mut inv = invoice();
        inv.account_name = "=HYPERLINK(\"http://evil.example\")".into();
        inv.lines[0].description = "@SUM(1+1)".into();
        let cell = |bytes: Vec<u8>, row: usize, column: &str| {
            let mut reader = csv::Reader::from_reader(bytes.as_slice());
            let at = reader.headers().unwrap().iter().position(|h| h == column);
            let record = reader.records().nth(row).unwrap().unwrap();
            record[at.unwrap()].to_string()
        };
        assert_eq!(
            cell(invoice_csv(&inv).unwrap(), 0, "description"),
            "'@SUM(1+1)"
        );
        assert_eq!(cell(invoice_csv(&inv).unwrap(), 0, "amount"), "0.54");
        assert_eq!(
            cell(finance_export_csv(&[inv]).unwrap(), 0, "account_name"),
            "'=HYPERLINK(\"http://evil.example\")"
        );
        let account = crate::Account::new("Omnivigil", Utc::now()).unwrap();
        let mut closed = leg(
            &account,
            (ConferenceId::new(), "7654321"),
            Utc::now(),
            60_000,
        );
        closed.caller_id = "-1+cmd|' /C calc'!A0".into();
        closed.dialled = Some("+15145550100".parse().unwrap());
        let detail = cdr_detail_csv(&account, &[closed]).unwrap();
        assert_eq!(cell(detail.clone(), 0, "dialled"), "'+15145550100");
        assert_eq!(
            cell(detail.clone(), 0, "caller_id"),
            "'-1+cmd|' /C calc'!A0"
        );
        assert_eq!(cell(detail, 0, "billable_seconds"), "60");
    }

    #[test]
    fn the_finance_export_has_one_row_per_invoice() {
        let (a, b) = (invoice(), invoice());
        let text = String::from_utf8(finance_export_csv(&[a.clone(), b.clone()]).unwrap()).unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2);
        let first = rows.iter().find(|r| r[2] == *a.number).expect("a's row");
        assert_eq!(&first[1], "Omnivigil, \"Solutions\"");
        assert_eq!(&first[5], "7.00");
        assert_eq!(
            (&first[6], &first[7], &first[8], &first[9]),
            ("0.63", "10.00", "0.53", "11.16")
        );
    }
}
