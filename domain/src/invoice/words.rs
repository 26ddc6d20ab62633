//! The monthly invoice as the product words it: the labels the PDF prints, the
//! descriptions of adjustment lines, money and months written the French or the
//! English way, the mail's subject and the PDF's file name. The PDF
//! (functions/billing) and the mail ([`super::mail`]) take their words from here.

use rust_decimal::Decimal;

use crate::messages::words;
use crate::{Invoice, Language, YearMonth};

/// The fixed words of an invoice in one language.
#[derive(Debug)]
pub struct Words {
    /// Document title.
    pub title: &'static str,
    /// "Invoice number".
    pub number: &'static str,
    /// "Account".
    pub account: &'static str,
    /// "Period".
    pub period: &'static str,
    /// "Issued on".
    pub issued_on: &'static str,
    /// "Due on".
    pub due_on: &'static str,
    /// Column: conference number.
    pub conference: &'static str,
    /// Column: description.
    pub description: &'static str,
    /// Column: legs.
    pub legs: &'static str,
    /// Column: billable minutes.
    pub minutes: &'static str,
    /// Column: amount.
    pub amount: &'static str,
    /// "Usage".
    pub usage: &'static str,
    /// "Monthly plan fee".
    pub plan_fee: &'static str,
    /// "Subtotal".
    pub subtotal: &'static str,
    /// "Total due".
    pub total: &'static str,
    /// Shown when the month had no call.
    pub no_usage: &'static str,
    /// The rate line's start: "Usage billed at".
    pub currency_note: &'static str,
    /// A conference removed since: its line's description.
    pub deleted_conference: &'static str,
    /// An adjustment line: before the month.
    pub late_legs_before: &'static str,
    /// An adjustment line: between the month and the conference's description.
    pub late_legs_after: &'static str,
}

const FR: Words = Words {
    title: "Facture",
    number: "Numéro de facture",
    account: "Compte",
    period: "Période",
    issued_on: "Émise le",
    due_on: "Payable au plus tard le",
    conference: "Conférence",
    description: "Description",
    legs: "Appels",
    minutes: "Minutes facturables",
    amount: "Montant",
    usage: "Frais d'utilisation",
    plan_fee: "Frais mensuels du forfait",
    subtotal: "Sous-total",
    total: "Total à payer",
    no_usage: "Aucune utilisation ce mois-ci.",
    currency_note: "Montants en",
    deleted_conference: "Conférence supprimée",
    late_legs_before: "Appels reçus en retard (",
    late_legs_after: ") – ",
};

const EN: Words = Words {
    title: "Invoice",
    number: "Invoice number",
    account: "Account",
    period: "Period",
    issued_on: "Issued on",
    due_on: "Due on",
    conference: "Conference",
    description: "Description",
    legs: "Calls",
    minutes: "Billable minutes",
    amount: "Amount",
    usage: "Usage",
    plan_fee: "Monthly plan fee",
    subtotal: "Subtotal",
    total: "Total due",
    no_usage: "No usage this month.",
    currency_note: "Amounts in",
    deleted_conference: "Deleted conference",
    late_legs_before: "Late calls (",
    late_legs_after: ") – ",
};

/// The words of an invoice in `language`.
pub fn words(language: Language) -> &'static Words {
    match language {
        Language::Fr => &FR,
        Language::En => &EN,
    }
}

/// « novembre 2026 » / "November 2026".
pub fn month_name(month: YearMonth, language: Language) -> String {
    words::month_year(month.year(), month.month().saturating_sub(1), language)
}

