//! The key strings of the single-table design (see the table in [`super`]). The only
//! place that spells them, so the DynamoDB adapter and the provisioning agree.

use chrono::{DateTime, SecondsFormat, Utc};

use teleconf_domain::{
    AccountId, ActivityId, Attempt, ConferenceId, ConferenceNumber, ControlId, DeliveryKey, E164,
    Email, IntroCode, InvitationId, IpPhoneSource, LegId, QueuedMailKind, RecordingId, UserId,
    YearMonth,
};

/// Name of the by-account index.
pub const GSI1: &str = "gsi1";
/// Name of the CDRs-by-account-month index.
pub const GSI2: &str = "gsi2";
/// Key attribute names: table, then each index.
pub const PK: &str = "pk";
/// Sort key attribute.
pub const SK: &str = "sk";
/// By-account index partition key.
pub const GSI1PK: &str = "gsi1pk";
/// By-account index sort key.
pub const GSI1SK: &str = "gsi1sk";
/// By-month index partition key.
pub const GSI2PK: &str = "gsi2pk";
/// By-month index sort key.
pub const GSI2SK: &str = "gsi2sk";
/// The attribute naming an item's kind (not `kind`: entities have fields of that name).
pub const KIND: &str = "item_kind";

/// The time-to-live attribute (epoch seconds); DynamoDB deletes expired items.
pub const TTL: &str = "ttl";

/// Attributes the store owns on every item; no entity field may use these names.
pub const RESERVED: [&str; 8] = [PK, SK, GSI1PK, GSI1SK, GSI2PK, GSI2SK, KIND, TTL];

/// A `pk`/`sk` pair.
pub type Key = (String, String);

/// Sortable text for an instant.
pub fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The account item.
pub fn account(id: AccountId) -> Key {
    (format!("ACCOUNT#{id}"), "ACCOUNT".into())
}
/// The partition of every account in the by-account index.
pub const PROVIDER: &str = "PROVIDER";
/// The by-account index partition of an account.
pub fn by_account(id: AccountId) -> String {
    format!("ACCOUNT#{id}")
}
/// The account's owner counter (guards "an account keeps an owner").
pub fn owners(id: AccountId) -> Key {
    (format!("ACCOUNT#{id}"), "OWNERS".into())
}
/// The user item.
pub fn user(id: UserId) -> Key {
    (format!("USER#{id}"), "USER".into())
}
/// The key item that reserves an e-mail.
pub fn email(email: &Email) -> Key {
    (format!("EMAIL#{email}"), "EMAIL".into())
}
/// The access number item.
pub fn number(n: &E164) -> Key {
    (format!("NUMBER#{n}"), "NUMBER".into())
}
/// The conference item.
pub fn conference(id: ConferenceId) -> Key {
    (format!("CONF#{id}"), "CONF".into())
}
/// A conference's sort key in the by-account index.
pub fn conference_by_start(start: DateTime<Utc>, id: ConferenceId) -> String {
    format!("CONF#{}#{id}", instant(start))
}
/// The key item that reserves a conference number.
pub fn conference_number(n: &ConferenceNumber) -> Key {
    (format!("CONFNUM#{n}"), "CONFNUM".into())
}
/// A CDR leg item, in its conference's partition.
pub fn leg(conference: ConferenceId, leg: LegId) -> Key {
    (format!("CONF#{conference}"), format!("LEG#{leg}"))
}
/// The by-month index partition of an account's CDRs.
pub fn legs_of_month(account: AccountId, month: YearMonth) -> String {
    format!("ACCOUNT#{account}#MONTH#{month}")
}
/// The by-account index partition of a node's open legs: a sparse index, since
/// only an open leg written by a named node carries it (the reaper's lookup).
pub fn open_legs_of_node(node: &teleconf_domain::NodeId) -> String {
    format!("NODE#{node}#OPEN")
}
/// The by-month index partition of the recordings a node is making: sparse, as a
/// recording carries it only while recording (the reaper's lookup).
pub fn recordings_of_node(node: &teleconf_domain::NodeId) -> String {
    format!("NODE#{node}#REC")
}
/// A leg's sort key in the by-month index (and among its node's open legs).
pub fn leg_by_join(joined: DateTime<Utc>, leg: LegId) -> String {
    format!("{}#{leg}", instant(joined))
}
/// An activity entry, in its account's partition.
pub fn activity(account: AccountId, id: ActivityId) -> Key {
    (format!("ACCOUNT#{account}"), format!("ACTIVITY#{id}"))
}
/// A recording item.
pub fn recording(id: RecordingId) -> Key {
    (format!("REC#{id}"), "REC".into())
}
/// A recording's sort key in the by-account index: grouped by conference.
pub fn recording_by_conference(conference: ConferenceId, id: RecordingId) -> String {
    format!("REC#{conference}#{id}")
}
/// An invoice, in its account's partition.
pub fn invoice(account: AccountId, month: YearMonth) -> Key {
    (format!("ACCOUNT#{account}"), format!("INVOICE#{month}"))
}
/// A caller on the line, in its conference's partition.
pub fn live(conference: ConferenceId, leg: LegId) -> Key {
    (format!("CONF#{conference}"), format!("LIVE#{leg}"))
}
/// A live-view command waiting for the media node, in its conference's partition.
pub fn control(conference: ConferenceId, id: ControlId) -> Key {
    (format!("CONF#{conference}"), format!("CONTROL#{id}"))
}
/// A queued invitation, in its conference's partition.
pub fn invitation(conference: ConferenceId, id: InvitationId) -> Key {
    (format!("CONF#{conference}"), format!("INVITE#{id}"))
}
/// A one-time intro recording code.
pub fn intro_code(code: &IntroCode) -> Key {
    (format!("INTROCODE#{code}"), "INTROCODE".into())
}
/// A failure counter for one attempt kind in one window.
pub fn throttle(attempt: &Attempt, window_start: DateTime<Utc>) -> Key {
    (format!("THROTTLE#{}", attempt.key()), instant(window_start))
}
/// The lock on one attempt kind, beside its counters.
pub fn throttle_lock(attempt: &Attempt) -> Key {
    (format!("THROTTLE#{}", attempt.key()), "LOCK".into())
}
/// A conference's lifecycle, in its partition.
pub fn lifecycle(conference: ConferenceId) -> Key {
    (format!("CONF#{conference}"), "LIFECYCLE".into())
}
/// A mail queued for a conference, one per kind.
pub fn queued_mail(conference: ConferenceId, kind: QueuedMailKind) -> Key {
    (
        format!("CONF#{conference}"),
        format!("MAIL#{}", kind.as_str()),
    )
}
/// The mailer's ledger entry for one delivery.
pub fn delivery(key: &DeliveryKey) -> Key {
    (format!("DELIVERY#{key}"), "DELIVERY".into())
}
/// An IP phone, keyed by its source (which makes the source unique); the same text
/// sorts it among its account's items in the by-account index.
pub fn ip_phone(source: &IpPhoneSource) -> Key {
    (format!("IPPHONE#{source}"), "IPPHONE".into())
}
/// The `gsi2` partition of every account's IP phones (the media nodes' directory).
pub const IP_PHONES: &str = "IPPHONES";

/// A media node's heartbeat.
pub fn node(node: &teleconf_domain::NodeId) -> Key {
    (format!("NODE#{node}"), "NODE".into())
}
/// The `gsi2` partition of every node's heartbeat.
pub const NODES: &str = "NODES";

/// The lease of a conference's room.
pub fn room(conference: ConferenceId) -> Key {
    (format!("ROOM#{conference}"), "ROOM".into())
}
