//! AWS settings and clients. The same code talks to AWS and to a local emulator:
//! `AWS_ENDPOINT_URL` alone switches (the SDK reads it; S3 then also needs
//! path-style addressing, which is set here).

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::error::{Error, Result};
use crate::settings::{Env, process_env};
use teleconf_domain::Email;

/// Where the service's AWS resources are. Read once, in a binary's `main`.
#[derive(Debug, Clone)]
pub struct AwsSettings {
    /// The DynamoDB table (`TELECONF_TABLE`).
    pub table: String,
    /// The S3 bucket for prompts, recordings and exports (`TELECONF_BUCKET`).
    pub bucket: String,
    /// The verified SES sender (`TELECONF_MAIL_FROM`).
    pub mail_from: Email,
    /// An emulator's endpoint (`AWS_ENDPOINT_URL`); `None` on AWS.
    pub endpoint_url: Option<String>,
}

impl AwsSettings {
    /// Reads the settings through `var` (the environment in a binary; a map in tests).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let env = Env::new(var);
        Ok(Self {
            table: env.required("TELECONF_TABLE")?,
            bucket: env.required("TELECONF_BUCKET")?,
            mail_from: env.parse_required("TELECONF_MAIL_FROM")?,
            endpoint_url: env.get("AWS_ENDPOINT_URL"),
        })
    }

    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self> {
        Self::from_vars(process_env)
    }
}

/// The AWS clients a binary needs, built once in `main`.
#[derive(Debug, Clone)]
pub struct Clients {
    /// DynamoDB.
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// S3, path-style when an emulator is in use.
    pub s3: aws_sdk_s3::Client,
    /// SES (v1: the API every emulator serves).
    pub ses: aws_sdk_ses::Client,
}

impl Clients {
    /// Loads the shared SDK configuration (credentials, region, endpoint from the
    /// environment) and builds each client.
    pub async fn load(settings: &AwsSettings) -> Self {
        Self::from_sdk_config(&sdk_loader().load().await, settings)
    }

    /// Builds the clients from an already loaded configuration.
    pub fn from_sdk_config(sdk: &SdkConfig, settings: &AwsSettings) -> Self {
        let s3 = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(settings.endpoint_url.is_some())
            .build();
        Self {
            dynamodb: aws_sdk_dynamodb::Client::new(sdk),
            s3: aws_sdk_s3::Client::from_conf(s3),
            ses: aws_sdk_ses::Client::new(sdk),
        }
    }
}

/// A DynamoDB client alone, for a binary that needs no other service (the SIP
/// entry's dispatcher sync).
pub async fn dynamodb() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&sdk_loader().load().await)
}

/// The SDK configuration loader every binary uses. Calls fail fast when the
/// endpoint is unreachable: a short connect timeout, bounded attempt and operation
/// times, three attempts; the caller then reports the store as unavailable.
pub fn sdk_loader() -> aws_config::ConfigLoader {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(2))
        .operation_attempt_timeout(Duration::from_secs(5))
        .operation_timeout(Duration::from_secs(12))
        .build();
    // rustls on ring: the SDK's default client would bring aws-lc as a second
    // crypto library, the largest single part of a Lambda binary.
    let https = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(https)
        .timeout_config(timeouts)
        .retry_config(RetryConfig::standard().with_max_attempts(3))
}

/// Error codes that mean "try again later" on any AWS service.
const RETRYABLE_CODES: &[&str] = &[
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "InternalFailure",
    "ServiceUnavailable",
    "TransactionInProgressException",
];

/// Classifies an SDK failure as unavailable (retryable) or a store error.
pub fn classify<E>(op: &str, err: SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let retryable = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        // A throttling or internal error code, or any 5xx (some endpoints and
        // emulators answer a bare 500 with no code).
        SdkError::ServiceError(service) => {
            err.code().is_some_and(|c| RETRYABLE_CODES.contains(&c))
                || service.raw().status().is_server_error()
        }
        _ => false,
    };
    let text = format!("{op}: {}", DisplayErrorContext(&err));
    if retryable {
        tracing::warn!(error = %text, "store unavailable");
        Error::Unavailable(text)
    } else {
        Error::Store(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::lookup_in as vars;

    #[test]
    fn settings_name_what_is_missing() {
        let err = AwsSettings::from_vars(vars(&[("TELECONF_TABLE", "t")])).unwrap_err();
        assert!(err.to_string().contains("TELECONF_BUCKET"), "{err}");
    }

    #[test]
    fn the_endpoint_alone_marks_an_emulator() {
        let base = [
            ("TELECONF_TABLE", "t"),
            ("TELECONF_BUCKET", "b"),
            ("TELECONF_MAIL_FROM", "c@teleconf.example"),
        ];
        assert_eq!(
            AwsSettings::from_vars(vars(&base)).unwrap().endpoint_url,
            None
        );
        let mut with = base.to_vec();
        with.push(("AWS_ENDPOINT_URL", "http://127.0.0.1:4577"));
        assert_eq!(
            AwsSettings::from_vars(vars(&with))
                .unwrap()
                .endpoint_url
                .as_deref(),
            Some("http://127.0.0.1:4577")
        );
    }
}
