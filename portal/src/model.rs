//! The API's answers as the pages read them: the JSON of `functions/api`'s views,
//! read into the domain's own types (roles, languages, ids, zones) wherever the
//! domain has one. Only the fields the pages show are read.

use chrono::{DateTime, FixedOffset, NaiveDate};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::Deserialize;
use teleconf_domain::permissions::Actor;
use teleconf_domain::{
    AccountId, ActivityKind, CallerRole, ConferenceId, ConferenceStatus, IpPhoneSource, Language,
    NumberKind, Role, UserId,
};

/// `GET /v1/me`.
#[derive(Debug, Clone, Deserialize)]
pub struct Me {
    /// The signed-in user.
    pub user: UserView,
    /// Their account.
    pub account: AccountView,
}

impl Me {
    /// The user as the permission matrix sees them.
    pub fn actor(&self) -> Actor {
        Actor {
            user: self.user.id,
            account: self.user.account_id,
            role: self.user.role,
        }
    }
}

/// An IP phone of the account (`GET /v1/ip-phones`).
#[derive(Debug, Clone, Deserialize)]
pub struct IpPhoneView {
    /// An address or a SIP identity, canonical.
    pub source: IpPhoneSource,
    /// What the owner calls it.
    pub label: String,
}

/// A user.
#[derive(Debug, Clone, Deserialize)]
pub struct UserView {
    /// Identity.
    pub id: UserId,
    /// Account.
    pub account_id: AccountId,
    /// Login.
    pub email: String,
    /// Name.
    pub name: String,
    /// Role.
    pub role: Role,
}

/// An account.
#[derive(Debug, Clone, Deserialize)]
pub struct AccountView {
    /// Identity.
    pub id: AccountId,
    /// Name.
    pub name: String,
    /// Where times are shown.
    pub time_zone: Tz,
    /// Its default language.
    pub language: Language,
    /// Its plan.
    pub plan: PlanView,
}

/// A plan.
#[derive(Debug, Clone, Deserialize)]
pub struct PlanView {
    /// Callers per conference.
    pub participant_limit: u32,
    /// Per participant-minute.
    pub rate_per_minute: Decimal,
    /// Billing increment.
    pub increment_secs: u32,
    /// Monthly fee.
    pub monthly_fee: Decimal,
}

/// `POST /v1/accounts` answer.
#[derive(Debug, Clone, Deserialize)]
pub struct CreatedAccount {
    /// The account.
    pub account: AccountView,
}

/// A conference's codes (present when the caller may modify it).
#[derive(Debug, Clone, Deserialize)]
pub struct CodesView {
    /// Participant.
    pub participant: String,
    /// Listener.
    pub listener: String,
    /// Moderator.
    pub moderator: String,
}

/// An access number in a conference.
#[derive(Debug, Clone, Deserialize)]
pub struct AccessNumberView {
    /// As people read it.
    pub national: String,
    /// Local or toll-free.
    pub kind: NumberKind,
}

/// A conference.
#[derive(Debug, Clone, Deserialize)]
pub struct ConferenceView {
    /// Identity.
    pub id: ConferenceId,
    /// The 7 digits.
    pub conference_number: String,
    /// Description.
    pub description: String,
    /// Start, in the account's zone.
    pub start: DateTime<FixedOffset>,
    /// End, in the account's zone.
    pub end: DateTime<FixedOffset>,
    /// Recorded.
    pub record: bool,
    /// Intro prompt.
    pub intro_prompt: Option<String>,
    /// Language of its messages.
    pub language: Language,
    /// Codes, when the caller may modify it.
    pub codes: Option<CodesView>,
    /// Access numbers.
    pub access_numbers: Vec<AccessNumberView>,
    /// Where it is in its life.
    pub status: ConferenceStatus,
    /// Who scheduled it.
    pub created_by: UserId,
}

/// The three messages of an access number's conference action.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PromptIds {
    /// « Msg d'accueil général ».
    pub greeting: Option<String>,
    /// « Msg téléconférence désirée ».
    pub conference_number: Option<String>,
    /// « Msg code d'accès ».
    pub access_code: Option<String>,
}

/// What a call to the number does.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ActionView {
    /// « Accéder Téléconférences ».
    ConferenceAccess {
        /// Its messages.
        #[serde(default)]
        prompts: PromptIds,
    },
    /// Nothing.
    None,
}

