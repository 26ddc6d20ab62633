//! Persistence of the domain, behind narrow traits: each handler asks only for the
//! capability it uses, and tests swap DynamoDB for [`memory::MemoryStore`].
//!
//! # DynamoDB single-table design
//!
//! One table, string keys `pk`/`sk`, two global secondary indexes (projection ALL),
//! streams on (NEW_AND_OLD_IMAGES) for the mailer. Every item also has `item_kind`.
//!
//! | item            | `pk`                   | `sk`            | `gsi1pk` / `gsi1sk` (by account)              | `gsi2pk` / `gsi2sk` (CDRs by account-month)          |
//! |-----------------|------------------------|-----------------|-----------------------------------------------|------------------------------------------------------|
//! | account         | `ACCOUNT#<id>`         | `ACCOUNT`       | `PROVIDER` / `ACCOUNT#<id>`                    |                                                      |
//! | user            | `USER#<id>`            | `USER`          | `ACCOUNT#<account>` / `USER#<id>`              |                                                      |
//! | e-mail key      | `EMAIL#<email>`        | `EMAIL`         |                                               |                                                      |
//! | access number   | `NUMBER#<e164>`        | `NUMBER`        | `ACCOUNT#<account>` / `NUMBER#<e164>`          |                                                      |
//! | conference      | `CONF#<id>`            | `CONF`          | `ACCOUNT#<account>` / `CONF#<start>#<id>`      |                                                      |
//! | conference-number key | `CONFNUM#<number>` | `CONFNUM`     |                                               |                                                      |
//! | CDR leg         | `CONF#<conference id>` | `LEG#<leg id>`  | while open: `NODE#<node id>#OPEN` / `<joined>#<leg id>` | `ACCOUNT#<account>#MONTH#<YYYY-MM>` / `<joined>#<leg id>` |
//! | owner counter   | `ACCOUNT#<id>`         | `OWNERS`        |                                               |                                                      |
//! | activity        | `ACCOUNT#<account>`    | `ACTIVITY#<id>` |                                               |                                                      |
//! | recording       | `REC#<id>`             | `REC`           | `ACCOUNT#<account>` / `REC#<conference>#<id>`  | while recording: `NODE#<node id>#REC` / `<id>`       |
//! | invoice         | `ACCOUNT#<account>`    | `INVOICE#<YYYY-MM>` |                                           |                                                      |
//! | invitation      | `CONF#<conference id>` | `INVITE#<id>`   |                                               |                                                      |
//! | live caller     | `CONF#<conference id>` | `LIVE#<leg id>` |                                               | (expires through `ttl`: a day)                       |
//! | live control    | `CONF#<conference id>` | `CONTROL#<id>`  |                                               | (expires through `ttl`: an hour)                     |
//! | intro code      | `INTROCODE#<code>`     | `INTROCODE`     |                                               | (expires through `ttl`)                              |
//! | failure counter | `THROTTLE#<attempt>`   | `<window start>` |                                              | (expires through `ttl`)                              |
//! | lifecycle       | `CONF#<conference id>` | `LIFECYCLE`     |                                               |                                                      |
//! | queued mail     | `CONF#<conference id>` | `MAIL#<kind>`   |                                               |                                                      |
//! | mail delivery   | `DELIVERY#<key>`       | `DELIVERY`      |                                               | (expires through `ttl`)                              |
//! | IP phone (`*44`) | `IPPHONE#<source>`    | `IPPHONE`       | `ACCOUNT#<account>` / `IPPHONE#<source>`       | `IPPHONES` / `<source>` (every account's)            |
//! | media node      | `NODE#<node id>`       | `NODE`          |                                               | `NODES` / `<node id>` (every node's; expires through `ttl`) |
//! | room lease      | `ROOM#<conference id>` | `ROOM`          |                                               | (expires through `ttl`: a day after the lease) |
//!
//! How each access pattern is served:
//! - **by id**: GetItem on the entity's `pk`/`sk`.
//! - **by account** (users, numbers, conferences sorted by start): Query `gsi1` on
//!   `gsi1pk = ACCOUNT#<account>` and an `sk` prefix; all accounts: `gsi1pk = PROVIDER`.
//! - **by access number**: the number *is* the key (`NUMBER#<e164>`); creating it
//!   with `attribute_not_exists(pk)` makes it unique.
//! - **by conference number** and **by user e-mail**: a key item (`CONFNUM#…`,
//!   `EMAIL#…`) holds the id of its owner. It is written in the same transaction as
//!   its entity with `attribute_not_exists(pk)`, which makes the value unique across
//!   the service without any read-then-write; a lookup is two strongly consistent
//!   GetItems. Changing a user's e-mail moves the key in one transaction.
//! - **CDRs by conference**: Query `pk = CONF#<id>`, `begins_with(sk, "LEG#")`.
//! - **CDRs by account-month**: Query `gsi2` on `ACCOUNT#<account>#MONTH#<YYYY-MM>`.
//! - **a node's recordings in progress** (the reaper): Query `gsi2` on
//!   `NODE#<node id>#REC`, sparse like the open legs.
//! - **a node's open legs** (the scheduler's reaper): Query `gsi1` on
//!   `NODE#<node id>#OPEN`; a sparse index, as a leg carries those keys only while
//!   open, so the lookup reads the lost node's live legs, never its history.
//! - **an account keeps an owner**: an owner counter item moves in the same
//!   transaction as every write that adds, demotes or removes an owner; the
//!   decrement is conditional on `owners > 1`.
//! - **activity, newest first**: Query `pk = ACCOUNT#<account>`,
//!   `begins_with(sk, "ACTIVITY#")`, descending (ids are UUIDv7, so time-ordered).
//!
//! - **recordings** by account, or by conference: Query `gsi1` with the prefix
//!   `REC#` or `REC#<conference>#`.
//! - **invitations** reach the mailer through the table's stream (an inserted item
//!   whose `item_kind` is `invitation`).
//! - **live controls** (the portal's mute, remove, lock… for the media node): Query
//!   `pk = CONF#<id>`, `begins_with(sk, "CONTROL#")`, ascending (ids are UUIDv7, so
//!   in the order given); the node deletes each one it applied.
//! - **failure counters**: an atomic `ADD` per failure in a fixed window; old
//!   windows expire through the table's TTL attribute `ttl`.
//!
//! - **conferences due for the scheduler**: Query `gsi1` on the account with
//!   `gsi1sk BETWEEN CONF#<from> AND CONF#<to>~` (conferences sort by start).
//! - **lifecycles, queued mail and deliveries**: see [`lifecycle`]; the stream's
//!   readers decode item images with [`stream`].
//! - **IP phones**: see [`ip_phones`]; the source is the key, as an access number is.
//! - **media nodes' heartbeats**: see [`nodes`].
//! - **which node holds a conference's room**: see [`rooms`]; a conditional put
//!   claims, a conditional delete releases.
//!
//! Timestamps inside keys are RFC 3339 UTC with milliseconds, so they sort as text.

