//! `teleconf-scheduler`: the EventBridge-scheduled Lambda, or with `--local` a loop
//! that builds the same scheduled event every `TELECONF_SCHEDULER_INTERVAL_S` seconds
//! (what `make run` starts). The same handler either way. `TELECONF_NODE_LOST_SECS`
//! (default 30) is how long a serving media node may go unheard before the tick
//! reaps it.

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use chrono::TimeDelta;
use lambda_runtime::{LambdaEvent, service_fn};
use teleconf_adapters::aws::{AwsSettings, Clients};
use teleconf_adapters::settings::{Env, process_env};
use teleconf_adapters::store::dynamo::DynamoStore;
use teleconf_domain::NodeHeartbeat;
use teleconf_scheduler::{Deps, handle, scheduled_event};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    teleconf_adapters::process::init_tracing();
    let settings = AwsSettings::from_env()?;
    let env = Env::new(process_env);
    let interval = Duration::from_secs(seconds(&env, "TELECONF_SCHEDULER_INTERVAL_S", 60)?);
    let default_lost = NodeHeartbeat::LOST_AFTER.num_seconds().unsigned_abs();
    let lost_after = seconds(&env, "TELECONF_NODE_LOST_SECS", default_lost)?;
    let clients = Clients::load(&settings).await;
    let deps = Deps {
        lost_after: TimeDelta::seconds(i64::try_from(lost_after)?),
        ..Deps::new(Arc::new(DynamoStore::new(
            clients.dynamodb.clone(),
            &settings.table,
        )))
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

/// A whole number of seconds, at least 1, from `name` (else `default`).
fn seconds(
    env: &Env<impl Fn(&str) -> Option<String>>,
    name: &str,
    default: u64,
) -> anyhow::Result<u64> {
    let secs: u64 = env.parse_or(name, default)?;
    anyhow::ensure!(secs >= 1, "{name} is at least 1");
    Ok(secs)
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
