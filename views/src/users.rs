//! A user of an account.

use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use teleconf_domain::{AccountId, Email, Role, User, UserId};
use utoipa::ToSchema;

use crate::local;

/// A user as the API shows it (never the password hash).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserView {
    /// Identity.
    #[schema(value_type = String)]
    pub id: UserId,
    /// Account.
    #[schema(value_type = String)]
    pub account_id: AccountId,
    /// Login.
    #[schema(value_type = String)]
    pub email: Email,
    /// Name.
    pub name: String,
    /// Role.
    #[schema(value_type = String, example = "conference_operator")]
    pub role: Role,
    /// Added at, in the account's zone.
    pub created_at: DateTime<FixedOffset>,
}

impl UserView {
    /// The view of `u`, times on the wall clock of `tz`.
    pub fn new(u: &User, tz: Tz) -> Self {
        Self {
            id: u.id,
            account_id: u.account_id,
            email: u.email.clone(),
            name: u.name.clone(),
            role: u.role,
            created_at: local(u.created_at, tz),
        }
    }
}