pub mod dynamo;
pub mod ip_phones;
pub mod keys;
pub mod lifecycle;
pub mod memory;
pub mod nodes;
pub mod rooms;
pub mod stream;

#[cfg(any(test, feature = "testkit"))]
pub mod conformance;

use async_trait::async_trait;

use chrono::{DateTime, Utc};

use crate::error::Result;
use teleconf_domain::{
    Account, AccountId, Activity, Attempt, CallLeg, Conference, ConferenceControl, ConferenceId,
    ConferenceNumber, ControlId, E164, Email, IntroCode, IntroGrant, Invitation, Invoice, LegId,
    Limit, LiveParticipant, NodeId, PhoneNumber, Recording, RecordingId, User, UserId, YearMonth,
};

pub use ip_phones::IpPhoneStore;
pub use lifecycle::{DeliveryStore, LifecycleStore};
pub use nodes::NodeStore;
pub use rooms::{Claim, RoomStore};

/// Accounts (the provider's side).
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Stores a new account; [`Error::Conflict`](crate::Error::Conflict) if the id exists.
    async fn create_account(&self, account: &Account) -> Result<()>;
    /// The account, if it exists.
    async fn account(&self, id: AccountId) -> Result<Option<Account>>;
    /// Every account.
    async fn accounts(&self) -> Result<Vec<Account>>;
    /// Replaces an existing account; `NotFound` if it does not exist.
    async fn update_account(&self, account: &Account) -> Result<()>;
}

/// Users and their logins.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Stores a new user; `Conflict("email")` if the e-mail is taken anywhere.
    async fn create_user(&self, user: &User) -> Result<()>;
    /// The user, if it exists.
    async fn user(&self, id: UserId) -> Result<Option<User>>;
    /// The user who signs in with `email`.
    async fn user_by_email(&self, email: &Email) -> Result<Option<User>>;
    /// The users of an account.
    async fn users(&self, account: AccountId) -> Result<Vec<User>>;
    /// Replaces an existing user, moving the e-mail key when the e-mail changed;
    /// `Conflict("email")` if the new e-mail is taken, `NotFound` if the user is gone,
    /// `Conflict("last_owner")` if it would demote the account's last owner.
    async fn update_user(&self, user: &User) -> Result<()>;
    /// Removes a user and frees their e-mail; `Conflict("last_owner")` for the
    /// account's last owner.
    async fn delete_user(&self, user: &User) -> Result<()>;
}