/// An access number.
#[derive(Debug, Clone, Deserialize)]
pub struct NumberView {
    /// E.164.
    pub number: String,
    /// As people read it.
    pub national: String,
    /// Local or toll-free.
    pub kind: NumberKind,
    /// Greeting language.
    pub greeting_language: Language,
    /// « Filtrer ».
    pub filter: bool,
    /// « Numéro de Callthru? ».
    pub callthru: bool,
    /// Notes.
    pub notes: String,
    /// « Service 911 ».
    pub e911_address: String,
    /// « Action ».
    pub action: ActionView,
    /// « Nom affiché ».
    pub display_name: String,
    /// « Confidentiel ».
    pub confidential: bool,
}

/// A page of CDRs.
#[derive(Debug, Clone, Deserialize)]
pub struct CdrPage {
    /// The legs.
    pub items: Vec<CdrView>,
}

/// One leg.
#[derive(Debug, Clone, Deserialize)]
pub struct CdrView {
    /// Conference.
    pub conference_id: ConferenceId,
    /// Its number.
    pub conference_number: String,
    /// The caller.
    pub caller_id: String,
    /// Role.
    pub role: CallerRole,
    /// Joined.
    pub joined_at: DateTime<FixedOffset>,
    /// Left.
    pub left_at: Option<DateTime<FixedOffset>>,
    /// Seconds on the line.
    pub duration_s: Option<u64>,
}

/// A recording.
#[derive(Debug, Clone, Deserialize)]
pub struct RecordingView {
    /// Identity.
    pub id: String,
    /// Conference.
    pub conference_id: ConferenceId,
    /// Started.
    pub started_at: DateTime<FixedOffset>,
    /// Length.
    pub duration_ms: u64,
    /// Size.
    pub size_bytes: u64,
    /// A short-lived link (on the single recording only).
    pub download_url: Option<String>,
}

/// An invoice line.
#[derive(Debug, Clone, Deserialize)]
pub struct InvoiceLineView {
    /// The conference's number.
    pub conference_number: Option<String>,
    /// Description.
    pub description: String,
    /// Legs.
    pub legs: u64,
    /// Minutes.
    pub billable_minutes: Decimal,
    /// Amount.
    pub amount: Decimal,
}

/// A tax line.
#[derive(Debug, Clone, Deserialize)]
pub struct TaxView {
    /// Name.
    pub name: String,
    /// Rate.
    pub rate: Decimal,
    /// Amount.
    pub amount: Decimal,
}

/// Whether an invoice was issued or is the current month's running estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InvoiceStatus {
    /// Issued by the monthly billing.
    Issued,
    /// The current month so far.
    Estimate,
}

/// An invoice, issued or the month's running estimate (`GET /v1/invoices`).
#[derive(Debug, Clone, Deserialize)]
pub struct InvoiceView {
    /// Issued or estimate.
    pub status: InvoiceStatus,
    /// Number.
    pub number: String,
    /// Month, YYYY-MM.
    pub month: String,
    /// Lines.
    pub lines: Vec<InvoiceLineView>,
    /// Usage.
    pub usage_amount: Decimal,
    /// Fee.
    pub plan_fee: Decimal,
    /// Taxes.
    pub taxes: Vec<TaxView>,
    /// Total.
    pub total: Decimal,
    /// Due; none on an estimate.
    pub due_on: Option<NaiveDate>,
    /// The PDF, a link valid a few minutes; none on an estimate.
    pub pdf_url: Option<String>,
}

/// An activity entry.
#[derive(Debug, Clone, Deserialize)]
pub struct ActivityView {
    /// When.
    pub at: DateTime<FixedOffset>,
    /// What.
    pub kind: ActivityKind,
    /// About.
    pub summary: String,
    /// The conference concerned.
    pub conference_id: Option<ConferenceId>,
}

/// A caller on the line.
#[derive(Debug, Clone, Deserialize)]
pub struct ParticipantView {
    /// Their leg.
    pub leg_id: String,
    /// Caller ID.
    pub caller_id: String,
    /// Role.
    pub role: CallerRole,
    /// Not heard.
    pub muted: bool,
    /// Joined.
    pub joined_at: DateTime<FixedOffset>,
}

/// The one-time code to record the intro by phone.
#[derive(Debug, Clone, Deserialize)]
pub struct IntroByPhone {
    /// The number to dial, as people read it.
    pub national: String,
    /// The code.
    pub code: String,
    /// Valid until.
    pub expires_at: DateTime<FixedOffset>,
}

/// An uploaded prompt.
#[derive(Debug, Clone, Deserialize)]
pub struct PromptView {
    /// Its id.
    pub id: String,
}

/// Invitations queued.
#[derive(Debug, Clone, Deserialize)]
pub struct Queued {
    /// How many.
    pub queued: usize,
}
