//! Billing (#7) against the emulator: a month of synthetic CDRs for two accounts,
//! billed by the handler from the sample scheduled event; invoices checked against a
//! recomputation written here, the CSVs in S3 parsed, the PDF read back with
//! `pdftotext`, one invoice mail per owner, the finance export through the API, an
//! idempotent re-run, and a late leg landing on the next month's invoice.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;

use axum::http::{Method, StatusCode};
use chrono::{DateTime, Duration, TimeZone, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use teleconf_adapters::blobs::BlobStore;
use teleconf_adapters::store::conformance::create_conference;
use teleconf_adapters::store::{AccountStore, CdrStore, InvoiceStore, UserStore};
use teleconf_billing::issue::Outcome;
use teleconf_billing::{Billing, BillingRequest, handle};
use teleconf_domain::BlobKey;
use teleconf_domain::billing::usage::synthetic_leg;
use teleconf_domain::invoice::words::{money, subject};
use teleconf_domain::messages::Branding;
use teleconf_domain::testkit::unique_email;
use teleconf_domain::{
    Account, CallLeg, Conference, Invoice, Language, Plan, Province, Role, User, YearMonth,
};
use teleconf_tests::api::{PASSWORD, TestApi, csv_rows};
use teleconf_tests::lambdas::MailLoop;
use teleconf_tests::outbox::sent_to;
use teleconf_tests::stack::{Stack, built_binary};

/// Two customers: a Québec account in French with a monthly fee (GST and QST by
/// default), and an English one elsewhere, billed by 6-second steps at 0.12.
struct Customer {
    account: Account,
    owners: Vec<User>,
    admin: User,
    conferences: Vec<Conference>,
    legs: Vec<CallLeg>,
}

async fn customer(
    api: &TestApi,
    name: &str,
    language: Language,
    plan: Plan,
    province: Option<Province>,
) -> Customer {
    let store = &api.stack.store;
    let created = Utc.with_ymd_and_hms(2026, 9, 1, 12, 0, 0).unwrap();
    let mut account = Account::new(name, created).unwrap();
    account.language = language;
    account.plan = plan;
    account.province = province;
    store.create_account(&account).await.unwrap();
    let user = |role, name: &str| {
        User::new(account.id, unique_email(), name, role, PASSWORD, created).unwrap()
    };
    let owners = vec![
        user(Role::Owner, "Olivia Owner"),
        user(Role::Owner, "Oscar Owner"),
    ];
    let admin = user(Role::ConferenceAdmin, "Ada Admin");
    for u in owners.iter().chain([&admin]) {
        store.create_user(u).await.unwrap();
    }
    let mut conferences = Vec::new();
    for _ in 0..2 {
        conferences.push(create_conference(store, &owners[0]).await);
    }
    Customer {
        account,
        owners,
        admin,
        conferences,
        legs: Vec::new(),
    }
}

/// A closed leg of the customer's `conference`, `millis` long, stored.
async fn call(
    stack: &Stack,
    c: &mut Customer,
    conference: usize,
    joined: DateTime<Utc>,
    millis: i64,
) -> CallLeg {
    let conf = &c.conferences[conference];
    let leg = synthetic_leg(&c.account, conf.id, conf.number.clone(), joined, millis);
    stack.store.put_leg(&leg).await.unwrap();
    c.legs.push(leg.clone());
    leg
}

/// A month of calls: `n` legs spread over October (lengths from 0 to about 49 min,
/// a deterministic spread), and one that starts at 23:30 on October 31 (Toronto)
/// and runs past midnight into November: October's.
async fn october_of_calls(stack: &Stack, c: &mut Customer, n: i64, seed: i64) {
    for i in 0..n {
        let joined = Utc.with_ymd_and_hms(2026, 10, 2, 13, 0, 0).unwrap()
            + Duration::hours((i * 11) % (28 * 24))
            + Duration::seconds(i);
        let millis = ((i * 7_919 + seed) % 2_950) * 1_000 + (i % 3) * 333;
        call(stack, c, (i % 2) as usize, joined, millis).await;
    }
    let late_evening = Utc.with_ymd_and_hms(2026, 11, 1, 3, 30, 0).unwrap(); // 23:30 Oct 31 in Toronto
    call(stack, c, 0, late_evening, 75 * 60_000).await;
}

/// The same rules, computed here without the billing code: each leg rounded up to
/// the increment, seconds summed per conference, `rate × s / 60` to the cent per
/// conference, the fee, each tax on the subtotal to the cent, the total.
fn recompute(c: &Customer, legs: &[&CallLeg]) -> (Decimal, Decimal) {
    let plan = &c.account.plan;
    let step = i64::from(plan.increment_secs()) * 1_000;
    let mut per_conference: BTreeMap<_, i64> = BTreeMap::new();
    for leg in legs {
        let ms = (leg.left_at.unwrap() - leg.joined_at).num_milliseconds();
        let steps = (ms + step - 1) / step;
        *per_conference.entry(leg.conference_id).or_default() += steps * step / 1_000;
    }
    let cents = |d: Decimal| d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    let usage: Decimal = per_conference
        .values()
        .map(|&s| cents(plan.rate_per_minute() * Decimal::from(s) / Decimal::from(60)))
        .sum();
    let subtotal = usage + plan.monthly_fee();
    let taxes: Decimal = c
        .account
        .taxes_under(plan)
        .iter()
        .map(|t| cents(subtotal * t.rate()))
        .sum();
    (usage, subtotal + taxes)
}

/// The monthly event from `events/`, fired at `time`.
fn monthly_event(time: &str) -> BillingRequest {
    let mut event: serde_json::Value =
        serde_json::from_str(include_str!("../../events/billing-monthly.json")).unwrap();
    event["time"] = time.into();
    BillingRequest::from_event(&event).unwrap()
}

async fn object(stack: &Stack, key: &BlobKey) -> Vec<u8> {
    stack
        .blobs
        .get(key)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{} is not in S3", key.as_str()))
}

fn pdf_text(pdf: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!("teleconf-invoice-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("invoice.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils, installed by make deps-tools)");
    assert!(out.status.success(), "pdftotext failed");
    let _ = std::fs::remove_dir_all(&dir);
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn a_month_of_cdrs_is_billed_once_with_files_mails_an_export_and_late_legs_next_month() {
    let api = TestApi::new().await;
    let stack = api.stack.clone();
    let deps = Billing {
        store: api.state.store.clone(),
        blobs: Arc::new(stack.blobs.clone()),
        branding: Branding::default(),
    };
    let mut quebec = customer(
        &api,
        "Omnivigil Solutions",
        Language::Fr,
        Plan::new(25, Decimal::new(9, 2), 60, Decimal::new(1_000, 2)).unwrap(),
        Some(Province::Qc),
    )
    .await;
    let mut ontario = customer(
        &api,
        "Northwind Traders",
        Language::En,
        Plan::new(25, Decimal::new(12, 2), 6, Decimal::ZERO).unwrap(),
        Some(Province::On),
    )
    .await;
    october_of_calls(&stack, &mut quebec, 40, 17).await;
    october_of_calls(&stack, &mut ontario, 25, 5).await;
    let october: YearMonth = "2026-10".parse().unwrap();

    // --- The monthly run on November 1st bills October.
    let report = handle(&deps, &monthly_event("2026-11-01T12:00:00Z"))
        .await
        .unwrap();
    let issued: Vec<Invoice> = report.issued().cloned().collect();
    assert_eq!(issued.len(), 2, "{report:?}");
    // The mailer reads the invoice items off the table's stream: one mail per owner,
    // the PDF attached.
    MailLoop::over_ses(&stack).await.pump().await;

    for c in [&quebec, &ontario] {
        let invoice = stack
            .store
            .invoice(c.account.id, october)
            .await
            .unwrap()
            .unwrap();
        let legs: Vec<&CallLeg> = c.legs.iter().collect();
        let (usage, total) = recompute(c, &legs);
        assert_eq!(
            (invoice.usage_amount, invoice.total),
            (usage, total),
            "{}",
            c.account.name
        );
        assert_eq!(invoice.lines.len(), 2);
        assert_eq!(
            invoice.lines.iter().map(|l| l.legs).sum::<u64>(),
            legs.len() as u64
        );

        // The invoice CSV: its total row is the invoice's total.
        let rows = csv_rows(&object(&stack, &BlobKey::invoice_csv(c.account.id, october)).await);
        let total_row = rows.iter().find(|r| r["kind"] == "total").unwrap();
        assert_eq!(total_row["amount"].parse::<Decimal>().unwrap(), total);
        assert_eq!(rows.iter().filter(|r| r["kind"] == "conference").count(), 2);
        // Each conference line gives the rate its minutes were priced at.
        let rate = c.account.plan.rate_per_minute().normalize().to_string();
        for line in rows.iter().filter(|r| r["kind"] == "conference") {
            assert_eq!(line["rate"], rate, "{}: {line:?}", c.account.name);
        }
        // The CDR detail: one row per leg, the midnight-spanning one included.
        let detail = csv_rows(&object(&stack, &BlobKey::invoice_cdrs(c.account.id, october)).await);
        assert_eq!(detail.len(), legs.len());
        assert!(
            detail
                .iter()
                .any(|r| r["joined_at"].starts_with("2026-10-31T23:30:00"))
        );

        // The PDF holds the number, the total and each tax.
        let text = pdf_text(&object(&stack, &BlobKey::invoice_pdf(c.account.id, october)).await);
        let lang = c.account.language;
        assert!(text.contains(&invoice.number), "{text}");
        assert!(text.contains(&money(total, "USD", lang)), "{text}");
        for tax in &invoice.taxes {
            assert!(text.contains(&tax.name), "{text}");
        }
        assert!(text.contains(&c.account.name), "{text}");

        // One invoice mail per owner, the PDF attached; none to the administrator.
        let invoice_mails = |mails: Vec<teleconf_tests::outbox::SentMail>| {
            mails
                .into_iter()
                .filter(|m| m.attachments.iter().any(|a| a.1 == "application/pdf"))
                .collect::<Vec<_>>()
        };
        for owner in &c.owners {
            let mails = invoice_mails(sent_to(owner.email.as_str()).await.unwrap());
            assert_eq!(mails.len(), 1, "{}: {mails:?}", owner.email);
            assert_eq!(mails[0].subject, subject(october, lang));
        }
        assert!(invoice_mails(sent_to(c.admin.email.as_str()).await.unwrap()).is_empty());
    }
    let quebec_oct = stack
        .store
        .invoice(quebec.account.id, october)
        .await
        .unwrap()
        .unwrap();
    let names: Vec<&str> = quebec_oct.taxes.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["TPS/GST", "TVQ/QST"]);
    let ontario_oct = stack
        .store
        .invoice(ontario.account.id, october)
        .await
        .unwrap()
        .unwrap();
    assert!(ontario_oct.taxes.is_empty());

    // --- The finance export lists both accounts, and only finance reads it.
    let export = object(&stack, &BlobKey::finance_export(october)).await;
    let rows = csv_rows(&export);
    assert_eq!(rows.len(), 2);
    for invoice in [&quebec_oct, &ontario_oct] {
        let row = rows
            .iter()
            .find(|r| r["invoice_number"] == invoice.number)
            .unwrap();
        assert_eq!(row["account_id"], invoice.account_id.to_string());
        assert_eq!(row["total"].parse::<Decimal>().unwrap(), invoice.total);
    }
    let finance = {
        let provider = Account::new("Fournisseur", Utc::now()).unwrap();
        stack.store.create_account(&provider).await.unwrap();
        let user = User::new(
            provider.id,
            unique_email(),
            "Fiona Finance",
            Role::Finance,
            PASSWORD,
            Utc::now(),
        )
        .unwrap();
        stack.store.create_user(&user).await.unwrap();
        api.login(user.email.as_str(), PASSWORD).await
    };
    let res = api
        .raw(
            Method::GET,
            "/v1/exports/2026-10",
            Some(&finance),
            &[],
            vec![],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.body, export);
    let (status, _, _) = api
        .call(Method::GET, "/v1/exports/2026-09", Some(&finance), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let owner = api.login(quebec.owners[0].email.as_str(), PASSWORD).await;
    let (status, _, _) = api
        .call(Method::GET, "/v1/exports/2026-10", Some(&owner), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The owner sees the issued invoice through the API.
    let listed = api.get_ok("/v1/invoices/2026-10", &owner).await;
    assert_eq!(listed["status"], "issued");
    assert_eq!(
        listed["total"]
            .as_str()
            .unwrap()
            .parse::<Decimal>()
            .unwrap(),
        quebec_oct.total
    );

    // --- A re-run: no second invoice, no second mail, the same bytes everywhere.
    let keys: Vec<BlobKey> = [&quebec, &ontario]
        .iter()
        .flat_map(|c| {
            [
                BlobKey::invoice_csv(c.account.id, october),
                BlobKey::invoice_pdf(c.account.id, october),
                BlobKey::invoice_cdrs(c.account.id, october),
            ]
        })
        .chain([BlobKey::finance_export(october)])
        .collect();
    let mut before = Vec::new();
    for key in &keys {
        before.push(object(&stack, key).await);
    }
    let again = handle(&deps, &monthly_event("2026-11-02T08:00:00Z"))
        .await
        .unwrap();
    assert_eq!(again.issued().count(), 0);
    assert!(
        again
            .accounts
            .iter()
            .all(|(_, _, o)| matches!(o, Outcome::AlreadyIssued(_)))
    );
    for (key, bytes) in keys.iter().zip(&before) {
        assert_eq!(
            &object(&stack, key).await,
            bytes,
            "{} changed",
            key.as_str()
        );
    }
    assert_eq!(
        stack.store.invoices(quebec.account.id).await.unwrap(),
        vec![quebec_oct.clone()]
    );

    // --- A leg of October arrives late (spooled on a node), after October's invoice.
    let late = call(
        &stack,
        &mut quebec,
        1,
        Utc.with_ymd_and_hms(2026, 10, 30, 14, 0, 0).unwrap(),
        125_000,
    )
    .await;
    let report = handle(&deps, &monthly_event("2026-12-01T12:00:00Z"))
        .await
        .unwrap();
    let november: YearMonth = "2026-11".parse().unwrap();
    let nov = stack
        .store
        .invoice(quebec.account.id, november)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(nov.lines.len(), 1, "{nov:?}");
    let adjustment = &nov.lines[0];
    assert_eq!(adjustment.adjusted_month, Some(october));
    assert_eq!(adjustment.conference_id, Some(late.conference_id));
    assert_eq!((adjustment.legs, adjustment.billable_seconds), (1, 180));
    // Together, October's invoice and November's adjustment bill every October leg
    // exactly as a recomputation of October with the late leg would.
    let october_legs: Vec<&CallLeg> = quebec.legs.iter().filter(|l| l.month == october).collect();
    let (october_usage, _) = recompute(&quebec, &october_legs);
    assert_eq!(quebec_oct.usage_amount + adjustment.amount, october_usage);
    // October's invoice did not change; Ontario had nothing to bill in November.
    assert_eq!(
        stack
            .store
            .invoice(quebec.account.id, october)
            .await
            .unwrap(),
        Some(quebec_oct)
    );
    assert!(
        report
            .accounts
            .iter()
            .any(|(a, _, o)| *a == ontario.account.id && *o == Outcome::NothingToBill)
    );
    let rows = csv_rows(&object(&stack, &BlobKey::invoice_csv(quebec.account.id, november)).await);
    assert!(
        rows.iter()
            .any(|r| r["kind"] == "adjustment" && r["usage_month"] == "2026-10")
    );
}

#[tokio::test]
async fn the_provider_sets_an_accounts_province_and_plan_taxes_and_a_plan_change_keeps_history() {
    let api = TestApi::new().await;
    let provider = teleconf_tests::api::seed_provider_admin(&api).await;
    let (account, _) = teleconf_tests::api::create_account(&api, &provider, "Taxes Inc.").await;
    let path = format!("/v1/accounts/{}", account["id"].as_str().unwrap());
    assert!(account["province"].is_null() && account["plan"]["taxes"].is_null());

    let patch = |body: serde_json::Value| {
        let (api, path, token) = (&api, &path, &provider.token);
        async move { api.call(Method::PATCH, path, Some(token), Some(body)).await }
    };
    let (status, body, _) = patch(serde_json::json!({ "province": "QC" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["province"], "QC");
    let (status, body, _) = patch(serde_json::json!({
        "plan": { "rate_per_minute": "0.12", "taxes": [{ "name": "HST", "rate": "0.13" }] }
    }))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["plan"]["taxes"][0]["name"], "HST");
    let (status, body, _) =
        patch(serde_json::json!({ "plan": { "taxes": [{ "name": "HST", "rate": "1.5" }] } })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body, _) = patch(serde_json::json!({ "province": "XX" })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let id = account["id"].as_str().unwrap().parse().unwrap();
    let stored = api.stack.store.account(id).await.unwrap().unwrap();
    assert_eq!(stored.province, Some(Province::Qc));
    assert_eq!(stored.plan.rate_per_minute(), Decimal::new(12, 2));
    // Calls made before the change keep the seed's rate.
    assert_eq!(stored.plan_history.len(), 1);
    assert_eq!(
        stored.plan_at(stored.created_at).rate_per_minute(),
        Decimal::new(9, 2)
    );
}

#[tokio::test]
async fn billing_a_month_that_has_not_ended_is_refused_in_one_line_without_a_backtrace() {
    let stack = Stack::new().await;
    let account = Account::new("Omnivigil Solutions", Utc::now() - Duration::days(90)).unwrap();
    stack.store.create_account(&account).await.unwrap();
    let this_month = YearMonth::of(Utc::now(), account.time_zone);
    // `make bill MONTH=<this month>` runs exactly this.
    let out = Command::new(built_binary("teleconf-billing"))
        .args(["--month", &this_month.to_string()])
        .envs(stack.binary_env())
        // Backtraces on, as a developer's shell may have them: still none printed.
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("teleconf-billing runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line, not {stderr:?}");
    assert_eq!(
        lines[0],
        format!(
            "teleconf-billing: {this_month} has not ended yet in America/Toronto: a month is billed once it has ended (the last that has is {})",
            this_month.previous()
        )
    );
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Nothing was billed.
    assert!(
        stack
            .store
            .invoice(account.id, this_month)
            .await
            .unwrap()
            .is_none()
    );
}
