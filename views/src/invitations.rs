//! Invitations queued for the mailer.

use serde::{Deserialize, Serialize};
use teleconf_domain::{Invitation, InvitationId};
use utoipa::ToSchema;

/// Invitations queued.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Queued {
    /// How many mails are queued.
    pub queued: usize,
    /// Their ids, in the request's order.
    #[schema(value_type = Vec<String>)]
    pub invitation_ids: Vec<InvitationId>,
}

impl Queued {
    /// The view of `invitations`, queued in this order.
    pub fn new(invitations: &[Invitation]) -> Self {
        Self {
            queued: invitations.len(),
            invitation_ids: invitations.iter().map(|i| i.id).collect(),
        }
    }
}
