//! `teleconf-scheduler`: the EventBridge-scheduled Lambda, or with `--local` a loop
//! that builds the same scheduled event every `TELECONF_SCHEDULER_INTERVAL_S` seconds
//! (what `make run` starts). The same handler either way.

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::{LambdaEvent, service_fn};
use teleconf_adapters::aws::{AwsSettings, Clients};
use teleconf_adapters::store::dynamo::DynamoStore;
use teleconf_scheduler::{Deps, handle, scheduled_event};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    teleconf_adapters::process::init_tracing();
    let settings = AwsSettings::from_env()?;
    let interval = match std::env::var("TELECONF_SCHEDULER_INTERVAL_S") {
        Ok(v) if !v.trim().is_empty() => {
            let secs: u64 = v.trim().parse().map_err(|_| {
                anyhow::anyhow!("TELECONF_SCHEDULER_INTERVAL_S={v:?} is not a whole number")
            })?;
            anyhow::ensure!(secs >= 1, "TELECONF_SCHEDULER_INTERVAL_S is at least 1");
            Duration::from_secs(secs)
        }
        _ => Duration::from_secs(60),
    };
    let clients = Clients::load(&settings).await;
    let deps = Deps {
        store: Arc::new(DynamoStore::new(clients.dynamodb.clone(), &settings.table)),
    };
    if std::env::args().any(|a| a == "--local") {
        return run_local(&deps, interval).await;
    }
    lambda_runtime::run(service_fn(|event: LambdaEvent<EventBridgeEvent>| {
        let deps = deps.clone();
        async move {
            let report = handle(&event.payload, &deps).await?;
            Ok::<_, lambda_runtime::Error>(serde_json::json!({
                "examined": report.examined,
                "transitions": report.written.len(),
            }))
        }
    }))
    .await
    .map_err(|e| anyhow::anyhow!(e))
}

/// A tick every `interval` until Ctrl-C/SIGTERM; a failed tick is logged and the next
/// one catches up.
async fn run_local(deps: &Deps, interval: Duration) -> anyhow::Result<()> {
    tracing::info!(every_s = interval.as_secs(), "scheduler ticking");
    let shutdown = teleconf_adapters::process::shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        match handle(&scheduled_event(chrono::Utc::now()), deps).await {
            Ok(report) if !report.written.is_empty() => {
                tracing::info!(
                    examined = report.examined,
                    transitions = report.written.len(),
                    "tick"
                )
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "tick failed; the next one catches up"),
        }
        tokio::select! {
            _ = &mut shutdown => return Ok(()),
            _ = tokio::time::sleep(interval) => {}
        }
    }
}
