//! Invoices: issued once per account and month.

use chrono::Utc;
use teleconf_domain::Invoice;

use super::account_with_owner;
use crate::error::Error;
use crate::store::Store;

pub async fn an_invoice_is_issued_once_per_month(store: &impl Store) {
    let (account, _) = account_with_owner(store).await;
    let invoice = |month: &str, total: u32| Invoice {
        number: format!("F-{month}"),
        account_id: account.id,
        account_name: account.name.clone(),
        language: account.language,
        time_zone: account.time_zone,
        month: month.parse().unwrap(),
        currency: "USD".into(),
        lines: Vec::new(),
        usage_amount: total.into(),
        plan_fee: 0.into(),
        taxes: Vec::new(),
        total: total.into(),
        issued_at: Utc::now(),
        due_on: chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
    };
    let october = invoice("2026-10", 12);
    store.create_invoice(&october).await.unwrap();
    assert!(matches!(
        store.create_invoice(&invoice("2026-10", 99)).await,
        Err(Error::Conflict("invoice"))
    ));
    store.create_invoice(&invoice("2026-11", 30)).await.unwrap();
    assert_eq!(
        store
            .invoice(account.id, "2026-10".parse().unwrap())
            .await
            .unwrap(),
        Some(october)
    );
    let months: Vec<String> = store
        .invoices(account.id)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.month.to_string())
        .collect();
    assert_eq!(months, ["2026-11", "2026-10"]);
}