/// Access numbers.
#[async_trait]
pub trait NumberStore: Send + Sync {
    /// Stores a new access number; `Conflict("number")` if it is assigned already.
    async fn create_number(&self, number: &PhoneNumber) -> Result<()>;
    /// The access number, by its E.164 form.
    async fn number(&self, e164: &E164) -> Result<Option<PhoneNumber>>;
    /// The access numbers of an account.
    async fn numbers(&self, account: AccountId) -> Result<Vec<PhoneNumber>>;
    /// Replaces an existing number of the same account; `NotFound` otherwise.
    async fn update_number(&self, number: &PhoneNumber) -> Result<()>;
    /// Removes an access number.
    async fn delete_number(&self, number: &PhoneNumber) -> Result<()>;
}

/// Conferences.
#[async_trait]
pub trait ConferenceStore: Send + Sync {
    /// Stores a new conference; `Conflict("conference_number")` if its number is
    /// taken anywhere in the service (the caller draws another and retries).
    async fn create_conference(&self, conference: &Conference) -> Result<()>;
    /// The conference, if it exists.
    async fn conference(&self, id: ConferenceId) -> Result<Option<Conference>>;
    /// The conference callers reach with `number`.
    async fn conference_by_number(&self, number: &ConferenceNumber) -> Result<Option<Conference>>;
    /// The conferences of an account, by start time.
    async fn conferences(&self, account: AccountId) -> Result<Vec<Conference>>;
    /// Replaces an existing conference (its number never changes); `NotFound` otherwise.
    async fn update_conference(&self, conference: &Conference) -> Result<()>;
    /// Removes a conference and frees its number.
    async fn delete_conference(&self, conference: &Conference) -> Result<()>;
}

/// Call detail records.
#[async_trait]
pub trait CdrStore: Send + Sync {
    /// Writes a leg, idempotently: the same leg written twice is stored once, and a
    /// closed leg is never reopened or re-closed by a late or replayed write.
    async fn put_leg(&self, leg: &CallLeg) -> Result<()>;
    /// The legs of a conference, in join order.
    async fn legs_of_conference(&self, conference: ConferenceId) -> Result<Vec<CallLeg>>;
    /// The legs an account is billed for in `month`, in join order.
    async fn legs_of_month(&self, account: AccountId, month: YearMonth) -> Result<Vec<CallLeg>>;
    /// The open legs `node` wrote, in join order.
    async fn open_legs_of_node(&self, node: &NodeId) -> Result<Vec<CallLeg>>;
    /// Writes `leg`, closed, only if the stored leg is still open: true if this
    /// call closed it, false if it was closed already (or is not stored). The
    /// reaper's write: exactly one close wins, whoever comes second changes nothing.
    async fn close_open_leg(&self, leg: &CallLeg) -> Result<bool>;
}

/// The activity feed.
#[async_trait]
pub trait ActivityStore: Send + Sync {
    /// Appends an entry.
    async fn record_activity(&self, activity: &Activity) -> Result<()>;
    /// The newest `limit` entries of an account, newest first.
    async fn recent_activity(&self, account: AccountId, limit: usize) -> Result<Vec<Activity>>;
}

/// Conference recordings.
#[async_trait]
pub trait RecordingStore: Send + Sync {
    /// Stores (or rewrites) a recording's metadata.
    async fn put_recording(&self, recording: &Recording) -> Result<()>;
    /// The recording, if it exists.
    async fn recording(&self, id: RecordingId) -> Result<Option<Recording>>;
    /// An account's recordings, of one conference or of all.
    async fn recordings(
        &self,
        account: AccountId,
        conference: Option<ConferenceId>,
    ) -> Result<Vec<Recording>>;
    /// The recordings `node` is still making ([`RecordingState::Recording`]).
    ///
    /// [`RecordingState::Recording`]: teleconf_domain::RecordingState::Recording
    async fn recordings_of_node(&self, node: &NodeId) -> Result<Vec<Recording>>;
    /// Marks a lost node's recording [`RecordingState::Cut`] to the segments it
    /// lists, only if the stored one is still recording: true if this call cut it.
    ///
    /// [`RecordingState::Cut`]: teleconf_domain::RecordingState::Cut
    async fn cut_recording(&self, recording: &Recording) -> Result<bool>;
}

