//! An account's month made into an [`Invoice`]: one line per conference, then one
//! adjustment line per conference whose late legs reached an earlier, already
//! invoiced month; the plan's monthly fee; each tax on its own line; the total and
//! the due date. Pure: the store reads are in `teleconf_adapters::billing::statement`.
//!
//! **Late legs.** A closed leg never changes and is never removed (the CDR store
//! guarantees it), so a month's set of closed legs only grows. What an earlier month
//! M still owes is therefore exact: the price of M's closed legs now, per conference,
//! less what invoices already billed for M (M's own lines plus every adjustment line
//! for M). Whatever the order invoices are issued in, the lines billed for a month
//! add up to the price of its legs, to the cent, and no leg is billed twice.

use std::collections::HashMap;

use chrono::{DateTime, Days, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::pricing::to_cents;
use super::usage::MonthUsage;
use crate::invoice::words::{late_legs, words};
use crate::{Account, ConferenceId, Invoice, InvoiceLine, TaxLine, YearMonth};

/// Days between an invoice's issue date and its due date.
pub const DAYS_TO_PAY: u64 = 30;

/// How many months back an issued invoice looks for late legs: a CDR spooled on a
/// media node reaches the table within hours of the node's return; a year is far
/// beyond that.
pub const LATE_LEG_MONTHS: u32 = 12;

/// How many months back the running estimate looks: the month before, where late
/// legs land in practice (each month looked at is a query of all its legs).
pub const ESTIMATE_LATE_LEG_MONTHS: u32 = 1;

/// The currency of every plan (the seed's rate is in US dollars).
pub const CURRENCY: &str = "USD";

/// An earlier month as it stands now: its closed legs priced.
#[derive(Debug, Clone)]
pub struct EarlierMonth {
    /// The month.
    pub month: YearMonth,
    /// Its legs now.
    pub usage: MonthUsage,
}

/// Everything an invoice is made from.
#[derive(Debug, Clone, Copy)]
pub struct Statement<'a> {
    /// The account billed (name, language, zone, plans, province).
    pub account: &'a Account,
    /// The month billed.
    pub month: YearMonth,
    /// The month's closed legs, priced.
    pub usage: &'a MonthUsage,
    /// Earlier months that may have late legs, as they stand now.
    pub earlier: &'a [EarlierMonth],
    /// The account's issued invoices (any months; the one being made is not among them).
    pub issued: &'a [Invoice],
    /// Conference descriptions by id; a missing one is a deleted conference.
    pub descriptions: &'a HashMap<ConferenceId, String>,
    /// When it is issued (or estimated).
    pub now: DateTime<Utc>,
}

/// What invoices already billed for one conference of one month.
#[derive(Debug, Default, Clone, Copy)]
struct Billed {
    legs: u64,
    seconds: u64,
    amount: Decimal,
}

/// The invoice of `s.month`.
pub fn make_invoice(s: &Statement<'_>) -> Invoice {
    let account = s.account;
    let language = account.language;
    let describe = |id: ConferenceId| {
        s.descriptions
            .get(&id)
            .cloned()
            .unwrap_or_else(|| words(language).deleted_conference.to_string())
    };
    let mut lines: Vec<InvoiceLine> = s
        .usage
        .conferences
        .iter()
        .map(|c| InvoiceLine {
            conference_id: Some(c.conference_id),
            conference_number: Some(c.conference_number.clone()),
            description: describe(c.conference_id),
            legs: c.legs,
            billable_seconds: c.billable_seconds,
            amount: c.amount,
            adjusted_month: None,
            rate_per_minute: c.rate_per_minute,
        })
        .collect();
    lines.extend(late_leg_lines(s, &describe));

    let usage_amount: Decimal = lines.iter().map(|l| l.amount).sum();
    // The fee and taxes of the plan in force when the month ended (or now, while
    // it runs).
    let plan = account.plan_at(s.month.end_in(account.time_zone).min(s.now));
    let plan_fee = to_cents(plan.monthly_fee());
    let subtotal = usage_amount + plan_fee;
    let taxes: Vec<TaxLine> = account
        .taxes_under(plan)
        .iter()
        .map(|t| TaxLine {
            name: t.name().to_string(),
            rate: t.rate(),
            amount: to_cents(subtotal * t.rate()),
        })
        .collect();
    let total = subtotal + taxes.iter().map(|t| t.amount).sum::<Decimal>();
    let issued_on = s.now.with_timezone(&account.time_zone).date_naive();
    Invoice {
        number: Invoice::number_for(account.id, s.month),
        account_id: account.id,
        account_name: account.name.clone(),
        language,
        time_zone: account.time_zone,
        month: s.month,
        currency: CURRENCY.to_string(),
        lines,
        usage_amount,
        plan_fee,
        taxes,
        total,
        issued_at: s.now,
        due_on: due_date(issued_on),
    }
}

