//! A provisioned stack on the emulator named by `AWS_ENDPOINT_URL` (`make test` sets it):
//! a table per stack and a bucket per test process, provisioned by the project's own code.
//! DynamoDB and its streams may be served elsewhere, at `AWS_ENDPOINT_URL_DYNAMODB`
//! (`make test EMULATOR=localstack`: LocalStack beside moto's DynamoDB), as the SDK
//! reads it in the service's binaries.

use std::sync::OnceLock;

use teleconf_adapters::aws::{AwsSettings, Clients, sdk_loader};
use teleconf_adapters::blobs::S3Blobs;
use teleconf_adapters::mail::SesMailer;
use teleconf_adapters::store::dynamo::DynamoStore;

/// Which emulator serves the tests (`TELECONF_EMULATOR`: moto or localstack).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emulator {
    /// moto_server.
    Moto,
    /// LocalStack.
    LocalStack,
}

impl Emulator {
    /// From `TELECONF_EMULATOR` (moto when unset).
    pub fn from_env() -> Self {
        match std::env::var("TELECONF_EMULATOR").as_deref() {
            Ok("localstack") => Emulator::LocalStack,
            _ => Emulator::Moto,
        }
    }
}

/// The emulator's endpoint; panics with the way to run the tests when unset.
pub fn endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| {
        panic!("AWS_ENDPOINT_URL is not set: run the integration tests through `make test`, which starts the emulator")
    })
}

/// Where DynamoDB and DynamoDB Streams are served: `AWS_ENDPOINT_URL_DYNAMODB`
/// when set, else the emulator's [`endpoint`].
pub fn dynamodb_endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL_DYNAMODB")
        .ok()
        .filter(|url| !url.trim().is_empty())
        .unwrap_or_else(endpoint)
}

/// This process's bucket, and a table of this stack's own.
///
/// One table per stack, not per process: moto snapshots a whole table when a
/// TransactWriteItems starts and restores the snapshot when the transaction is
/// cancelled, so a concurrent test's write to the same table can vanish (and a write
/// during the copy answers 500). DynamoDB has neither behaviour; sharing a table
/// would make the tests test moto.
pub fn settings() -> AwsSettings {
    static BUCKET: OnceLock<String> = OnceLock::new();
    let bucket = BUCKET.get_or_init(|| {
        format!(
            "teleconf-test-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        )
    });
    let table = format!(
        "teleconf-test-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..16]
    );
    AwsSettings {
        table,
        bucket: bucket.clone(),
        mail_from: "conferences@teleconf.example"
            .parse()
            .expect("valid sender"),
        endpoint_url: Some(endpoint()),
    }
}

/// The emulator's clients: S3 and SES at `settings`' endpoint, DynamoDB at
/// `dynamodb` (the [`dynamodb_endpoint`], or a proxy in front of it).
pub async fn emulator_clients(settings: &AwsSettings, dynamodb: &str) -> Clients {
    let sdk = sdk_config_at(&settings.endpoint_url.clone().expect("an emulator endpoint")).await;
    let mut clients = Clients::from_sdk_config(&sdk, settings);
    clients.dynamodb = aws_sdk_dynamodb::Client::new(&sdk_config_at(dynamodb).await);
    clients
}

/// A client of the emulator's DynamoDB Streams (where its DynamoDB is).
pub async fn emulator_streams() -> aws_sdk_dynamodbstreams::Client {
    aws_sdk_dynamodbstreams::Client::new(&sdk_config_at(&dynamodb_endpoint()).await)
}

/// The production SDK loader, with `endpoint` and dummy credentials given
/// explicitly (so the tests do not depend on the shell's environment).
async fn sdk_config_at(endpoint: &str) -> aws_config::SdkConfig {
    sdk_loader()
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "emulator",
        ))
        .load()
        .await
}

/// A provisioned stack: settings, clients and the adapters on them.
#[derive(Debug)]
pub struct Stack {
    /// Names of the table, bucket, sender.
    pub settings: AwsSettings,
    /// The SDK clients.
    pub clients: Clients,
    /// The DynamoDB store.
    pub store: DynamoStore,
    /// The S3 bucket.
    pub blobs: S3Blobs,
    /// SES.
    pub mailer: SesMailer,
}

impl Stack {
    /// Connects to the emulator and provisions (idempotently) this process's resources.
    pub async fn new() -> Self {
        let settings = settings();
        let clients = emulator_clients(&settings, &dynamodb_endpoint()).await;
        teleconf_infra::provision::provision(&clients, &settings)
            .await
            .expect("provisioning the emulator");
        Self {
            store: DynamoStore::new(clients.dynamodb.clone(), &settings.table),
            blobs: S3Blobs::new(clients.s3.clone(), &settings.bucket),
            mailer: SesMailer::new(clients.ses.clone(), settings.mail_from.clone()),
            settings,
            clients,
        }
    }
}

impl Stack {
    /// This stack's table reached through a [`Proxy`](crate::proxy::Proxy) that the
    /// test can cut and restore (an outage without stopping the emulator).
    pub async fn store_through_proxy(&self) -> (crate::proxy::Proxy, DynamoStore) {
        let endpoint = dynamodb_endpoint();
        let target = endpoint.trim_start_matches("http://").to_string();
        let proxy = crate::proxy::Proxy::start(target)
            .await
            .expect("a loopback proxy");
        let clients = emulator_clients(&self.settings, &proxy.url()).await;
        (
            proxy,
            DynamoStore::new(clients.dynamodb, &self.settings.table),
        )
    }
}

impl Stack {
    /// The environment a service binary reads this stack from: its table, bucket and
    /// sender, the emulator (DynamoDB's, when elsewhere) and its dummy credentials.
    pub fn binary_env(&self) -> Vec<(&'static str, String)> {
        let settings = &self.settings;
        let dynamodb = dynamodb_endpoint();
        vec![
            ("AWS_ENDPOINT_URL_DYNAMODB", dynamodb.clone()),
            ("AWS_ENDPOINT_URL_DYNAMODB_STREAMS", dynamodb),
            ("TELECONF_TABLE", settings.table.clone()),
            ("TELECONF_BUCKET", settings.bucket.clone()),
            ("TELECONF_MAIL_FROM", settings.mail_from.to_string()),
            (
                "AWS_ENDPOINT_URL",
                settings.endpoint_url.clone().expect("an emulator"),
            ),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_REGION", "us-east-1".into()),
        ]
    }
}

/// The workspace binary `name` that `cargo build` put beside this test binary
/// (`make test` builds them all).
pub fn built_binary(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.parent()
        .and_then(std::path::Path::parent)
        .map(|dir| dir.join(name))
        .filter(|path| path.exists())
        .unwrap_or_else(|| panic!("target/…/{name}: build it first (`make test` does)"))
}
