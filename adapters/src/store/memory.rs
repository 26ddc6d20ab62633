//! An in-memory [`Store`](super::Store) with the same uniqueness and idempotency
//! rules as DynamoDB (the conformance suite runs against both), for unit tests of
//! handlers and state machines.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use chrono::{DateTime, Utc};

use super::{
    AccountStore, ActivityStore, CdrStore, ConferenceStore, IntroCodeStore, InvitationStore,
    InvoiceStore, LiveStore, NumberStore, RecordingStore, ThrottleStore, UserStore,
};
use super::{DeliveryStore, IpPhoneStore, LifecycleStore};
use crate::error::{Error, Result};
use teleconf_domain::{
    Account, AccountId, Activity, ActivityId, Attempt, CallLeg, Conference, ConferenceId,
    ConferenceNumber, E164, Email, IntroCode, IntroGrant, Invitation, InvitationId, Invoice, LegId,
    Limit, LiveParticipant, PhoneNumber, Recording, RecordingId, User, UserId, YearMonth,
};
use teleconf_domain::{
    Claim, ConferenceStatus, DeliveryKey, IpPhone, IpPhoneSource, Lifecycle, Outcome, QueuedMail,
    QueuedMailKind,
};

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

#[async_trait]
impl AccountStore for MemoryStore {
    async fn create_account(&self, account: &Account) -> Result<()> {
        let mut s = self.state()?;
        if s.accounts.contains_key(&account.id) {
            return Err(Error::Conflict("account"));
        }
        s.accounts.insert(account.id, account.clone());
        Ok(())
    }

    async fn account(&self, id: AccountId) -> Result<Option<Account>> {
        Ok(self.state()?.accounts.get(&id).cloned())
    }

    async fn accounts(&self) -> Result<Vec<Account>> {
        Ok(self.state()?.accounts.values().cloned().collect())
    }

    async fn update_account(&self, account: &Account) -> Result<()> {
        let mut s = self.state()?;
        let slot = s
            .accounts
            .get_mut(&account.id)
            .ok_or(Error::NotFound("account"))?;
        *slot = account.clone();
        Ok(())
    }
}

#[async_trait]
impl UserStore for MemoryStore {
    async fn create_user(&self, user: &User) -> Result<()> {
        let mut s = self.state()?;
        if s.emails.contains_key(&user.email) {
            return Err(Error::Conflict("email"));
        }
        if s.users.contains_key(&user.id) {
            return Err(Error::Conflict("user"));
        }
        s.emails.insert(user.email.clone(), user.id);
        s.users.insert(user.id, user.clone());
        Ok(())
    }

    async fn user(&self, id: UserId) -> Result<Option<User>> {
        Ok(self.state()?.users.get(&id).cloned())
    }

    async fn user_by_email(&self, email: &Email) -> Result<Option<User>> {
        let s = self.state()?;
        Ok(s.emails.get(email).and_then(|id| s.users.get(id)).cloned())
    }

    async fn users(&self, account: AccountId) -> Result<Vec<User>> {
        Ok(self
            .state()?
            .users
            .values()
            .filter(|u| u.account_id == account)
            .cloned()
            .collect())
    }

    async fn update_user(&self, user: &User) -> Result<()> {
        let mut s = self.state()?;
        let stored = s.users.get(&user.id).ok_or(Error::NotFound("user"))?;
        let old_email = stored.email.clone();
        if stored.role.manages_users()
            && !user.role.manages_users()
            && s.owners(user.account_id) <= 1
        {
            return Err(Error::Conflict("last_owner"));
        }
        if user.token_version < stored.token_version {
            return Err(Error::Conflict("user"));
        }
        if old_email != user.email {
            if s.emails.contains_key(&user.email) {
                return Err(Error::Conflict("email"));
            }
            s.emails.remove(&old_email);
            s.emails.insert(user.email.clone(), user.id);
        }
        s.users.insert(user.id, user.clone());
        Ok(())
    }

