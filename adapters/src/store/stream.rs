//! Reading the table's stream: the item images a DynamoDB stream record carries,
//! turned back into the entities the mailer reacts to. The only place outside the
//! adapter that knows which `item_kind` names which entity.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::keys::KIND;
use crate::error::{Error, Result};
use teleconf_domain::{Conference, Invitation, Invoice, Lifecycle, QueuedMail, Recording};

/// `item_kind` of a conference item.
pub const CONFERENCE: &str = "conference";
/// `item_kind` of a queued invitation.
pub const INVITATION: &str = "invitation";
/// `item_kind` of a recording's metadata.
pub const RECORDING: &str = "recording";
/// `item_kind` of a conference's lifecycle.
pub const LIFECYCLE: &str = "lifecycle";
/// `item_kind` of a mail the scheduler queued.
pub const QUEUED_MAIL: &str = "queued_mail";
/// `item_kind` of an issued invoice.
pub const INVOICE: &str = "invoice";

/// An item image as the stream carries it.
pub type Image = HashMap<String, AttributeValue>;

/// The entity an image holds, for the kinds the stream's readers act on.
#[derive(Debug, Clone, PartialEq)]
pub enum Entity {
    /// A conference.
    Conference(Box<Conference>),
    /// An invitation.
    Invitation(Invitation),
    /// A recording.
    Recording(Recording),
    /// A lifecycle.
    Lifecycle(Lifecycle),
    /// A queued mail.
    QueuedMail(QueuedMail),
    /// An issued invoice.
    Invoice(Box<Invoice>),
    /// Any other item (users, legs, keys…), named by its kind.
    Other(String),
}

/// Decodes an image by its `item_kind`. An image without one is [`Entity::Other`]
/// with an empty kind: an upsert (`UpdateItem` on a missing item) may first show only
/// the keys.
pub fn decode(image: Image) -> Result<Entity> {
    let kind = match image.get(KIND) {
        Some(AttributeValue::S(kind)) => kind.clone(),
        _ => return Ok(Entity::Other(String::new())),
    };
    let read = |what: &str, e: serde_dynamo::Error| {
        Error::Store(format!("unreadable {what} in the stream: {e}"))
    };
    Ok(match kind.as_str() {
        CONFERENCE => Entity::Conference(Box::new(
            serde_dynamo::from_item(image).map_err(|e| read(CONFERENCE, e))?,
        )),
        INVITATION => {
            Entity::Invitation(serde_dynamo::from_item(image).map_err(|e| read(INVITATION, e))?)
        }
        RECORDING => {
            Entity::Recording(serde_dynamo::from_item(image).map_err(|e| read(RECORDING, e))?)
        }
        LIFECYCLE => {
            Entity::Lifecycle(serde_dynamo::from_item(image).map_err(|e| read(LIFECYCLE, e))?)
        }
        QUEUED_MAIL => {
            Entity::QueuedMail(serde_dynamo::from_item(image).map_err(|e| read(QUEUED_MAIL, e))?)
        }
        INVOICE => Entity::Invoice(Box::new(
            serde_dynamo::from_item(image).map_err(|e| read(INVOICE, e))?,
        )),
        _ => Entity::Other(kind),
    })
}
