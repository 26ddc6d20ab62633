//! `make bench-billing`: the billing core's legs per second, and a month of 100k
//! legs billed end to end against the emulator.
//!
//! 1. In memory: 1,000,000 synthetic closed legs of one account (4,000 conferences,
//!    lengths 0 s to 3 h, joins spread over November) metered and priced by
//!    `teleconf_domain::billing::usage::meter`, the pure function the billing Lambda
//!    runs; best and median of 5 runs on one thread.
//! 2. End to end (needs `AWS_ENDPOINT_URL`, as `make bench-billing` sets; with
//!    longer SDK timeouts than production's, for the emulator's slow queries): 100,000
//!    legs of one account over 1,000 conferences imported into a fresh table, then the
//!    handler bills the month: the legs queried from DynamoDB, priced, the CSVs and the
//!    PDF written to S3, the invoice created, the finance export written.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::timeout::TimeoutConfig;
use chrono::{TimeZone, Utc};
use teleconf_adapters::aws::{AwsSettings, Clients, sdk_loader};
use teleconf_adapters::blobs::S3Blobs;
use teleconf_adapters::store::dynamo::DynamoStore;
use teleconf_adapters::store::memory::MemoryStore;
use teleconf_adapters::store::{AccountStore, CdrStore};
use teleconf_billing::{Billing, BillingRequest, handle};
use teleconf_domain::billing::usage::{meter, synthetic_leg};
use teleconf_domain::{Account, CallLeg, ConferenceId, ConferenceNumber, YearMonth};

/// A small deterministic generator (no dependency, the same legs every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

fn synthetic_legs(account: &Account, legs: usize, conferences: usize) -> Vec<CallLeg> {
    let month: YearMonth = "2026-11".parse().expect("a month");
    let start = month.start_in(account.time_zone);
    let confs: Vec<(ConferenceId, ConferenceNumber)> = (0..conferences)
        .map(|i| {
            let number = format!("{}", 2_000_000 + i).parse().expect("7 digits");
            (ConferenceId::new(), number)
        })
        .collect();
    let mut rng = Lcg(7);
    (0..legs)
        .map(|_| {
            let (conference_id, number) = &confs[(rng.next() as usize) % conferences];
            // Joins over the first 29 days, so every leg is November's.
            let joined = start + chrono::Duration::seconds((rng.next() % (29 * 86_400)) as i64);
            let ms = (rng.next() % (3 * 3_600_000)) as i64;
            synthetic_leg(account, *conference_id, number.clone(), joined, ms)
        })
        .collect()
}

fn in_memory() {
    const LEGS: usize = 1_000_000;
    let account = Account::new("Bench", Utc::now()).expect("an account");
    let legs = synthetic_legs(&account, LEGS, 4_000);
    let mut times = Vec::new();
    let mut total = rust_decimal::Decimal::ZERO;
    for _ in 0..5 {
        let t = Instant::now();
        let usage = meter(&account, &legs);
        times.push(t.elapsed());
        total = usage.amount();
    }
    times.sort();
    let rate = |d: Duration| LEGS as f64 / d.as_secs_f64();
    println!(
        "billing core, in memory: {LEGS} legs, {} conferences, {total} USD: best {:.3} s = {:.0} legs/s, median {:.3} s = {:.0} legs/s (goal ≥ 1000000 legs/s)",
        4_000,
        times[0].as_secs_f64(),
        rate(times[0]),
        times[2].as_secs_f64(),
        rate(times[2]),
    );
}

async fn end_to_end() -> anyhow::Result<()> {
    const LEGS: usize = 100_000;
    let mut settings = AwsSettings::from_env()?;
    if settings.endpoint_url.is_none() {
        anyhow::bail!(
            "AWS_ENDPOINT_URL is not set: run `make bench-billing`, which starts the emulator"
        );
    }
    settings.table = format!(
        "teleconf-bench-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    // The emulator answers a query page of a 100k-item month in seconds, not the
    // milliseconds of DynamoDB that the production timeouts (5 s per attempt) assume.
    let slow_emulator = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(2))
        .operation_attempt_timeout(Duration::from_secs(300))
        .operation_timeout(Duration::from_secs(900))
        .build();
    let sdk = sdk_loader().timeout_config(slow_emulator).load().await;
    let clients = Clients::from_sdk_config(&sdk, &settings);
    teleconf_infra::provision::provision(&clients, &settings).await?;
    let store = DynamoStore::new(clients.dynamodb.clone(), &settings.table);
    let created = Utc
        .with_ymd_and_hms(2026, 10, 1, 12, 0, 0)
        .single()
        .expect("a date");
    let account = Account::new("Bench", created)?;
    store.create_account(&account).await?;
    let legs = synthetic_legs(&account, LEGS, 1_000);

    let t = Instant::now();
    store.import_legs(&legs).await?;
    let seeded = t.elapsed();

    let blobs = Arc::new(S3Blobs::new(clients.s3.clone(), &settings.bucket));
    let request = BillingRequest {
        month: Some("2026-11".parse()?),
        account: Some(account.id),
        now: Utc
            .with_ymd_and_hms(2026, 12, 1, 12, 0, 0)
            .single()
            .expect("a date"),
    };

    // The same month over the in-memory store (files still to the emulator's S3):
    // everything but reading the legs out of DynamoDB. The real run below rewrites
    // its files: it finds no invoice in its own table.
    let memory = MemoryStore::new();
    memory.create_account(&account).await?;
    for leg in &legs {
        memory.put_leg(leg).await?;
    }
    let in_process = Billing {
        store: Arc::new(memory),
        blobs: blobs.clone(),
        branding: Default::default(),
    };
    let t = Instant::now();
    handle(&in_process, &request).await?;
    let without_dynamodb = t.elapsed();

    let deps = Billing {
        store: Arc::new(store),
        blobs,
        branding: Default::default(),
    };
    let t = Instant::now();
    let report = handle(&deps, &request).await?;
    let billed = t.elapsed();
    let invoice = report
        .issued()
        .next()
        .ok_or_else(|| anyhow::anyhow!("no invoice issued"))?;
    println!(
        "end to end, against the emulator: {LEGS} legs over 1000 conferences billed in {:.1} s (legs queried from DynamoDB, priced, invoice CSV, CDR detail, PDF, invoice item, finance export); {} lines, total {} {}",
        billed.as_secs_f64(),
        invoice.lines.len(),
        invoice.total,
        invoice.currency,
    );
    println!(
        "  the same month with the legs in memory (pricing, CSVs, PDF, S3 puts, invoice, export): {:.1} s, so reading the {LEGS} legs from the emulator's index took about {:.1} s; seeding the table took {:.1} s",
        without_dynamodb.as_secs_f64(),
        billed.saturating_sub(without_dynamodb).as_secs_f64(),
        seeded.as_secs_f64(),
    );
    clients
        .dynamodb
        .delete_table()
        .table_name(&settings.table)
        .send()
        .await?;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    teleconf_adapters::process::init_tracing();
    in_memory();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(end_to_end())
}
