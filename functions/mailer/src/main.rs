//! `teleconf-mailer`: the stream-triggered Lambda, or with `--local` a loop over the
//! table's stream on the emulator (what `make run` starts). The same handler either way.

use std::sync::Arc;

use lambda_runtime::{LambdaEvent, service_fn};
use teleconf_adapters::aws::Clients;
use teleconf_adapters::blobs::S3Blobs;
use teleconf_adapters::mail::SesMailer;
use teleconf_adapters::store::dynamo::DynamoStore;
use teleconf_domain::mail::Sender;
use teleconf_mailer::stream::StreamReader;
use teleconf_mailer::{Config, Deps, handle};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    teleconf_adapters::process::init_tracing();
    let config = Config::from_env()?;
    let clients = Clients::load(&config.aws).await;
    let deps = Deps {
        store: Arc::new(DynamoStore::new(
            clients.dynamodb.clone(),
            &config.aws.table,
        )),
        mailer: Arc::new(SesMailer::with_name(
            clients.ses.clone(),
            config.aws.mail_from.clone(),
            config.branding.provider_name.clone(),
        )),
        blobs: Arc::new(S3Blobs::new(clients.s3.clone(), &config.aws.bucket)),
        sender: Sender {
            name: config.branding.provider_name.clone(),
            address: config.aws.mail_from.clone(),
        },
        branding: config.branding.clone(),
        portal_url: config.portal_url.clone(),
        max_attempts: config.max_attempts,
        lease: config.lease,
        clock: teleconf_adapters::process::system_clock(),
    };
    if std::env::args().any(|a| a == "--local") {
        return run_local(&config, &clients, &deps).await;
    }
    lambda_runtime::run(service_fn(
        |event: LambdaEvent<aws_lambda_events::dynamodb::Event>| {
            let deps = deps.clone();
            async move { Ok::<_, lambda_runtime::Error>(handle(&event.payload, &deps).await) }
        },
    ))
    .await
    .map_err(|e| anyhow::anyhow!(e))
}

/// Reads the table's stream until Ctrl-C/SIGTERM, feeding the handler.
async fn run_local(config: &Config, clients: &Clients, deps: &Deps) -> anyhow::Result<()> {
    let sdk = teleconf_adapters::aws::sdk_loader().load().await;
    let streams = aws_sdk_dynamodbstreams::Client::new(&sdk);
    let shutdown = teleconf_adapters::process::shutdown_signal();
    tokio::pin!(shutdown);
    let mut reader = None;
    tracing::info!(table = %config.aws.table, "mailer reading the table's stream");
    loop {
        if reader.is_none() {
            match StreamReader::open(&clients.dynamodb, streams.clone(), &config.aws.table).await {
                Ok(r) => reader = Some(r),
                Err(e) => tracing::warn!(error = %e, "stream not readable yet"),
            }
        }
        if let Some(r) = reader.as_mut() {
            match r.pump(|event| handle_owned(event, deps)).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(records = n, "stream records handled"),
                Err(e) => {
                    tracing::warn!(error = %e, "reading the stream failed: starting over");
                    reader = None;
                }
            }
        }
        tokio::select! {
            _ = &mut shutdown => return Ok(()),
            _ = tokio::time::sleep(config.poll_interval) => {}
        }
    }
}

async fn handle_owned(
    event: aws_lambda_events::dynamodb::Event,
    deps: &Deps,
) -> aws_lambda_events::streams::DynamoDbEventResponse {
    handle(&event, deps).await
}