    async fn delete_user(&self, user: &User) -> Result<()> {
        let mut s = self.state()?;
        let last_owner = s
            .users
            .get(&user.id)
            .is_some_and(|u| u.role.manages_users())
            && s.owners(user.account_id) <= 1;
        if last_owner {
            return Err(Error::Conflict("last_owner"));
        }
        if let Some(old) = s.users.remove(&user.id) {
            s.emails.remove(&old.email);
        }
        Ok(())
    }
}

#[async_trait]
impl NumberStore for MemoryStore {
    async fn create_number(&self, number: &PhoneNumber) -> Result<()> {
        let mut s = self.state()?;
        if s.numbers.contains_key(&number.number) {
            return Err(Error::Conflict("number"));
        }
        s.numbers.insert(number.number.clone(), number.clone());
        Ok(())
    }

    async fn number(&self, e164: &E164) -> Result<Option<PhoneNumber>> {
        Ok(self.state()?.numbers.get(e164).cloned())
    }

    async fn numbers(&self, account: AccountId) -> Result<Vec<PhoneNumber>> {
        Ok(self
            .state()?
            .numbers
            .values()
            .filter(|n| n.account_id == account)
            .cloned()
            .collect())
    }

    async fn update_number(&self, number: &PhoneNumber) -> Result<()> {
        let mut s = self.state()?;
        match s.numbers.get_mut(&number.number) {
            Some(slot) if slot.account_id == number.account_id => {
                *slot = number.clone();
                Ok(())
            }
            _ => Err(Error::NotFound("number")),
        }
    }

    async fn delete_number(&self, number: &PhoneNumber) -> Result<()> {
        self.state()?.numbers.remove(&number.number);
        Ok(())
    }
}

#[async_trait]
impl ConferenceStore for MemoryStore {
    async fn create_conference(&self, conference: &Conference) -> Result<()> {
        let mut s = self.state()?;
        if s.conference_numbers.contains_key(&conference.number) {
            return Err(Error::Conflict("conference_number"));
        }
        if s.conferences.contains_key(&conference.id) {
            return Err(Error::Conflict("conference"));
        }
        s.conference_numbers
            .insert(conference.number.clone(), conference.id);
        s.conferences.insert(conference.id, conference.clone());
        Ok(())
    }

    async fn conference(&self, id: ConferenceId) -> Result<Option<Conference>> {
        Ok(self.state()?.conferences.get(&id).cloned())
    }

    async fn conference_by_number(&self, number: &ConferenceNumber) -> Result<Option<Conference>> {
        let s = self.state()?;
        Ok(s.conference_numbers
            .get(number)
            .and_then(|id| s.conferences.get(id))
            .cloned())
    }

    async fn conferences(&self, account: AccountId) -> Result<Vec<Conference>> {
        let mut list: Vec<Conference> = self
            .state()?
            .conferences
            .values()
            .filter(|c| c.account_id == account)
            .cloned()
            .collect();
        list.sort_by_key(|c| (c.schedule.start(), c.id));
        Ok(list)
    }

    async fn update_conference(&self, conference: &Conference) -> Result<()> {
        let mut s = self.state()?;
        match s.conferences.get_mut(&conference.id) {
            Some(slot) if slot.number == conference.number => {
                *slot = conference.clone();
                Ok(())
            }
            // The number is fixed at creation, as on DynamoDB.
            _ => Err(Error::NotFound("conference")),
        }
    }

    async fn delete_conference(&self, conference: &Conference) -> Result<()> {
        let mut s = self.state()?;
        if let Some(old) = s.conferences.remove(&conference.id) {
            s.conference_numbers.remove(&old.number);
        }
        Ok(())
    }
}

