//! The Lambda handler: each record of a stream batch, in order, turned into its mails
//! and each mail delivered exactly once. The first record that cannot be finished now
//! is reported as a batch item failure: Lambda retries from it (the records after it
//! are retried too, and find their mails settled).

use aws_lambda_events::dynamodb::Event;
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};

use crate::change::Change;
use crate::compose::mails_for;
use crate::deliver::deliver;
use crate::deps::Deps;

/// Handles one stream batch.
pub async fn handle(event: &Event, deps: &Deps) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    for record in &event.records {
        let change = match Change::of(record) {
            Ok(change) => change,
            Err(e) => {
                // Retrying cannot make it readable; keep it in the log and go on.
                tracing::error!(error = %e, "unreadable stream record skipped");
                continue;
            }
        };
        if let Err(error) = handle_change(&change, deps).await {
            tracing::warn!(event_id = %record.event_id, %error, "record not finished: retried");
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = record.change.sequence_number.clone();
            response.batch_item_failures.push(failure);
            break;
        }
    }
    response
}

async fn handle_change(change: &Change, deps: &Deps) -> Result<(), crate::MailerError> {
    let now = (deps.clock)();
    for planned in mails_for(deps, change, now).await? {
        deliver(deps, &planned, now).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