fn due_date(issued_on: NaiveDate) -> NaiveDate {
    issued_on
        .checked_add_days(Days::new(DAYS_TO_PAY))
        .unwrap_or(issued_on)
}

/// One line per conference of an earlier invoiced month whose legs grew since.
fn late_leg_lines(
    s: &Statement<'_>,
    describe: &impl Fn(ConferenceId) -> String,
) -> Vec<InvoiceLine> {
    let mut lines = Vec::new();
    for earlier in s.earlier.iter().filter(|e| e.month < s.month) {
        // Only a month already invoiced owes an adjustment; one never invoiced is
        // billed whole by its own invoice.
        if !s.issued.iter().any(|i| i.month == earlier.month) {
            continue;
        }
        let billed = billed_for(earlier.month, s.issued);
        for c in &earlier.usage.conferences {
            let before = billed.get(&c.conference_id).copied().unwrap_or_default();
            if c.legs <= before.legs {
                continue;
            }
            lines.push(InvoiceLine {
                conference_id: Some(c.conference_id),
                conference_number: Some(c.conference_number.clone()),
                description: late_legs(
                    earlier.month,
                    &describe(c.conference_id),
                    s.account.language,
                ),
                legs: c.legs - before.legs,
                billable_seconds: c.billable_seconds.saturating_sub(before.seconds),
                amount: c.amount - before.amount,
                adjusted_month: Some(earlier.month),
                rate_per_minute: c.rate_per_minute,
            });
        }
    }
    lines
}

/// What `issued` invoices billed for `month`, per conference.
fn billed_for(month: YearMonth, issued: &[Invoice]) -> HashMap<ConferenceId, Billed> {
    let mut billed: HashMap<ConferenceId, Billed> = HashMap::new();
    for invoice in issued {
        for line in &invoice.lines {
            let for_month = match line.adjusted_month {
                Some(m) => m == month,
                None => invoice.month == month,
            };
            if let (true, Some(id)) = (for_month, line.conference_id) {
                let b = billed.entry(id).or_default();
                b.legs += line.legs;
                b.seconds += line.billable_seconds;
                b.amount += line.amount;
            }
        }
    }
    billed
}

