//! Creates what the service needs, when missing: the table (from the template), the
//! media bucket, and the verified sender identity. Safe to run again and again.

use std::time::Duration;

use aws_sdk_dynamodb::types::TableStatus;
use teleconf_adapters::aws::{AwsSettings, Clients, classify};

use crate::ProvisionError;
use crate::template::TableSpec;

/// Ensures the table, bucket and mail identity named in `settings` exist.
pub async fn provision(clients: &Clients, settings: &AwsSettings) -> Result<(), ProvisionError> {
    ensure_table(&clients.dynamodb, &settings.table).await?;
    ensure_bucket(&clients.s3, &settings.bucket).await?;
    clients
        .ses
        .verify_email_identity()
        .email_address(settings.mail_from.as_str())
        .send()
        .await
        .map_err(|e| classify("VerifyEmailIdentity", e))?;
    Ok(())
}

async fn ensure_table(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<(), ProvisionError> {
    match client.describe_table().table_name(table).send().await {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            let created = TableSpec::from_template()?
                .create_table(client, table)?
                .send()
                .await;
            match created {
                Ok(_) => tracing::info!(table, "table created"),
                // Another provisioner won the race: fine, wait for it below.
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_resource_in_use_exception()) => {}
                Err(e) => return Err(classify("CreateTable", e).into()),
            }
        }
        Err(e) => return Err(classify("DescribeTable", e).into()),
    }
    wait_active(client, table).await?;
    // TTL is set after creation (CreateTable cannot); setting it again is refused
    // with a validation error when already on, which is the state we want.
    if let Some(attribute) = TableSpec::from_template()?.ttl_attribute() {
        let spec = aws_sdk_dynamodb::types::TimeToLiveSpecification::builder()
            .attribute_name(attribute)
            .enabled(true)
            .build()
            .map_err(|e| ProvisionError::Template(e.to_string()))?;
        let current = client
            .describe_time_to_live()
            .table_name(table)
            .send()
            .await
            .map_err(|e| classify("DescribeTimeToLive", e))?;
        let on = current
            .time_to_live_description()
            .and_then(|d| d.attribute_name())
            == Some(attribute);
        if !on {
            client
                .update_time_to_live()
                .table_name(table)
                .time_to_live_specification(spec)
                .send()
                .await
                .map_err(|e| classify("UpdateTimeToLive", e))?;
        }
    }
    Ok(())
}

async fn wait_active(client: &aws_sdk_dynamodb::Client, table: &str) -> Result<(), ProvisionError> {
    for _ in 0..120 {
        let out = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| classify("DescribeTable", e))?;
        if out.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Err(ProvisionError::NotReady(format!("table {table}")))
}

async fn ensure_bucket(client: &aws_sdk_s3::Client, bucket: &str) -> Result<(), ProvisionError> {
    if client.head_bucket().bucket(bucket).send().await.is_ok() {
        return Ok(());
    }
    let region = client
        .config()
        .region()
        .map(|r| r.to_string())
        .unwrap_or_default();
    let mut req = client.create_bucket().bucket(bucket);
    if region != "us-east-1" && !region.is_empty() {
        req = req.create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(
                    region.as_str(),
                ))
                .build(),
        );
    }
    match req.send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_bucket_already_owned_by_you()) =>
        {
            Ok(())
        }
        Err(e) => Err(classify("CreateBucket", e).into()),
    }
}
