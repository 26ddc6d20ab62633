//! `teleconf-billing`: the Lambda (EventBridge events) or, with `--month YYYY-MM
//! [--account ID]`, one run against the configured stack (`make bill`). Config and
//! clients are built once. A refusal or a failure is one line on stderr
//! (`teleconf-billing: …`) and exit status 1, never a backtrace.

use std::process::ExitCode;
use std::sync::Arc;

use lambda_runtime::{LambdaEvent, service_fn};
use teleconf_adapters::aws::Clients;
use teleconf_adapters::blobs::S3Blobs;
use teleconf_adapters::store::dynamo::DynamoStore;
use teleconf_billing::config::Config;
use teleconf_billing::issue::Outcome;
use teleconf_billing::{Billing, BillingRequest, handle};
use teleconf_domain::BlobKey;
use teleconf_domain::{AccountId, YearMonth};

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("teleconf-billing: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    teleconf_adapters::process::init_tracing();
    let config = Config::from_env(std::env::args().skip(1))?;
    let clients = Clients::load(&config.aws).await;
    let deps = Billing {
        store: Arc::new(DynamoStore::new(
            clients.dynamodb.clone(),
            &config.aws.table,
        )),
        blobs: Arc::new(S3Blobs::new(clients.s3.clone(), &config.aws.bucket)),
        branding: Default::default(),
    };
    if let Some((month, account)) = config.once {
        return bill_once(&deps, &config, month, account).await;
    }
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        on_event(&deps, event)
    }))
    .await
    .map_err(|e| anyhow::anyhow!(e))
}

/// One EventBridge event: the run, summed up for the invocation's result.
async fn on_event(
    deps: &Billing,
    event: LambdaEvent<serde_json::Value>,
) -> Result<serde_json::Value, lambda_runtime::Error> {
    let request = BillingRequest::from_event(&event.payload)?;
    let report = handle(deps, &request).await?;
    Ok(serde_json::json!({
        "invoices_issued": report.issued().count(),
        "accounts": report.accounts.len(),
        "exports": report
            .exports
            .iter()
            .map(|(m, n)| serde_json::json!({ "month": m.to_string(), "invoices": n }))
            .collect::<Vec<_>>(),
    }))
}

/// `--month YYYY-MM [--account ID]`: one run now, each account's outcome printed.
async fn bill_once(
    deps: &Billing,
    config: &Config,
    month: YearMonth,
    account: Option<AccountId>,
) -> anyhow::Result<()> {
    let request = BillingRequest {
        month: Some(month),
        account,
        now: chrono::Utc::now(),
    };
    let report = handle(deps, &request).await?;
    println!(
        "{month}: {} accounts billed, {} invoices issued now (accounts created after the month ended are not billed)",
        report.accounts.len(),
        report.issued().count()
    );
    for (account, month, outcome) in &report.accounts {
        let what = match outcome {
            Outcome::Issued(i) => format!("issued {} total {} {}", i.number, i.total, i.currency),
            Outcome::AlreadyIssued(i) => {
                format!(
                    "already issued {} total {} {}",
                    i.number, i.total, i.currency
                )
            }
            Outcome::NothingToBill => "nothing to bill".into(),
        };
        println!("{month} {account}: {what}");
    }
    for (month, invoices) in &report.exports {
        println!(
            "finance export: s3://{}/{} ({invoices} invoices)",
            config.aws.bucket,
            BlobKey::finance_export(*month).as_str()
        );
    }
    Ok(())
}
