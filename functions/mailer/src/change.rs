//! A stream record as the change it describes, for the kinds that call for mail.

use std::collections::HashMap;

use aws_lambda_events::dynamodb::EventRecord;
use aws_sdk_dynamodb::types::AttributeValue;
use teleconf_adapters::store::stream::{self, Entity};
use teleconf_domain::{Conference, Invitation, Invoice, QueuedMail, Recording};

/// What happened, as far as mail is concerned.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A conference was scheduled.
    Scheduled(Box<Conference>),
    /// A conference changed in a way its invitees must hear about.
    Changed {
        /// As it is now.
        conference: Box<Conference>,
        /// The stream record's sequence number: tells this change from any other.
        sequence: String,
    },
    /// A conference was cancelled (deleted).
    Cancelled(Box<Conference>),
    /// Someone was invited.
    Invited(Invitation),
    /// A recording became ready to hear: stored whole, or cut to its segments by
    /// the reaper (once: the segments stored while it records mail nothing).
    Recorded(Recording),
    /// The scheduler queued a mail.
    Queued(QueuedMail),
    /// Billing issued an invoice: its owners get it, PDF attached.
    Invoiced(Box<Invoice>),
    /// Nothing to mail about.
    Nothing,
}

/// Why a record cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("stream record {event_id}: {message}")]
pub struct Unreadable {
    /// The record.
    pub event_id: String,
    /// What is wrong.
    pub message: String,
}

fn image(item: &serde_dynamo::Item) -> HashMap<String, AttributeValue> {
    item.clone().into()
}

fn entity(record: &EventRecord, item: &serde_dynamo::Item) -> Result<Option<Entity>, Unreadable> {
    if item.is_empty() {
        return Ok(None);
    }
    stream::decode(image(item))
        .map(Some)
        .map_err(|e| Unreadable {
            event_id: record.event_id.clone(),
            message: e.to_string(),
        })
}

/// Whether a conference's invitees need a new notice: what the mail shows changed.
fn mail_worthy(old: &Conference, new: &Conference) -> bool {
    old.description != new.description
        || old.schedule != new.schedule
        || old.codes != new.codes
        || old.record != new.record
        || old.language != new.language
}

impl Change {
    /// Reads a record. Kinds and operations that call for no mail are [`Change::Nothing`].
    pub fn of(record: &EventRecord) -> Result<Self, Unreadable> {
        let new = entity(record, &record.change.new_image)?;
        let old = entity(record, &record.change.old_image)?;
        Ok(match (record.event_name.as_str(), new, old) {
            ("INSERT", Some(Entity::Conference(c)), _) => Change::Scheduled(c),
            ("MODIFY", Some(Entity::Conference(new)), Some(Entity::Conference(old)))
                if mail_worthy(&old, &new) =>
            {
                Change::Changed {
                    conference: new,
                    sequence: record
                        .change
                        .sequence_number
                        .clone()
                        .ok_or_else(|| Unreadable {
                            event_id: record.event_id.clone(),
                            message: "a MODIFY record without a sequence number".into(),
                        })?,
                }
            }
            ("REMOVE", _, Some(Entity::Conference(c))) => Change::Cancelled(c),
            ("INSERT", Some(Entity::Invitation(i)), _) => Change::Invited(i),
            ("INSERT" | "MODIFY", Some(Entity::Recording(r)), old)
                if r.is_ready()
                    && !matches!(old, Some(Entity::Recording(ref was)) if was.is_ready()) =>
            {
                Change::Recorded(r)
            }
            ("INSERT", Some(Entity::QueuedMail(m)), _) => Change::Queued(m),
            ("INSERT", Some(Entity::Invoice(i)), _) => Change::Invoiced(i),
            _ => Change::Nothing,
        })
    }
}
