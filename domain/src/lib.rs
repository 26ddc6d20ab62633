//! # teleconf-domain
//!
//! What the teleconference service is, without any I/O: the product's nouns, each
//! valid by construction (a value of these types has passed the rules that make it
//! one: an [`E164`] is a dialable number, an [`AccessCodes`] never gives two roles
//! the same code), the rules as pure functions, the billing arithmetic, what the
//! product says and the sound it plays. No AWS SDK, no async runtime, no clock: time
//! comes in as an argument. Cargo enforces it: this crate depends on none of them,
//! and the adapters (`teleconf-adapters`) depend on it, never the reverse.
//!
//! ## Layout
//! The nouns (each re-exported here):
//! - [`ids`]: one opaque id type per entity (UUIDv7), so one is never passed for another.
//! - [`account`]: an account (the provider's customer) and the plan it is billed on.
//! - [`tax`]: the Canadian province and its sales taxes.
//! - [`user`]: a user, their role, e-mail and password hash; signing in.
//! - [`e164`]: a dialable number in E.164 form.
//! - [`phone_number`]: an access number, its kind and what a call to it does.
//! - [`codes`]: conference numbers, access codes and the role each admits.
//! - [`conference`]: a scheduled conference: its window, codes and admission.
//! - [`lifecycle`]: a conference's life as the scheduler records it (scheduled, open,
//!   running, ended), each step written once.
//! - [`queued_mail`]: the mail the scheduler queues at a lifecycle step.
//! - [`delivery`]: the mailer's ledger: a mail's key, a claim on it and its outcome,
//!   so each mail is sent exactly once.
//! - [`invitation`]: an invitee to be mailed their role's code.
//! - [`intro_code`]: the one-time code that records an intro message by phone.
//! - [`cdr`]: a call leg (the CDR), its month, cause and quality.
//! - [`live`]: a caller on the line of a running conference.
//! - [`control`]: a command from the portal's live view for the media node.
//! - [`activity`]: the account's activity feed.
//! - [`recording`]: a conference recording's metadata.
//! - [`invoice`]: an issued invoice, its lines and taxes, and its renderings: the
//!   CSV, the words (the PDF's and the mail's) and the mail (the PDF is drawn by
//!   functions/billing).
//! - [`ip_phone`]: an IP phone whose `*44` reaches the account's conferences.
//! - [`throttle`]: what a failure counter counts and its limits.
//! - [`blob_key`]: where each stored file (prompt, recording, export) is named.
//!
//! The rules and what is made of the nouns:
//! - [`permissions`]: the one matrix of who may do what to which conference.
//! - [`billing`]: CDR legs priced in exact decimal money, invoices with late-leg
//!   adjustments and taxes, the CDR detail and finance export CSVs.
//! - [`spreadsheet`]: every CSV the service writes, its cells safe to open in a
//!   spreadsheet (no formula runs; numbers stay numbers).
//! - [`messages`]: what the product says, in French and English (the confirmation,
//!   invitations, reports; the invoice's mail is [`invoice`]'s).
//! - [`mail`]: a mail as the product writes it, and its MIME bytes.
//! - [`audio`]: WAV reading and writing, G.711 µ-law/A-law, prompt normalisation
//!   to 8 kHz mono.
//! - [`random`]: unpredictable codes and bytes from the OS CSPRNG.
//! - [`error`]: the crate's error type.
//! - `testkit` (feature `testkit`): valid entities for tests, each unique.

pub mod account;
pub mod activity;
pub mod audio;
pub mod billing;
pub mod blob_key;
pub mod cdr;
pub mod codes;
pub mod conference;
pub mod control;
pub mod delivery;
pub mod e164;
pub mod error;
pub mod ids;
pub mod intro_code;
pub mod invitation;
pub mod invoice;
pub mod ip_phone;
pub mod lifecycle;
pub mod live;
pub mod mail;
pub mod messages;
pub mod node;
pub mod permissions;
pub mod phone_number;
pub mod queued_mail;
pub mod random;
pub mod recording;
pub mod spreadsheet;
pub mod tax;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
pub mod throttle;
pub mod user;

pub use account::{Account, DEFAULT_TIME_ZONE, Language, PastPlan, Plan};
pub use activity::{Activity, ActivityKind};
pub use blob_key::BlobKey;
pub use cdr::{CallLeg, DisconnectCause, LegQuality, YearMonth};
pub use codes::{AccessCode, AccessCodes, CallerRole, CodeChoices, ConferenceNumber};
pub use conference::{Admission, Conference, ConferenceStatus, Schedule};
pub use control::{ConferenceControl, ControlCommand};
pub use delivery::{Claim, DeliveryKey, Outcome};
pub use e164::E164;
pub use error::{Error, Result};
pub use ids::{
    AccountId, ActivityId, ConferenceId, ControlId, InvitationId, LegId, PromptId, RecordingId,
    UserId,
};
pub use intro_code::{IntroCode, IntroGrant};
pub use invitation::Invitation;
pub use invoice::{Invoice, InvoiceLine, TaxLine};
pub use ip_phone::{IpPhone, IpPhoneSource, SipIdentity};
pub use lifecycle::{Callers, Lifecycle, Step};
pub use live::LiveParticipant;
pub use node::{NodeHeartbeat, NodeId, NodeState, RoomLease};
pub use phone_number::{ConferencePrompts, NumberAction, NumberKind, PhoneNumber};
pub use queued_mail::{QueuedMail, QueuedMailKind};
pub use recording::{Recording, RecordingSegment, RecordingState};
pub use tax::{Province, Tax};
pub use throttle::{Attempt, CallerSource, Limit};
pub use user::{Email, PasswordHash, Role, User, authenticate};
