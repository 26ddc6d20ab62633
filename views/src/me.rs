//! Who am I.

use serde::{Deserialize, Serialize};
use teleconf_domain::permissions::Actor;
use teleconf_domain::{Account, User};
use utoipa::ToSchema;

use crate::accounts::AccountView;
use crate::users::UserView;

/// The signed-in user and their account.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Me {
    /// The user.
    pub user: UserView,
    /// Their account.
    pub account: AccountView,
}

impl Me {
    /// The view of `user` of `account`.
    pub fn new(user: &User, account: &Account) -> Self {
        Self {
            user: UserView::new(user, account.time_zone),
            account: AccountView::from(account),
        }
    }

    /// The user as the permission matrix sees them.
    pub fn actor(&self) -> Actor {
        Actor {
            user: self.user.id,
            account: self.user.account_id,
            role: self.user.role,
        }
    }
}
