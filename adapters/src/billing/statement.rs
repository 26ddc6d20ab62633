//! Reads what an invoice is made from out of the store and makes it: the month's
//! legs, the earlier invoiced months' legs (for late legs), the issued invoices and
//! the conference descriptions. The billing function issues what this returns; the
//! API shows it as the running estimate of the current month.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::error::Result;
use crate::store::{CdrStore, ConferenceStore, InvoiceStore};
use teleconf_domain::billing::invoice::{EarlierMonth, Statement, lookback, make_invoice};
use teleconf_domain::billing::usage::{MonthUsage, meter};
use teleconf_domain::{Account, CallLeg, Invoice, YearMonth};

/// The invoice `account` would get for `month` if it were issued at `now`, with late
/// legs looked for in the `late_leg_months` months before (each an invoiced month's
/// legs read again), and the month's own legs (for the CDR detail). Never writes.
pub async fn draft_invoice<S>(
    store: &S,
    account: &Account,
    month: YearMonth,
    now: DateTime<Utc>,
    late_leg_months: u32,
) -> Result<(Invoice, Vec<CallLeg>)>
where
    S: CdrStore + ConferenceStore + InvoiceStore + ?Sized,
{
    let legs = store.legs_of_month(account.id, month).await?;
    let usage = meter(account, &legs);
    let issued: Vec<Invoice> = store
        .invoices(account.id)
        .await?
        .into_iter()
        .filter(|i| i.month != month)
        .collect();
    let mut earlier = Vec::new();
    for m in lookback(month, late_leg_months).filter(|m| issued.iter().any(|i| i.month == *m)) {
        earlier.push(EarlierMonth {
            month: m,
            usage: earlier_usage(store, account, m).await?,
        });
    }
    let descriptions: HashMap<_, _> = store
        .conferences(account.id)
        .await?
        .into_iter()
        .map(|c| (c.id, c.description))
        .collect();
    let invoice = make_invoice(&Statement {
        account,
        month,
        usage: &usage,
        earlier: &earlier,
        issued: &issued,
        descriptions: &descriptions,
        now,
    });
    Ok((invoice, legs))
}

async fn earlier_usage<S>(store: &S, account: &Account, month: YearMonth) -> Result<MonthUsage>
where
    S: CdrStore + ?Sized,
{
    Ok(meter(
        account,
        &store.legs_of_month(account.id, month).await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;
    use crate::store::{AccountStore, CdrStore, InvoiceStore};
    use chrono::TimeZone;
    use rust_decimal::dec;
    use teleconf_domain::billing::invoice::LATE_LEG_MONTHS;
    use teleconf_domain::billing::usage::synthetic_leg;
    use teleconf_domain::{ConferenceId, ConferenceNumber};

    fn leg(account: &Account, conference: ConferenceId, at: DateTime<Utc>, ms: i64) -> CallLeg {
        let number: ConferenceNumber = "7654321".parse().unwrap();
        synthetic_leg(account, conference, number, at, ms)
    }

    #[tokio::test]
    async fn a_late_leg_found_in_the_store_lands_on_the_next_invoice() {
        let store = MemoryStore::new();
        let t = |m, d| Utc.with_ymd_and_hms(2026, m, d, 15, 0, 0).unwrap();
        let account = Account::new("Omnivigil", t(1, 1)).unwrap();
        store.create_account(&account).await.unwrap();
        let conf = ConferenceId::new();
        store
            .put_leg(&leg(&account, conf, t(10, 5), 60_000))
            .await
            .unwrap();
        let october: YearMonth = "2026-10".parse().unwrap();
        let (oct, legs) = draft_invoice(&store, &account, october, t(11, 1), LATE_LEG_MONTHS)
            .await
            .unwrap();
        assert_eq!(legs.len(), 1);
        assert_eq!(oct.lines[0].description, "Conférence supprimée");
        store.create_invoice(&oct).await.unwrap();

        store
            .put_leg(&leg(&account, conf, t(10, 31), 120_000))
            .await
            .unwrap();
        let (nov, legs) =
            draft_invoice(&store, &account, october.next(), t(12, 1), LATE_LEG_MONTHS)
                .await
                .unwrap();
        assert!(legs.is_empty());
        assert_eq!(nov.lines.len(), 1);
        assert_eq!(nov.lines[0].adjusted_month, Some(october));
        assert_eq!(nov.usage_amount, dec!(0.18));
        // Re-drafting October changes nothing that was issued: it is in the store.
        assert_eq!(store.invoice(account.id, october).await.unwrap(), Some(oct));
    }
}
