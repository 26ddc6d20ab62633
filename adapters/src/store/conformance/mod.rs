//! The behaviour every [`Store`] must have, as one suite run against the in-memory
//! store (unit tests) and against DynamoDB on the emulator (integration tests).
//! Each check makes its own uniquely-named entities, so checks may share a table
//! with other tests running at the same time.
//!
//! ## Layout
//! - this module: the runners ([`run_all`], [`run_lifecycle_and_deliveries`]) and
//!   what the checks store first ([`account_with_owner`], [`create_conference`]);
//!   the entities themselves come from `teleconf_domain::testkit`.
//! - one file of checks per store trait, as the stores are split: `accounts`
//!   (with users, numbers and conferences read back by every key), `users`,
//!   `numbers`, `conferences`, `cdrs`, `activity`, `live`, `controls`,
//!   `recordings`, `invoices`, `invitations`, `intro_codes`, `throttle`,
//!   `lifecycle`, `deliveries`, `ip_phones`, `nodes`, `rooms`; each check is
//!   re-exported here.

#![allow(clippy::unwrap_used, missing_docs)]

mod accounts;
mod activity;
mod cdrs;
mod conferences;
mod controls;
mod deliveries;
mod intro_codes;
mod invitations;
mod invoices;
mod ip_phones;
mod lifecycle;
mod live;
mod nodes;
mod numbers;
mod recordings;
mod rooms;
mod throttle;
mod users;

pub use accounts::*;
pub use activity::*;
pub use cdrs::*;
pub use conferences::*;
pub use controls::*;
pub use deliveries::*;
pub use intro_codes::*;
pub use invitations::*;
pub use invoices::*;
pub use ip_phones::*;
pub use lifecycle::*;
pub use live::*;
pub use nodes::*;
pub use numbers::*;
pub use recordings::*;
pub use rooms::*;
pub use throttle::*;
pub use users::*;

use chrono::Utc;
use teleconf_domain::testkit::{conference, unique_email};
use teleconf_domain::{Account, Conference, ConferenceNumber, Role, User};

use super::Store;
use crate::error::Error;

/// Runs every check.
pub async fn run_all(store: &impl Store) {
    account_user_number_and_conference_read_back_by_every_key(store).await;
    a_second_conference_cannot_take_an_existing_number(store).await;
    an_email_belongs_to_one_user_and_moves_with_it(store).await;
    an_access_number_is_assigned_once(store).await;
    updates_and_deletes_take_effect(store).await;
    legs_are_written_idempotently_and_listed_by_conference_and_month(store).await;
    a_nodes_open_legs_are_found_and_closed_once(store).await;
    activity_is_listed_newest_first(store).await;
    recordings_are_listed_by_account_and_conference(store).await;
    a_lost_nodes_recordings_are_found_and_cut_once(store).await;
    an_invoice_is_issued_once_per_month(store).await;
    invitations_are_queued_per_conference(store).await;
    an_intro_code_is_granted_once(store).await;
    failures_are_counted_per_attempt_and_window(store).await;
    a_lock_holds_until_it_lifts_and_is_only_lengthened(store).await;
    a_caller_with_a_very_long_caller_id_is_counted_and_locked(store).await;
    live_callers_are_listed_updated_and_removed(store).await;
    live_controls_are_queued_in_order_and_acknowledged(store).await;
    an_account_keeps_its_last_owner(store).await;
    an_ip_phone_belongs_to_one_account(store).await;
    a_nodes_heartbeat_replaces_its_last_and_every_node_is_listed(store).await;
    a_lost_node_is_marked_reaped_once_unless_it_came_back(store).await;
    a_room_is_held_by_one_node_until_its_lease_expires_or_is_released(store).await;
    the_provider_keeps_its_last_administrator(store).await;
    a_users_token_version_never_goes_back(store).await;
}

/// Runs the checks of the scheduler's and the mailer's records.
pub async fn run_lifecycle_and_deliveries(
    store: &(impl Store + super::LifecycleStore + super::DeliveryStore),
) {
    conferences_are_found_by_their_start(store).await;
    each_transition_is_written_once_and_only_from_its_status(store).await;
    a_queued_mail_is_queued_once_with_its_transition(store).await;
    a_delivery_is_claimed_by_one_worker_until_settled(store).await;
}

/// A stored account with a stored owner.
pub async fn account_with_owner(store: &impl Store) -> (Account, User) {
    let now = Utc::now();
    let account = Account::new("Omnivigil Solutions", now).unwrap();
    store.create_account(&account).await.unwrap();
    let owner = User::new(
        account.id,
        unique_email(),
        "Olivia Owner",
        Role::Owner,
        "a long enough password",
        now,
    )
    .unwrap();
    store.create_user(&owner).await.unwrap();
    (account, owner)
}

/// Stores a conference, drawing another number when one is taken (as the API does).
pub async fn create_conference(store: &impl Store, owner: &User) -> Conference {
    loop {
        let c = conference(owner, ConferenceNumber::generate());
        match store.create_conference(&c).await {
            Ok(()) => return c,
            Err(Error::Conflict("conference_number")) => continue,
            Err(e) => panic!("{e}"),
        }
    }
}
