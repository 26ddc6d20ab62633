//! One mail, exactly once: claim its key, send, settle. A failure leaves the claim
//! retryable until the last attempt, which dead-letters the mail and reports it in the
//! account's activity feed.

use chrono::{DateTime, Utc};
use teleconf_domain::{Activity, ActivityKind, Claim, Outcome};

use crate::compose::Planned;
use crate::deps::Deps;
use crate::error::MailerError;

/// How a delivery ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    /// Sent now, with the provider's message id.
    Sent(String),
    /// Sent or given up before: nothing done.
    AlreadySettled,
    /// Given up: the dead letter is in the ledger and the activity feed.
    DeadLettered,
}

/// Sends `planned` unless it was settled already.
pub async fn deliver(
    deps: &Deps,
    planned: &Planned,
    now: DateTime<Utc>,
) -> Result<Delivered, MailerError> {
    let key = &planned.key;
    let attempt = match deps.store.claim_delivery(key, now, deps.lease).await? {
        Claim::Settled => {
            tracing::info!(%key, "already settled: not sent again");
            return Ok(Delivered::AlreadySettled);
        }
        Claim::Busy => return Err(MailerError::InFlight(key.to_string())),
        Claim::Mine { attempt } => attempt,
    };
    match deps.mailer.send(&planned.mail).await {
        Ok(message_id) => {
            deps.store
                .settle_delivery(
                    key,
                    &Outcome::Sent {
                        message_id: message_id.clone(),
                        at: now,
                    },
                )
                .await?;
            tracing::info!(%key, %message_id, attempt, "mail sent");
            Ok(Delivered::Sent(message_id))
        }
        Err(e) if e.is_retryable() && attempt < deps.max_attempts => {
            let error = e.to_string();
            deps.store
                .settle_delivery(
                    key,
                    &Outcome::Failed {
                        error: error.clone(),
                    },
                )
                .await?;
            tracing::warn!(%key, attempt, %error, "mail failed: the record will be retried");
            Err(MailerError::SendFailed {
                key: key.to_string(),
                attempt,
                error,
            })
        }
        Err(e) => {
            let error = e.to_string();
            // The feed first: if it cannot be written, the claim stays retryable and the
            // record fails (Lambda's on-failure destination keeps it past its retries).
            let activity = Activity::new(
                planned.account_id,
                now,
                None,
                ActivityKind::DeliveryFailed,
                planned.conference_id,
                format!(
                    "{} not sent after {attempt} attempt(s): {error}",
                    planned.label
                ),
            );
            deps.store.record_activity(&activity).await?;
            deps.store
                .settle_delivery(
                    key,
                    &Outcome::DeadLettered {
                        error: error.clone(),
                        at: now,
                    },
                )
                .await?;
            tracing::error!(%key, attempt, %error, "mail dead-lettered");
            Ok(Delivered::DeadLettered)
        }
    }
}
