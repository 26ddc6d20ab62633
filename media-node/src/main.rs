//! `teleconf-media-node`: terminates the SIP trunk on `TELECONF_SIP_ADDR` (UDP and
//! TCP), answers the node's lookups from DynamoDB and S3, and serves calls until
//! Ctrl-C or SIGTERM. Settings: [`teleconf_media_node::shell::config`] and the AWS
//! ones of `teleconf_adapters::aws`.

use std::sync::Arc;

use teleconf_adapters::aws::{AwsSettings, Clients};
use teleconf_adapters::blobs::S3Blobs;
use teleconf_adapters::process::{init_tracing, shutdown_signal};
use teleconf_adapters::store::dynamo::DynamoStore;
use teleconf_media_node::shell::{Config, Services, Shell};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    init_tracing();
    let config = Config::from_env()?;
    let aws = AwsSettings::from_env()?;
    let clients = Clients::load(&aws).await;
    let services = Services::new(
        Arc::new(DynamoStore::new(clients.dynamodb, &aws.table)),
        Arc::new(S3Blobs::new(clients.s3, &aws.bucket)),
    );
    let shell = Shell::bind(config).await?;
    println!("media node: sip:{} (UDP and TCP)", shell.local_addr());
    shell.run(services, shutdown_signal()).await?;
    Ok(())
}
