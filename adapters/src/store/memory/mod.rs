//! An in-memory [`Store`](super::Store) with the same uniqueness and idempotency
//! rules as DynamoDB (the conformance suite runs against both), for unit tests of
//! handlers and state machines.
//!
//! ## Layout
//! - this module: the [`MemoryStore`], its state behind one lock, and the switch
//!   that makes it unavailable.
//! - one file per store trait, as in [`super::dynamo`]: `accounts`, `users`,
//!   `numbers`, `conferences`, `cdrs`, `activity`, `live`, `controls`,
//!   `recordings`, `invoices`, `invitations`, `intro_codes`, `throttle`,
//!   `lifecycle`, `deliveries`, `ip_phones`.

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
mod throttle;
mod users;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use teleconf_domain::{
    Account, AccountId, Activity, ActivityId, CallLeg, Conference, ConferenceId, ConferenceNumber,
    DeliveryKey, E164, Email, IntroCode, IntroGrant, Invitation, InvitationId, Invoice, IpPhone,
    IpPhoneSource, LegId, Lifecycle, LiveParticipant, PhoneNumber, QueuedMail, QueuedMailKind,
    Recording, RecordingId, User, UserId, YearMonth,
};

use crate::error::{Error, Result};

#[derive(Debug, Default)]
struct State {
    accounts: BTreeMap<AccountId, Account>,
    users: BTreeMap<UserId, User>,
    emails: HashMap<Email, UserId>,
    numbers: BTreeMap<E164, PhoneNumber>,
    conferences: BTreeMap<ConferenceId, Conference>,
    conference_numbers: HashMap<ConferenceNumber, ConferenceId>,
    legs: BTreeMap<LegId, CallLeg>,
    activity: BTreeMap<ActivityId, Activity>,
    recordings: BTreeMap<RecordingId, Recording>,
    invoices: BTreeMap<(AccountId, YearMonth), Invoice>,
    invitations: BTreeMap<InvitationId, Invitation>,
    intro_grants: HashMap<IntroCode, IntroGrant>,
    failures: HashMap<(String, DateTime<Utc>), u32>,
    locks: HashMap<String, DateTime<Utc>>,
    live: HashMap<(ConferenceId, LegId), LiveParticipant>,
    controls: BTreeMap<teleconf_domain::ControlId, teleconf_domain::ConferenceControl>,
    lifecycles: HashMap<ConferenceId, Lifecycle>,
    queued_mail: HashMap<(ConferenceId, QueuedMailKind), QueuedMail>,
    deliveries: HashMap<DeliveryKey, Delivery>,
    ip_phones: BTreeMap<IpPhoneSource, IpPhone>,
    nodes: BTreeMap<teleconf_domain::NodeId, teleconf_domain::NodeHeartbeat>,
    /// When set, every call fails as an unreachable store would.
    unavailable: bool,
}

impl State {
    fn owners(&self, account: AccountId) -> usize {
        self.users
            .values()
            .filter(|u| u.account_id == account && u.role.manages_users())
            .count()
    }
}

/// The in-memory store.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes every later call fail with [`Error::Unavailable`] (or succeed again), to
    /// test how callers degrade and recover.
    pub fn set_unavailable(&self, unavailable: bool) {
        self.state.lock().expect("store lock").unavailable = unavailable;
    }

    fn state(&self) -> Result<MutexGuard<'_, State>> {
        let state = self.state.lock().expect("store lock");
        if state.unavailable {
            return Err(Error::Unavailable(
                "the in-memory store is switched off".into(),
            ));
        }
        Ok(state)
    }
}

/// A ledger entry: where the delivery is and since when.
#[derive(Debug, Clone)]
enum Delivery {
    Sending {
        attempts: u32,
        claimed_at: DateTime<Utc>,
    },
    Failed {
        attempts: u32,
    },
    Settled,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::AccountStore;

    #[tokio::test]
    async fn the_memory_store_passes_the_conformance_suite() {
        super::super::conformance::run_all(&MemoryStore::new()).await;
        super::super::conformance::run_lifecycle_and_deliveries(&MemoryStore::new()).await;
    }

    #[tokio::test]
    async fn a_switched_off_store_is_unavailable_and_recovers() {
        let store = MemoryStore::new();
        store.set_unavailable(true);
        assert!(matches!(store.accounts().await, Err(Error::Unavailable(_))));
        store.set_unavailable(false);
        assert!(store.accounts().await.unwrap().is_empty());
    }
}
