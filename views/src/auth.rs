//! A signed-in session.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::users::UserView;

/// A signed-in session.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    /// When the token stops working, in the account's zone.
    pub expires_at: DateTime<FixedOffset>,
    /// Who signed in.
    pub user: UserView,
}