#[async_trait]
impl CdrStore for MemoryStore {
    async fn put_leg(&self, leg: &CallLeg) -> Result<()> {
        let mut s = self.state()?;
        match s.legs.get(&leg.id) {
            Some(stored) if stored.left_at.is_some() => {} // closed legs stay as first closed
            _ => {
                s.legs.insert(leg.id, leg.clone());
            }
        }
        Ok(())
    }

    async fn legs_of_conference(&self, conference: ConferenceId) -> Result<Vec<CallLeg>> {
        Ok(self
            .state()?
            .legs
            .values()
            .filter(|l| l.conference_id == conference)
            .cloned()
            .collect())
    }

    async fn legs_of_month(&self, account: AccountId, month: YearMonth) -> Result<Vec<CallLeg>> {
        let mut legs: Vec<CallLeg> = self
            .state()?
            .legs
            .values()
            .filter(|l| l.account_id == account && l.month == month)
            .cloned()
            .collect();
        legs.sort_by_key(|l| (l.joined_at, l.id));
        Ok(legs)
    }
}

#[async_trait]
impl ActivityStore for MemoryStore {
    async fn record_activity(&self, activity: &Activity) -> Result<()> {
        self.state()?.activity.insert(activity.id, activity.clone());
        Ok(())
    }

    async fn recent_activity(&self, account: AccountId, limit: usize) -> Result<Vec<Activity>> {
        Ok(self
            .state()?
            .activity
            .values()
            .rev()
            .filter(|a| a.account_id == account)
            .take(limit)
            .cloned()
            .collect())
    }
}

#[async_trait]
impl RecordingStore for MemoryStore {
    async fn put_recording(&self, recording: &Recording) -> Result<()> {
        self.state()?
            .recordings
            .insert(recording.id, recording.clone());
        Ok(())
    }

    async fn recording(&self, id: RecordingId) -> Result<Option<Recording>> {
        Ok(self.state()?.recordings.get(&id).cloned())
    }

    async fn recordings(
        &self,
        account: AccountId,
        conference: Option<ConferenceId>,
    ) -> Result<Vec<Recording>> {
        let mut list: Vec<Recording> = self
            .state()?
            .recordings
            .values()
            .filter(|r| r.account_id == account && conference.is_none_or(|c| r.conference_id == c))
            .cloned()
            .collect();
        list.sort_by_key(|r| (r.conference_id, r.id));
        Ok(list)
    }
}

#[async_trait]
impl InvoiceStore for MemoryStore {
    async fn create_invoice(&self, invoice: &Invoice) -> Result<()> {
        let mut s = self.state()?;
        let key = (invoice.account_id, invoice.month);
        if s.invoices.contains_key(&key) {
            return Err(Error::Conflict("invoice"));
        }
        s.invoices.insert(key, invoice.clone());
        Ok(())
    }

    async fn invoice(&self, account: AccountId, month: YearMonth) -> Result<Option<Invoice>> {
        Ok(self.state()?.invoices.get(&(account, month)).cloned())
    }

    async fn invoices(&self, account: AccountId) -> Result<Vec<Invoice>> {
        Ok(self
            .state()?
            .invoices
            .values()
            .rev()
            .filter(|i| i.account_id == account)
            .cloned()
            .collect())
    }
}

#[async_trait]
impl InvitationStore for MemoryStore {
    async fn queue_invitations(&self, invitations: &[Invitation]) -> Result<()> {
        let mut s = self.state()?;
        for i in invitations {
            s.invitations.insert(i.id, i.clone());
        }
        Ok(())
    }

    async fn invitations(&self, conference: ConferenceId) -> Result<Vec<Invitation>> {
        Ok(self
            .state()?
            .invitations
            .values()
            .filter(|i| i.conference_id == conference)
            .cloned()
            .collect())
    }
}

#[async_trait]
impl IntroCodeStore for MemoryStore {
    async fn create_intro_grant(&self, grant: &IntroGrant) -> Result<()> {
        let mut s = self.state()?;
        if s.intro_grants.contains_key(&grant.code) {
            return Err(Error::Conflict("intro_code"));
        }
        s.intro_grants.insert(grant.code.clone(), grant.clone());
        Ok(())
    }

