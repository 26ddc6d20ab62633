//! What the API does, apart from HTTP: one function per operation, taking only the
//! store traits it needs (`teleconf_adapters::store`), the caller and the time, and
//! answering the domain's values or an [`Error`](crate::error::Error). Each checks
//! the permission matrix (`teleconf_domain::permissions`) before it reads or writes
//! anything else, and every change writes an activity entry ([`activity::record`]).
//! The routes parse the request, call one of these and map the result to a view.

pub mod accounts;
pub mod activity;
pub mod cdrs;
pub mod conferences;
pub mod controls;
pub mod exports;
pub mod invitations;
pub mod invoices;
pub mod ip_phones;
pub mod numbers;
pub mod participants;
pub mod prompts;
pub mod recordings;
pub mod users;

use teleconf_domain::permissions::{Action, Actor, ConferenceRef, decide};
use teleconf_domain::{Account, Conference, User};

/// The signed-in caller: the user (reloaded on every request, so a changed role,
/// a removed user or a revoked token takes effect at once) and their account.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The user.
    pub user: User,
    /// Their account.
    pub account: Account,
}

impl Caller {
    /// The caller as the permission matrix sees them.
    pub fn actor(&self) -> Actor {
        Actor::from(&self.user)
    }

    /// Whether the caller may change `conference` (and so see its codes).
    pub fn may_modify(&self, conference: &Conference) -> bool {
        decide(
            &self.actor(),
            Action::ModifyConference(ConferenceRef::from(conference)),
        )
        .is_allowed()
    }
}

/// serde: tells an absent field (`None`) from an explicit `null` (`Some(None)`).
pub fn double_option<'de, T, D>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(de).map(Some)
}
