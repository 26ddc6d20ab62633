//! The product's nouns, each valid by construction: a value of these types has
//! passed the rules that make it one (an [`E164`] is a dialable number, an
//! [`AccessCodes`] never gives two roles the same code).

pub mod account;
pub mod activity;
pub mod cdr;
pub mod codes;
pub mod conference;
pub mod control;
pub mod delivery;
pub mod e164;
pub mod ids;
pub mod intro_code;
pub mod invitation;
pub mod invoice;
pub mod ip_phone;
pub mod lifecycle;
pub mod live;
pub mod phone_number;
pub mod queued_mail;
pub mod recording;
pub mod tax;
pub mod throttle;
pub mod user;

pub use account::{Account, DEFAULT_TIME_ZONE, Language, PastPlan, Plan};
pub use activity::{Activity, ActivityKind};
pub use cdr::{CallLeg, DisconnectCause, LegQuality, YearMonth};
pub use codes::{AccessCode, AccessCodes, CallerRole, CodeChoices, ConferenceNumber};
pub use conference::{Admission, Conference, ConferenceStatus, Schedule};
pub use control::{ConferenceControl, ControlCommand};
pub use delivery::{Claim, DeliveryKey, Outcome};
pub use e164::E164;
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
pub use phone_number::{ConferencePrompts, NumberAction, NumberKind, PhoneNumber};
pub use queued_mail::{QueuedMail, QueuedMailKind};
pub use recording::Recording;
pub use tax::{Province, Tax};
pub use throttle::{Attempt, CallerSource, Limit};
pub use user::{Email, PasswordHash, Role, User, authenticate};
