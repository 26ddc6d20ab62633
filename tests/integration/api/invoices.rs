//! Invoices (`/v1/invoices`): listed and read by month, as JSON or CSV.

use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use rust_decimal::Decimal;
use teleconf_adapters::store::InvoiceStore;
use teleconf_domain::{CallerRole, Invoice, InvoiceLine, TaxLine, YearMonth};
use teleconf_tests::api::{World, csv_rows};

use super::{dec, error_of, now_secs};

fn invoice(w: &World, month: &str, total_cents: i64) -> Invoice {
    let month: YearMonth = month.parse().unwrap();
    Invoice {
        number: format!("F-{month}-{}", &w.a[..8]),
        account_id: w.account_a_id(),
        account_name: "Omnivigil A".into(),
        language: Default::default(),
        time_zone: chrono_tz::America::Toronto,
        month,
        currency: "USD".into(),
        lines: vec![
            InvoiceLine {
                conference_id: Some(w.conf_op1_id().parse().unwrap()),
                conference_number: Some(
                    w.conf_op1["conference_number"]
                        .as_str()
                        .unwrap()
                        .parse()
                        .unwrap(),
                ),
                description: "Réunion d'Oscar".into(),
                legs: 3,
                billable_seconds: 600,
                amount: Decimal::new(90, 2),
                adjusted_month: None,
                rate_per_minute: Some(Decimal::new(9, 2)),
            },
            InvoiceLine {
                conference_id: None,
                conference_number: None,
                description: "Crédit".into(),
                legs: 0,
                billable_seconds: 0,
                amount: Decimal::new(-10, 2),
                adjusted_month: None,
                rate_per_minute: None,
            },
        ],
        usage_amount: Decimal::new(80, 2),
        plan_fee: Decimal::ZERO,
        taxes: vec![TaxLine {
            name: "TPS".into(),
            rate: Decimal::new(5, 2),
            amount: Decimal::new(4, 2),
        }],
        total: Decimal::new(total_cents, 2),
        issued_at: Utc::now(),
        due_on: chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
    }
}

#[tokio::test]
async fn invoices_are_listed_and_read_by_month_as_json_or_csv() {
    let w = World::new().await;
    let store = &w.api.stack.store;
    store
        .create_invoice(&invoice(&w, "2026-09", 50))
        .await
        .unwrap();
    store
        .create_invoice(&invoice(&w, "2026-10", 84))
        .await
        .unwrap();

    // The current month's running estimate first, then the issued ones.
    let current = YearMonth::of(Utc::now(), chrono_tz::America::Toronto).to_string();
    let list = w.api.get_ok("/v1/invoices", &w.owner.token).await;
    let months: Vec<(&str, &str)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["month"].as_str().unwrap(), i["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        months,
        [
            (current.as_str(), "estimate"),
            ("2026-10", "issued"),
            ("2026-09", "issued")
        ]
    );
    assert!(list[0]["due_on"].is_null() && list[0]["pdf_url"].is_null());
    assert!(list[1]["pdf_url"].is_string());
    let estimate = w
        .api
        .get_ok(&format!("/v1/invoices/{current}"), &w.owner.token)
        .await;
    assert_eq!(estimate["status"], "estimate");
    assert_eq!(dec(&estimate["total"]), Decimal::ZERO);

    let one = w.api.get_ok("/v1/invoices/2026-10", &w.owner.token).await;
    assert_eq!(one["month"], "2026-10");
    assert_eq!(one["currency"], "USD");
    assert_eq!(dec(&one["total"]), Decimal::new(84, 2));
    assert_eq!(one["lines"].as_array().unwrap().len(), 2);
    assert_eq!(
        one["lines"][0]["conference_number"],
        w.conf_op1["conference_number"]
    );
    assert_eq!(dec(&one["lines"][0]["billable_minutes"]), Decimal::from(10));
    assert_eq!(one["taxes"][0]["name"], "TPS");

    let res = w.api.get_csv("/v1/invoices/2026-10", &w.owner.token).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.content_type().starts_with("text/csv"));
    let text = res.text();
    let lines: Vec<&str> = text.lines().collect();
    // Two lines, then the plan fee, subtotal, one tax and the total.
    assert_eq!(lines.len(), 7, "{text}");
    for column in ["conference_number", "description", "legs", "amount"] {
        assert!(lines[0].split(',').any(|c| c == column), "{text}");
    }
    assert!(lines[1].contains(w.conf_op1["conference_number"].as_str().unwrap()));

    for missing in [
        "/v1/invoices/2026-08",
        "/v1/invoices/2099-01",
        "/v1/invoices/not-a-month",
    ] {
        let (status, body, _) = w
            .api
            .call(Method::GET, missing, Some(&w.owner.token), None)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}: {body}");
        assert_eq!(error_of(&body)["code"], "not_found");
    }
}

#[tokio::test]
async fn every_conference_line_of_an_invoice_csv_gives_its_rate() {
    let w = World::new().await;
    w.put_leg(
        &w.conf_owner,
        now_secs() - Duration::minutes(30),
        125,
        CallerRole::Participant,
    )
    .await;
    let current = YearMonth::of(Utc::now(), chrono_tz::America::Toronto).to_string();
    let res = w
        .api
        .get_csv(&format!("/v1/invoices/{current}"), &w.owner.token)
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let rows = csv_rows(&res.body);
    let line = rows
        .iter()
        .find(|r| r["kind"] == "conference")
        .unwrap_or_else(|| panic!("no conference line: {}", res.text()));
    // 125 s → 3 whole minutes at the plan's 0.09.
    assert_eq!(line["billable_minutes"], "3.00");
    assert_eq!(line["rate"], "0.09");
    assert_eq!(line["amount"], "0.27");
    // The JSON line says it too.
    let json = w
        .api
        .get_ok(&format!("/v1/invoices/{current}"), &w.owner.token)
        .await;
    assert_eq!(
        dec(&json["lines"][0]["rate_per_minute"]),
        Decimal::new(9, 2)
    );
}
