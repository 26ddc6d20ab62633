//! Dates, months and amounts written out the way each language writes them: the
//! invoice (mail and PDF) and the portal's pages share these, so « 1er décembre
//! 2026 » and « 1 234,56 » read the same everywhere.

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use crate::Language;

const MONTHS_FR: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The name of month `month0` (0 = January; past 11 reads as December).
pub fn month_word(month0: u32, language: Language) -> &'static str {
    let index = usize::try_from(month0).unwrap_or(11).min(11);
    match language {
        Language::Fr => MONTHS_FR[index],
        Language::En => MONTHS_EN[index],
    }
}

/// « novembre 2026 » / "November 2026".
pub fn month_year(year: i32, month0: u32, language: Language) -> String {
    format!("{} {year}", month_word(month0, language))
}

/// A date written out: « 1er décembre 2026 », « 31 décembre 2026 » / "December 1, 2026".
pub fn date_words(date: NaiveDate, language: Language) -> String {
    let month = month_word(date.month0(), language);
    match language {
        Language::Fr if date.day() == 1 => format!("1er {month} {}", date.year()),
        Language::Fr => format!("{} {month} {}", date.day(), date.year()),
        Language::En => format!("{month} {}, {}", date.day(), date.year()),
    }
}

/// `amount` with two decimals, its thousands grouped by `thousands` and `point` before
/// the cents; a minus sign when negative: `-1 234,56`. Round before: this only writes.
pub fn grouped(amount: Decimal, thousands: char, point: char) -> String {
    let negative = amount.is_sign_negative() && !amount.is_zero();
    let text = format!("{:.2}", amount.abs());
    let (units, fraction) = text.split_once('.').unwrap_or((&text, "00"));
    let mut out = String::with_capacity(text.len() + units.len() / 3 + 1);
    if negative {
        out.push('-');
    }
    for (i, digit) in units.chars().enumerate() {
        if i > 0 && (units.len() - i) % 3 == 0 {
            out.push(thousands);
        }
        out.push(digit);
    }
    out.push(point);
    out.push_str(fraction);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_of_the_month_is_1er_in_french_only() {
        let first = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert_eq!(date_words(first, Language::Fr), "1er décembre 2026");
        assert_eq!(date_words(first, Language::En), "December 1, 2026");
        let later = NaiveDate::from_ymd_opt(2026, 8, 31).unwrap();
        assert_eq!(date_words(later, Language::Fr), "31 août 2026");
        assert_eq!(month_year(2026, 10, Language::Fr), "novembre 2026");
    }

    #[test]
    fn amounts_are_grouped_by_thousands_with_the_sign_first() {
        assert_eq!(grouped(Decimal::new(123_456, 2), ' ', ','), "1 234,56");
        assert_eq!(
            grouped(Decimal::new(-100_000_050, 2), ',', '.'),
            "-1,000,000.50"
        );
        assert_eq!(grouped(Decimal::ZERO, ',', '.'), "0.00");
        assert_eq!(grouped(Decimal::new(99, 2), ',', '.'), "0.99");
    }
}