/// Issued invoices.
#[async_trait]
pub trait InvoiceStore: Send + Sync {
    /// Stores an issued invoice; `Conflict("invoice")` if the month was issued already.
    async fn create_invoice(&self, invoice: &Invoice) -> Result<()>;
    /// The account's invoice for a month.
    async fn invoice(&self, account: AccountId, month: YearMonth) -> Result<Option<Invoice>>;
    /// The account's invoices, newest month first.
    async fn invoices(&self, account: AccountId) -> Result<Vec<Invoice>>;
}

/// Invitations queued for the mailer.
#[async_trait]
pub trait InvitationStore: Send + Sync {
    /// Queues invitations, all or none.
    async fn queue_invitations(&self, invitations: &[Invitation]) -> Result<()>;
    /// A conference's invitations.
    async fn invitations(&self, conference: ConferenceId) -> Result<Vec<Invitation>>;
}

/// One-time codes for recording an intro message by phone.
#[async_trait]
pub trait IntroCodeStore: Send + Sync {
    /// Stores a grant; `Conflict("intro_code")` if the code is in use (draw another).
    async fn create_intro_grant(&self, grant: &IntroGrant) -> Result<()>;
    /// The grant behind a code, if any (expired grants may still be returned; check
    /// [`IntroGrant::is_valid_at`]).
    async fn intro_grant(&self, code: &IntroCode) -> Result<Option<IntroGrant>>;
    /// Spends a code: it opens nothing any more.
    async fn spend_intro_grant(&self, code: &IntroCode) -> Result<()>;
}

/// Who is on the line in a running conference, kept by the media node.
#[async_trait]
pub trait LiveStore: Send + Sync {
    /// Adds or updates a caller on the line.
    async fn put_live(&self, participant: &LiveParticipant) -> Result<()>;
    /// The caller left.
    async fn remove_live(&self, conference: ConferenceId, leg: LegId) -> Result<()>;
    /// The callers on the line, oldest first.
    async fn live_participants(&self, conference: ConferenceId) -> Result<Vec<LiveParticipant>>;
}

/// Commands from the portal's live view, queued for the media node that holds the
/// conference (issue #8; the node takes them in order and acknowledges each).
#[async_trait]
pub trait ControlStore: Send + Sync {
    /// Queues a command for its conference. Unconsumed commands expire after
    /// [`CONTROL_TTL`]: a command is worth applying only soon after it was given.
    async fn queue_control(&self, control: &ConferenceControl) -> Result<()>;
    /// The commands waiting for `conference`, oldest first.
    async fn pending_controls(&self, conference: ConferenceId) -> Result<Vec<ConferenceControl>>;
    /// The media node applied (or dropped) a command: it leaves the queue.
    /// Acknowledging a command no longer queued is not an error.
    async fn ack_control(&self, conference: ConferenceId, id: ControlId) -> Result<()>;
}

/// How long an unconsumed live-view command stays queued.
pub const CONTROL_TTL: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// Failure counters that slow down guessing.
#[async_trait]
pub trait ThrottleStore: Send + Sync {
    /// Counts one failure of `attempt` in the window of `limit` that `now` falls
    /// in; returns the window's count including this one.
    async fn record_failure(
        &self,
        attempt: &Attempt,
        limit: &Limit,
        now: DateTime<Utc>,
    ) -> Result<u32>;
    /// The failures of `attempt` so far in the current window.
    async fn failures(&self, attempt: &Attempt, limit: &Limit, now: DateTime<Utc>) -> Result<u32>;
    /// Locks further tries of `attempt` until `until` (a limit was reached).
    async fn lock(&self, attempt: &Attempt, until: DateTime<Utc>) -> Result<()>;
    /// When the lock on `attempt` lifts, if it is locked at `now`.
    async fn locked_until(
        &self,
        attempt: &Attempt,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>>;
}

/// Every capability at once, for wiring a binary.
pub trait Store:
    AccountStore
    + UserStore
    + NumberStore
    + ConferenceStore
    + CdrStore
    + ActivityStore
    + RecordingStore
    + InvoiceStore
    + InvitationStore
    + IntroCodeStore
    + ThrottleStore
    + LiveStore
    + ControlStore
    + IpPhoneStore
    + NodeStore
    + RoomStore
{
}

impl<T> Store for T where
    T: AccountStore
        + UserStore
        + NumberStore
        + ConferenceStore
        + CdrStore
        + ActivityStore
        + RecordingStore
        + InvoiceStore
        + InvitationStore
        + IntroCodeStore
        + ThrottleStore
        + LiveStore
        + ControlStore
        + IpPhoneStore
        + NodeStore
        + RoomStore
{
}
