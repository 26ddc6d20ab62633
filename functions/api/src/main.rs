//! `teleconf-api`: serves the API's router with the customer portal mounted on it
//! (`teleconf_portal::mount`: `/portal`, a client of the API router it is handed)
//! on `TELECONF_API_ADDR` when set (the local stack), under the Lambda runtime
//! otherwise. Config and clients are built once. The library never imports the
//! portal: this binary is where the two meet.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use teleconf_adapters::aws::Clients;
use teleconf_adapters::blobs::S3Blobs;
use teleconf_adapters::store::dynamo::DynamoStore;
use teleconf_api::config::{Config, TokenSecret};
use teleconf_api::tokens::Tokens;
use teleconf_api::{AppState, router};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    teleconf_adapters::process::init_tracing();
    let config = Config::from_env()?;
    let sdk = teleconf_adapters::aws::sdk_loader().load().await;
    let clients = Clients::from_sdk_config(&sdk, &config.aws);
    let secret = match &config.token_secret {
        TokenSecret::Value(secret) => secret.clone(),
        TokenSecret::SecretsManager(arn) => aws_sdk_secretsmanager::Client::new(&sdk)
            .get_secret_value()
            .secret_id(arn)
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "reading the token secret {arn}: {}",
                    aws_sdk_secretsmanager::error::DisplayErrorContext(e)
                )
            })?
            .secret_string
            .with_context(|| format!("the token secret {arn} has no string value"))?
            .into_bytes(),
        TokenSecret::Random => {
            tracing::warn!(
                "TELECONF_TOKEN_SECRET is not set: using a random secret; tokens end when this process does"
            );
            teleconf_domain::random::bytes::<32>().to_vec()
        }
    };
    let state = AppState {
        store: Arc::new(DynamoStore::new(
            clients.dynamodb.clone(),
            &config.aws.table,
        )),
        blobs: Arc::new(S3Blobs::new(clients.s3.clone(), &config.aws.bucket)),
        tokens: Arc::new(Tokens::new(&secret).map_err(anyhow::Error::msg)?),
        clock: teleconf_adapters::process::system_clock(),
        branding: Arc::new(config.branding.clone()),
    };
    let app = teleconf_portal::mount(router(state));
    match config.listen {
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr).await?;
            tracing::info!(%addr, "API listening");
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(teleconf_adapters::process::shutdown_signal())
            .await?;
        }
        None => lambda_http::run(app)
            .await
            .map_err(|e| anyhow::anyhow!(e))?,
    }
    Ok(())
}