    async fn intro_grant(&self, code: &IntroCode) -> Result<Option<IntroGrant>> {
        Ok(self.state()?.intro_grants.get(code).cloned())
    }

    async fn spend_intro_grant(&self, code: &IntroCode) -> Result<()> {
        self.state()?.intro_grants.remove(code);
        Ok(())
    }
}

#[async_trait]
impl ThrottleStore for MemoryStore {
    async fn record_failure(
        &self,
        attempt: &Attempt,
        limit: &Limit,
        now: DateTime<Utc>,
    ) -> Result<u32> {
        let mut s = self.state()?;
        let count = s
            .failures
            .entry((attempt.key(), limit.window_start(now)))
            .or_insert(0);
        *count += 1;
        Ok(*count)
    }

    async fn failures(&self, attempt: &Attempt, limit: &Limit, now: DateTime<Utc>) -> Result<u32> {
        Ok(self
            .state()?
            .failures
            .get(&(attempt.key(), limit.window_start(now)))
            .copied()
            .unwrap_or(0))
    }

    async fn lock(&self, attempt: &Attempt, until: DateTime<Utc>) -> Result<()> {
        let mut s = self.state()?;
        let lock = s.locks.entry(attempt.key()).or_insert(until);
        *lock = (*lock).max(until);
        Ok(())
    }

    async fn locked_until(
        &self,
        attempt: &Attempt,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>> {
        Ok(self
            .state()?
            .locks
            .get(&attempt.key())
            .copied()
            .filter(|until| *until > now))
    }
}

#[async_trait]
impl LiveStore for MemoryStore {
    async fn put_live(&self, participant: &LiveParticipant) -> Result<()> {
        self.state()?.live.insert(
            (participant.conference_id, participant.leg_id),
            participant.clone(),
        );
        Ok(())
    }

    async fn remove_live(&self, conference: ConferenceId, leg: LegId) -> Result<()> {
        self.state()?.live.remove(&(conference, leg));
        Ok(())
    }

    async fn live_participants(&self, conference: ConferenceId) -> Result<Vec<LiveParticipant>> {
        let mut live: Vec<LiveParticipant> = self
            .state()?
            .live
            .values()
            .filter(|p| p.conference_id == conference)
            .cloned()
            .collect();
        live.sort_by_key(|p| (p.joined_at, p.leg_id));
        Ok(live)
    }
}

#[async_trait]
impl super::ControlStore for MemoryStore {
    async fn queue_control(&self, control: &teleconf_domain::ConferenceControl) -> Result<()> {
        self.state()?.controls.insert(control.id, control.clone());
        Ok(())
    }

    async fn pending_controls(
        &self,
        conference: ConferenceId,
    ) -> Result<Vec<teleconf_domain::ConferenceControl>> {
        let now = Utc::now();
        Ok(self
            .state()?
            .controls
            .values()
            .filter(|c| c.conference_id == conference && c.issued_at + super::CONTROL_TTL > now)
            .cloned()
            .collect())
    }

