//! The Lambda handler: each record of a stream batch, in order, turned into its mails
//! and each mail delivered exactly once. The first record that cannot be finished now
//! is reported as a batch item failure: Lambda retries from it (the records after it
//! are retried too, and find their mails settled).

use std::sync::Arc;

use aws_lambda_events::dynamodb::Event;
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use teleconf_adapters::blobs::BlobStore;
use teleconf_adapters::mail::Mailer;
use teleconf_adapters::process::Clock;
use teleconf_adapters::store::{
    AccountStore, ActivityStore, CdrStore, ConferenceStore, DeliveryStore, InvitationStore,
    InvoiceStore, NumberStore, UserStore,
};
use teleconf_domain::mail::Sender;
use teleconf_domain::messages::Branding;

use crate::change::Change;
use crate::compose::mails_for;
use crate::deliver::deliver;

/// What the mailer reads and writes in the store.
pub trait MailerStore:
    AccountStore
    + UserStore
    + NumberStore
    + ConferenceStore
    + CdrStore
    + InvitationStore
    + ActivityStore
    + DeliveryStore
    + InvoiceStore
{
}

impl<T> MailerStore for T where
    T: AccountStore
        + UserStore
        + NumberStore
        + ConferenceStore
        + CdrStore
        + InvitationStore
        + ActivityStore
        + DeliveryStore
        + InvoiceStore
{
}

/// What the handler needs, built once in `main`.
#[derive(Clone)]
pub struct Deps {
    /// The table.
    pub store: Arc<dyn MailerStore>,
    /// SES.
    pub mailer: Arc<dyn Mailer>,
    /// The bucket (an invoice mail attaches the PDF billing stored there).
    pub blobs: Arc<dyn BlobStore>,
    /// The provider's signature and support line.
    pub branding: Branding,
    /// The sending address and name (the calendar invitation's organizer).
    pub sender: Sender,
    /// The portal, for links.
    pub portal_url: String,
    /// Attempts at one mail before it is dead-lettered.
    pub max_attempts: u32,
    /// How long a claim holds.
    pub lease: chrono::Duration,
    /// Now.
    pub clock: Clock,
}

impl std::fmt::Debug for Deps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deps").finish_non_exhaustive()
    }
}

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