/// The `months` months before `month`, newest first: where its late legs are looked for.
pub fn lookback(month: YearMonth, months: u32) -> impl Iterator<Item = YearMonth> {
    std::iter::successors(Some(month.previous()), |m| Some(m.previous())).take(months as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::usage::meter;
    use crate::billing::usage::tests::leg;
    use crate::{Plan, Province, Tax};
    use chrono::TimeZone;
    use rust_decimal::dec;

    fn at(month: u32, day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, month, day, 15, 0, 0).unwrap()
    }

    struct Fixture {
        account: Account,
        conf: (ConferenceId, &'static str),
        descriptions: HashMap<ConferenceId, String>,
    }

    fn fixture() -> Fixture {
        let mut account = Account::new("Omnivigil", at(1, 1)).unwrap();
        account.province = Some(Province::Qc);
        account.plan = Plan::new(25, dec!(0.09), 60, dec!(10)).unwrap();
        let conf = (ConferenceId::new(), "7654321");
        let descriptions = HashMap::from([(conf.0, "Réunion mensuelle".to_string())]);
        Fixture {
            account,
            conf,
            descriptions,
        }
    }

    fn month(m: &str) -> YearMonth {
        m.parse().unwrap()
    }

    /// November's invoice, issued on December 1st, with no earlier invoice.
    fn november_alone(f: &Fixture, usage: &MonthUsage) -> Invoice {
        make_invoice(&Statement {
            account: &f.account,
            month: month("2026-11"),
            usage,
            earlier: &[],
            issued: &[],
            descriptions: &f.descriptions,
            now: at(12, 1),
        })
    }

    #[test]
    fn a_quebec_invoice_has_usage_fee_gst_and_qst_to_the_cent() {
        let f = fixture();
        // 3 legs of 61 s → 3 × 2 min = 6 min → 0.54; + 10.00 fee = 10.54.
        let legs: Vec<_> = (0..3)
            .map(|_| leg(&f.account, f.conf, at(11, 3), 61_000))
            .collect();
        let usage = meter(&f.account, &legs);
        let invoice = november_alone(&f, &usage);
        assert_eq!(invoice.lines.len(), 1);
        assert_eq!(invoice.lines[0].description, "Réunion mensuelle");
        assert_eq!(invoice.usage_amount, dec!(0.54));
        assert_eq!(invoice.plan_fee, dec!(10.00));
        // GST 5 % of 10.54 = 0.527 → 0.53; QST 9.975 % = 1.0513… → 1.05.
        let taxes: Vec<_> = invoice
            .taxes
            .iter()
            .map(|t| (t.name.as_str(), t.amount))
            .collect();
        assert_eq!(taxes, [("TPS/GST", dec!(0.53)), ("TVQ/QST", dec!(1.05))]);
        assert_eq!(invoice.total, dec!(12.12));
        assert_eq!(
            invoice.due_on,
            NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()
        );
        assert_eq!(
            invoice.number,
            Invoice::number_for(f.account.id, month("2026-11"))
        );
    }

    #[test]
    fn an_account_without_configured_taxes_pays_none() {
        let mut f = fixture();
        f.account.province = None;
        let usage = MonthUsage::default();
        let invoice = november_alone(&f, &usage);
        assert!(invoice.taxes.is_empty());
        assert_eq!(invoice.total, dec!(10.00));
        f.account.plan = f
            .account
            .plan
            .clone()
            .with_taxes(Some(vec![Tax::new("HST", dec!(0.13)).unwrap()]))
            .unwrap();
        let invoice = november_alone(&f, &usage);
        assert_eq!(invoice.total, dec!(11.30));
    }

    #[test]
    fn late_legs_of_an_invoiced_month_are_billed_once_as_adjustments() {
        let f = fixture();
        let october: Vec<_> = (0..2)
            .map(|_| leg(&f.account, f.conf, at(10, 20), 30_000))
            .collect();
        let issue = |m: &str, usage: &MonthUsage, earlier: &[EarlierMonth], issued: &[Invoice]| {
            make_invoice(&Statement {
                account: &f.account,
                month: month(m),
                usage,
                earlier,
                issued,
                descriptions: &f.descriptions,
                now: month(m).next().start_in(f.account.time_zone),
            })
        };
        let oct = issue("2026-10", &meter(&f.account, &october), &[], &[]);
        assert_eq!(oct.lines[0].legs, 2);

        // A third October leg arrives after October's invoice.
        let mut october_now = october.clone();
        october_now.push(leg(&f.account, f.conf, at(10, 31), 59_000));
        let earlier = [EarlierMonth {
            month: month("2026-10"),
            usage: meter(&f.account, &october_now),
        }];
        let nov = issue(
            "2026-11",
            &MonthUsage::default(),
            &earlier,
            std::slice::from_ref(&oct),
        );
        assert_eq!(nov.lines.len(), 1);
        let adj = &nov.lines[0];
        assert_eq!(adj.adjusted_month, Some(month("2026-10")));
        assert_eq!(
            (adj.legs, adj.billable_seconds, adj.amount),
            (1, 60, dec!(0.09))
        );
        assert!(
            adj.description.contains("octobre 2026"),
            "{}",
            adj.description
        );

        // December: nothing new for October, so no second adjustment.
        let dec_ = issue(
            "2026-12",
            &MonthUsage::default(),
            &earlier,
            &[oct.clone(), nov],
        );
        assert!(dec_.lines.is_empty());

        // A month never invoiced owes no adjustment: its own invoice bills it whole.
        let alone = issue("2026-11", &MonthUsage::default(), &earlier, &[]);
        assert!(alone.lines.is_empty());
    }

    #[test]
    fn lookback_covers_the_twelve_previous_months() {
        let months: Vec<String> = lookback(month("2026-03"), LATE_LEG_MONTHS)
            .map(|m| m.to_string())
            .collect();
        assert_eq!(months.len(), 12);
        assert_eq!(months[0], "2026-02");
        assert_eq!(months[11], "2025-03");
    }
}
