//! The handler: a billing run over every account (or one), then the finance export
//! of each month billed.

use std::collections::BTreeSet;

use teleconf_domain::{AccountId, YearMonth};

use crate::Billing;
use crate::error::BillingError;
use crate::event::BillingRequest;
use crate::export::write_finance_export;
use crate::issue::{Outcome, issue};

/// What a run did, account by account.
#[derive(Debug, Default)]
pub struct Report {
    /// Each account billed, with its month and what happened.
    pub accounts: Vec<(AccountId, YearMonth, Outcome)>,
    /// Each month whose finance export was written, with the invoices it lists.
    pub exports: Vec<(YearMonth, usize)>,
}

impl Report {
    /// The invoices this run issued (each is mailed once).
    pub fn issued(&self) -> impl Iterator<Item = &teleconf_domain::Invoice> {
        self.accounts.iter().filter_map(|(_, _, o)| match o {
            Outcome::Issued(invoice) => Some(invoice),
            _ => None,
        })
    }
}

/// Runs `request`. A month named that has not ended yet is refused whole
/// ([`BillingError::MonthNotOver`]). An account that fails is logged and the others
/// are still billed and exported; the run then answers [`BillingError::Incomplete`]
/// so that the invocation is retried (a retry bills only what is missing).
pub async fn handle(deps: &Billing, request: &BillingRequest) -> Result<Report, BillingError> {
    let accounts = match request.account {
        Some(id) => vec![
            deps.store
                .account(id)
                .await?
                .ok_or(teleconf_adapters::Error::NotFound("account"))?,
        ],
        None => deps.store.accounts().await?,
    };
    // A month asked for by name is billed once it has ended for every account: one
    // not over yet is a mistake in the request, refused before anything is written.
    if let Some(month) = request.month {
        for account in &accounts {
            BillingError::unless_over(month, account.time_zone, request.now)?;
        }
    }
    let mut report = Report::default();
    let mut months = BTreeSet::new();
    let mut failed = 0;
    for account in &accounts {
        let month = request
            .month
            .unwrap_or_else(|| YearMonth::of(request.now, account.time_zone).previous());
        // An account created after the month ended has nothing to pay for it.
        if account.created_at >= month.end_in(account.time_zone) {
            continue;
        }
        match issue(deps, account, month, request.now).await {
            Ok(outcome) => {
                months.insert(month);
                report.accounts.push((account.id, month, outcome));
            }
            Err(e) => {
                failed += 1;
                tracing::error!(account = %account.id, %month, error = %e, "account not billed");
            }
        }
    }
    for month in months {
        let (_, listed) = write_finance_export(deps, month).await?;
        report.exports.push((month, listed));
    }
    if failed > 0 {
        return Err(BillingError::Incomplete {
            failed,
            accounts: accounts.len(),
        });
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use chrono::{TimeZone, Utc};
    use rust_decimal::dec;
    use teleconf_adapters::blobs::{BlobStore, MemoryBlobs};
    use teleconf_adapters::store::memory::MemoryStore;
    use teleconf_adapters::store::{AccountStore, CdrStore};
    use teleconf_domain::BlobKey;
    use teleconf_domain::billing::usage::synthetic_leg;
    use teleconf_domain::{Account, ConferenceId, Province};

    fn monthly_event() -> BillingRequest {
        let event = serde_json::from_str(include_str!("../../../events/billing-monthly.json"))
            .expect("the sample event is JSON");
        BillingRequest::from_event(&event).expect("the sample event reads")
    }

    async fn world() -> (Billing, Account, Arc<MemoryBlobs>) {
        let store = Arc::new(MemoryStore::new());
        let blobs = Arc::new(MemoryBlobs::default());
        let created = Utc.with_ymd_and_hms(2026, 10, 1, 12, 0, 0).unwrap();
        let mut account = Account::new("Omnivigil", created).unwrap();
        account.province = Some(Province::Qc);
        store.create_account(&account).await.unwrap();
        // A provider-like account with nothing to bill gets no invoice.
        store
            .create_account(&Account::new("Fournisseur", created).unwrap())
            .await
            .unwrap();
        let conference = ConferenceId::new();
        // Two legs in November; one started at 23:30 on Nov 30 in Toronto (Dec 1 in
        // UTC) and ran past midnight: November's.
        for (joined, secs) in [
            (Utc.with_ymd_and_hms(2026, 11, 10, 15, 0, 0).unwrap(), 61),
            (Utc.with_ymd_and_hms(2026, 12, 1, 4, 30, 0).unwrap(), 3_600),
        ] {
            let number = "7654321".parse().unwrap();
            let leg = synthetic_leg(&account, conference, number, joined, secs * 1_000);
            store.put_leg(&leg).await.unwrap();
        }
        let deps = Billing {
            store,
            blobs: blobs.clone(),
            branding: Default::default(),
        };
        (deps, account, blobs)
    }

    #[tokio::test]
    async fn the_monthly_event_issues_last_months_invoice_once_with_its_files() {
        let (deps, account, blobs) = world().await;
        let request = monthly_event();
        let report = handle(&deps, &request).await.unwrap();
        assert_eq!(report.issued().count(), 1);
        let invoice = report.issued().next().unwrap().clone();
        assert_eq!(invoice.month.to_string(), "2026-11");
        // 2 min + 60 min = 62 min × 0.09 = 5.58; GST 0.28, QST 0.56.
        assert_eq!(invoice.usage_amount, dec!(5.58));
        assert_eq!(invoice.total, dec!(6.42));
        assert_eq!(report.exports, vec![(invoice.month, 1)]);

        let month = invoice.month;
        let files = [
            BlobKey::invoice_csv(account.id, month),
            BlobKey::invoice_pdf(account.id, month),
            BlobKey::invoice_cdrs(account.id, month),
            BlobKey::finance_export(month),
        ];
        let mut first = Vec::new();
        for key in &files {
            assert!(blobs.get(key).await.unwrap().is_some(), "{}", key.as_str());
            first.push(blobs.get(key).await.unwrap().unwrap_or_default());
        }

        // Again: nothing new is issued and every file has the same bytes.
        let again = handle(&deps, &request).await.unwrap();
        assert_eq!(again.issued().count(), 0);
        assert!(matches!(again.accounts[0].2, Outcome::AlreadyIssued(_)));
        for (key, bytes) in files.iter().zip(&first) {
            assert_eq!(
                &blobs.get(key).await.unwrap().unwrap(),
                bytes,
                "{}",
                key.as_str()
            );
        }
        assert_eq!(
            deps.store.invoice(account.id, month).await.unwrap(),
            Some(invoice)
        );
    }

    #[tokio::test]
    async fn a_month_that_has_not_ended_is_not_billed() {
        let (deps, account, _) = world().await;
        let mut request = monthly_event();
        request.month = Some("2026-12".parse().unwrap());
        for one in [Some(account.id), None] {
            request.account = one;
            let refused = handle(&deps, &request).await.unwrap_err();
            assert!(!refused.is_retryable());
            assert_eq!(
                refused.to_string(),
                "2026-12 has not ended yet in America/Toronto: a month is billed once it has ended (the last that has is 2026-11)"
            );
        }
        assert!(deps.store.invoices(account.id).await.unwrap().is_empty());
        assert!(
            deps.blobs
                .get(&BlobKey::finance_export("2026-12".parse().unwrap()))
                .await
                .unwrap()
                .is_none()
        );
    }
}
