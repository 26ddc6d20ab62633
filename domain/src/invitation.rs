//! Invitations to a conference, queued for the mailer: each invitee receives only
//! the code of their role.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{AccountId, CallerRole, ConferenceId, Email, InvitationId, Language, UserId};

/// One invitee of a conference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    /// Identity (the mailer's idempotency key).
    pub id: InvitationId,
    /// The conference's account.
    pub account_id: AccountId,
    /// The conference.
    pub conference_id: ConferenceId,
    /// Where to send it.
    pub email: Email,
    /// Which code the invitee gets.
    pub role: CallerRole,
    /// Language of the mail.
    pub language: Language,
    /// Who invited.
    pub invited_by: UserId,
    /// When.
    pub invited_at: DateTime<Utc>,
}
