//! CSV files as the spreadsheets customers open them in will read them.
//!
//! Excel, LibreOffice and Google Sheets take a cell that begins with `=`, `+`, `-`
//! or `@` (or a tab or a carriage return before one) as a formula, so a caller ID or
//! a description typed as `=HYPERLINK(…)` would run in the reader's spreadsheet
//! (OWASP, "CSV Injection"). Every CSV the service writes goes through
//! [`csv_bytes`], which writes such a cell with a leading `'`: the spreadsheet then
//! shows it as text, without the quote. A cell that is a plain number (digits, an
//! optional leading `-`, an optional decimal part) is left as it is.
//!
//! Column by column, that is what spreadsheet users expect:
//! - numeric columns (amounts, minutes, seconds, legs, rates) stay numbers, negative
//!   ones included: an adjustment's `-0.09` is the number −0.09;
//! - text columns stay text: an E.164 number `+15145550100` is written
//!   `'+15145550100` and shows as `+15145550100` (not as the number 15145550100),
//!   and a formula typed into a description shows as what was typed.

use std::borrow::Cow;

use serde::Serialize;

use crate::error::{Error, Result};

/// Rows as CSV: a header named after the row type's fields, then one line per row,
/// each cell made safe for spreadsheets ([`spreadsheet_cell`]). No rows, no header.
pub fn csv_bytes<T: Serialize>(rows: impl IntoIterator<Item = T>) -> Result<Vec<u8>> {
    let failed = |e: &dyn std::fmt::Display| Error::Internal(format!("CSV: {e}"));
    let mut plain = csv::Writer::from_writer(Vec::new());
    for row in rows {
        plain.serialize(row).map_err(|e| failed(&e))?;
    }
    let plain = plain.into_inner().map_err(|e| failed(&e))?;
    // Serialized by serde, then read back as records: the cells as the file holds them.
    let mut records = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(plain.as_slice());
    let mut out = csv::Writer::from_writer(Vec::new());
    for record in records.records() {
        let record = record.map_err(|e| failed(&e))?;
        out.write_record(
            record
                .iter()
                .map(|cell| spreadsheet_cell(cell).into_owned()),
        )
        .map_err(|e| failed(&e))?;
    }
    out.into_inner().map_err(|e| failed(&e))
}

/// A cell as spreadsheets should show it: `'` before one a spreadsheet would take
/// as a formula, unless it is a plain number.
pub fn spreadsheet_cell(cell: &str) -> Cow<'_, str> {
    let formula = cell
        .chars()
        .next()
        .is_some_and(|c| matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r'));
    if formula && !is_plain_number(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// `-12`, `0.09`, `-0.54`: digits with an optional leading minus and decimal part.
fn is_plain_number(cell: &str) -> bool {
    let digits = cell.strip_prefix('-').unwrap_or(cell);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    !whole.is_empty()
        && !fraction.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Row<'a> {
        caller_id: &'a str,
        description: &'a str,
        amount: &'a str,
        seconds: u64,
    }

    fn cells(bytes: &[u8]) -> Vec<Vec<String>> {
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(bytes)
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect()
    }

    #[test]
    fn formulas_become_text_and_numbers_stay_numbers() {
        let bytes = csv_bytes([
            Row {
                caller_id: "+15145550100",
                description: "=HYPERLINK(\"http://evil.example\",\"clic\")",
                amount: "-0.09",
                seconds: 60,
            },
            Row {
                caller_id: "@SUM(A1:A9)",
                description: "-2+3, \"citée\"",
                amount: "12.50",
                seconds: 0,
            },
            Row {
                caller_id: "\t=1+1",
                description: "\r=1+1",
                amount: "0",
                seconds: 3,
            },
            Row {
                caller_id: "5145550100",
                description: "Réunion = mensuelle",
                amount: "-12",
                seconds: 1,
            },
        ])
        .unwrap();
        let rows = cells(&bytes);
        assert_eq!(rows[0], ["caller_id", "description", "amount", "seconds"]);
        assert_eq!(
            rows[1],
            [
                "'+15145550100",
                "'=HYPERLINK(\"http://evil.example\",\"clic\")",
                "-0.09",
                "60"
            ]
        );
        assert_eq!(rows[2], ["'@SUM(A1:A9)", "'-2+3, \"citée\"", "12.50", "0"]);
        assert_eq!(rows[3], ["'\t=1+1", "'\r=1+1", "0", "3"]);
        assert_eq!(rows[4], ["5145550100", "Réunion = mensuelle", "-12", "1"]);
    }

    #[test]
    fn only_plain_numbers_escape_the_quote() {
        for number in ["0", "-0.09", "10.00", "-12", "123456"] {
            assert_eq!(spreadsheet_cell(number), number);
        }
        for formula in ["-", "-.5", "-1.", "+1", "-1e5", "-1,5", "-0x10", "=1", "@a"] {
            assert_eq!(spreadsheet_cell(formula), format!("'{formula}"));
        }
        assert_eq!(spreadsheet_cell(""), "");
    }

    #[test]
    fn no_rows_is_an_empty_file() {
        assert!(csv_bytes(Vec::<Row<'_>>::new()).unwrap().is_empty());
    }
}