    async fn ack_control(
        &self,
        _conference: ConferenceId,
        id: teleconf_domain::ControlId,
    ) -> Result<()> {
        self.state()?.controls.remove(&id);
        Ok(())
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

#[async_trait]
impl LifecycleStore for MemoryStore {
    async fn conferences_starting(
        &self,
        account: AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Conference>> {
        let mut found: Vec<Conference> = self
            .state()?
            .conferences
            .values()
            .filter(|c| c.account_id == account)
            .filter(|c| (from..=to).contains(&c.schedule.start()))
            .cloned()
            .collect();
        found.sort_by_key(|c| (c.schedule.start(), c.id));
        Ok(found)
    }

    async fn lifecycle(&self, conference: ConferenceId) -> Result<Option<Lifecycle>> {
        Ok(self.state()?.lifecycles.get(&conference).cloned())
    }

    async fn queued_mail(
        &self,
        conference: ConferenceId,
        kind: QueuedMailKind,
    ) -> Result<Option<QueuedMail>> {
        Ok(self.state()?.queued_mail.get(&(conference, kind)).cloned())
    }

    async fn advance_lifecycle(
        &self,
        from: ConferenceStatus,
        next: &Lifecycle,
        mail: Option<&QueuedMail>,
    ) -> Result<bool> {
        let mut s = self.state()?;
        let current = s
            .lifecycles
            .get(&next.conference_id)
            .map_or(ConferenceStatus::Scheduled, |l| l.status);
        if current != from {
            return Ok(false);
        }
        if let Some(mail) = mail {
            if s.queued_mail.contains_key(&(mail.conference_id, mail.kind)) {
                return Ok(false);
            }
            s.queued_mail
                .insert((mail.conference_id, mail.kind), mail.clone());
        }
        s.lifecycles.insert(next.conference_id, next.clone());
        Ok(true)
    }
}

#[async_trait]
impl DeliveryStore for MemoryStore {
    async fn claim_delivery(
        &self,
        key: &DeliveryKey,
        now: DateTime<Utc>,
        lease: chrono::Duration,
    ) -> Result<Claim> {
        let mut s = self.state()?;
        let attempts = match s.deliveries.get(key) {
            None => 0,
            Some(Delivery::Failed { attempts }) => *attempts,
            Some(Delivery::Sending {
                attempts,
                claimed_at,
            }) if *claimed_at < now - lease => *attempts,
            Some(Delivery::Sending { .. }) => return Ok(Claim::Busy),
            Some(Delivery::Settled) => return Ok(Claim::Settled),
        };
        let attempt = attempts + 1;
        s.deliveries.insert(
            key.clone(),
            Delivery::Sending {
                attempts: attempt,
                claimed_at: now,
            },
        );
        Ok(Claim::Mine { attempt })
    }

    async fn settle_delivery(&self, key: &DeliveryKey, outcome: &Outcome) -> Result<()> {
        let mut s = self.state()?;
        let entry = s
            .deliveries
            .get_mut(key)
            .ok_or(Error::NotFound("delivery"))?;
        *entry = match (outcome, &*entry) {
            (Outcome::Failed { .. }, Delivery::Sending { attempts, .. }) => Delivery::Failed {
                attempts: *attempts,
            },
            (Outcome::Failed { .. }, other) => other.clone(),
            (Outcome::Sent { .. } | Outcome::DeadLettered { .. }, _) => Delivery::Settled,
        };
        Ok(())
    }
}

#[async_trait]
impl IpPhoneStore for MemoryStore {
    async fn add_ip_phone(&self, phone: &IpPhone) -> Result<()> {
        let mut s = self.state()?;
        if s.ip_phones.contains_key(&phone.source) {
            return Err(Error::Conflict("source"));
        }
        s.ip_phones.insert(phone.source.clone(), phone.clone());
        Ok(())
    }

    async fn ip_phones(&self, account: AccountId) -> Result<Vec<IpPhone>> {
        Ok(self
            .state()?
            .ip_phones
            .values()
            .filter(|p| p.account_id == account)
            .cloned()
            .collect())
    }

    async fn remove_ip_phone(&self, account: AccountId, source: &IpPhoneSource) -> Result<()> {
        let mut s = self.state()?;
        match s.ip_phones.get(source) {
            Some(phone) if phone.account_id == account => {
                s.ip_phones.remove(source);
                Ok(())
            }
            _ => Err(Error::NotFound("ip_phone")),
        }
    }

    async fn all_ip_phones(&self) -> Result<Vec<IpPhone>> {
        Ok(self.state()?.ip_phones.values().cloned().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