/// Money the way each language writes it, with its currency: « 1 234,56 $ US » /
/// "US$1,234.56"; a credit keeps its minus sign. Always two decimals.
pub fn money(amount: Decimal, currency: &str, language: Language) -> String {
    let cents = amount.round_dp(2);
    let prefix = match currency {
        "USD" => "US",
        "CAD" => "CA",
        _ => "",
    };
    match (language, prefix) {
        (Language::Fr, "") => format!("{} {currency}", words::grouped(cents, ' ', ',')),
        (Language::Fr, p) => format!("{} $ {p}", words::grouped(cents, ' ', ',')),
        (Language::En, p) => {
            let text = words::grouped(cents, ',', '.');
            let (sign, digits) = match text.strip_prefix('-') {
                Some(digits) => ("-", digits),
                None => ("", text.as_str()),
            };
            if p.is_empty() {
                format!("{sign}{currency} {digits}")
            } else {
                format!("{sign}{p}${digits}")
            }
        }
    }
}

/// Billable seconds as minutes, two decimals (the exact seconds are in the CSV).
pub fn minutes(seconds: u64, language: Language) -> String {
    let m = (Decimal::from(seconds) / Decimal::from(60)).round_dp(2);
    let text = format!("{m:.2}");
    match language {
        Language::Fr => text.replace('.', ","),
        Language::En => text,
    }
}

/// A tax rate as a percentage: « 9,975 % » / "9.975%".
pub fn percent(rate: Decimal, language: Language) -> String {
    let p = (rate * Decimal::from(100)).normalize().to_string();
    match language {
        Language::Fr => format!("{} %", p.replace('.', ",")),
        Language::En => format!("{p}%"),
    }
}

/// The description of an adjustment line billing late legs of `month`.
pub fn late_legs(month: YearMonth, conference: &str, language: Language) -> String {
    let w = words(language);
    format!(
        "{}{}{}{}",
        w.late_legs_before,
        month_name(month, language),
        w.late_legs_after,
        conference
    )
}

/// The mail's subject: « Votre facture de novembre 2026 » / "Your invoice for November 2026".
pub fn subject(month: YearMonth, language: Language) -> String {
    let month = month_name(month, language);
    match language {
        // « de » before a consonant, « d' » before a vowel (avril, août, octobre).
        Language::Fr if month.starts_with(['a', 'o']) => format!("Votre facture d'{month}"),
        Language::Fr => format!("Votre facture de {month}"),
        Language::En => format!("Your invoice for {month}"),
    }
}

/// The file name the PDF is attached and downloaded under.
pub fn pdf_file_name(invoice: &Invoice) -> String {
    match invoice.language {
        Language::Fr => format!("facture-{}.pdf", invoice.number),
        Language::En => format!("invoice-{}.pdf", invoice.number),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;

    #[test]
    fn the_subject_names_the_month_in_the_accounts_language() {
        assert_eq!(
            subject("2026-11".parse().unwrap(), Language::Fr),
            "Votre facture de novembre 2026"
        );
        assert_eq!(
            subject("2026-11".parse().unwrap(), Language::En),
            "Your invoice for November 2026"
        );
        assert_eq!(
            subject("2026-08".parse().unwrap(), Language::Fr),
            "Votre facture d'août 2026"
        );
    }

    #[test]
    fn money_is_written_each_languages_way() {
        assert_eq!(money(dec!(1234.5), "USD", Language::Fr), "1 234,50 $ US");
        assert_eq!(money(dec!(1234.5), "USD", Language::En), "US$1,234.50");
        assert_eq!(money(dec!(-0.1), "CAD", Language::En), "-CA$0.10");
        assert_eq!(money(dec!(0), "EUR", Language::Fr), "0,00 EUR");
        assert_eq!(money(dec!(1000000), "USD", Language::En), "US$1,000,000.00");
        assert_eq!(minutes(61, Language::Fr), "1,02");
        let first = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert_eq!(words::date_words(first, Language::Fr), "1er décembre 2026");
        assert_eq!(words::date_words(first, Language::En), "December 1, 2026");
        assert_eq!(percent(dec!(0.09975), Language::Fr), "9,975 %");
        assert_eq!(percent(dec!(0.05), Language::En), "5%");
    }
}
