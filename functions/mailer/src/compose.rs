//! The mails a change calls for: who receives what, in which language, with which
//! codes, each under the idempotency key that makes it exactly once.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use teleconf_domain::mail::OutgoingMail;
use teleconf_domain::messages::attendance::AttendanceReport;
use teleconf_domain::messages::calendar::{CalendarInvite, Method, dial_string};
use teleconf_domain::messages::recording_ready::RecordingReady;
use teleconf_domain::messages::{Confirmation, Notice};
use teleconf_domain::{
    Account, AccountId, CallerRole, Conference, ConferenceId, DeliveryKey, Email, Invitation,
    Invoice, Language, PhoneNumber, QueuedMail, QueuedMailKind, Recording,
};

use crate::change::Change;
use crate::deps::Deps;
use crate::error::MailerError;
use crate::invoice_notice;

/// One mail to send exactly once.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// Its idempotency key.
    pub key: DeliveryKey,
    /// The account whose activity feed reports a dead letter.
    pub account_id: AccountId,
    /// The conference it is about (none for an invoice).
    pub conference_id: Option<ConferenceId>,
    /// What it is, for the log and the dead letter (`invitation to a@b.example`).
    pub label: String,
    /// The message.
    pub mail: OutgoingMail,
}

/// What every mail about one conference needs from the store.
struct Context {
    account: Account,
    numbers: Vec<PhoneNumber>,
}

async fn context(deps: &Deps, conference: &Conference) -> Result<Option<Context>, MailerError> {
    let Some(account) = deps.store.account(conference.account_id).await? else {
        tracing::warn!(conference = %conference.id, "conference of no account: no mail");
        return Ok(None);
    };
    let numbers = PhoneNumber::for_conferences(deps.store.numbers(account.id).await?);
    Ok(Some(Context { account, numbers }))
}

/// The creator's address, or `None` (with a warning) when the user is gone.
async fn creator(deps: &Deps, conference: &Conference) -> Result<Option<Email>, MailerError> {
    let user = deps.store.user(conference.created_by).await?;
    if user.is_none() {
        tracing::warn!(conference = %conference.id, "the conference's creator is gone: no mail to them");
    }
    Ok(user.map(|u| u.email))
}

fn key(parts: &[&str]) -> Result<DeliveryKey, MailerError> {
    Ok(DeliveryKey::new(parts).map_err(teleconf_adapters::Error::from)?)
}

/// A confirmation, invitation, update or cancellation with its calendar invitation.
#[allow(clippy::too_many_arguments)]
fn notice_mail(
    deps: &Deps,
    ctx: &Context,
    conference: &Conference,
    notice: Notice,
    roles: &[CallerRole],
    language: Language,
    to: &Email,
    now: DateTime<Utc>,
) -> OutgoingMail {
    let tz: Tz = ctx.account.time_zone;
    let rendered = Confirmation {
        conference,
        access_numbers: &ctx.numbers,
        time_zone: tz,
        language,
        roles,
        branding: &deps.branding,
    }
    .render_notice(notice);
    // One tap dials the first number with the code of the recipient's role; the creator
    // (who holds every code) dials in as moderator.
    let role = if roles.contains(&CallerRole::Moderator) {
        CallerRole::Moderator
    } else {
        roles.first().copied().unwrap_or(CallerRole::Participant)
    };
    let dial = ctx
        .numbers
        .first()
        .map(|n| dial_string(&n.number, &conference.number, conference.codes.code(role)));
    let invite = CalendarInvite {
        conference,
        method: if notice == Notice::Cancellation {
            Method::Cancel
        } else {
            Method::Request
        },
        summary: &rendered.subject,
        description: &rendered.text,
        dial: dial.as_deref().filter(|_| notice != Notice::Cancellation),
        organizer: &deps.sender,
        attendee: to,
        now,
    };
    let attachment = invite.attachment();
    let mut mail = rendered.into_mail(to.clone());
    mail.attachments.push(attachment);
    mail
}

/// The mails `change` calls for (none when the conference's account is gone).
pub async fn mails_for(
    deps: &Deps,
    change: &Change,
    now: DateTime<Utc>,
) -> Result<Vec<Planned>, MailerError> {
    match change {
        Change::Nothing => Ok(Vec::new()),
        Change::Scheduled(c) => confirmation(deps, c, now).await,
        Change::Changed {
            conference,
            sequence,
        } => {
            to_recipients(
                deps,
                conference,
                Notice::Update,
                Some(sequence.as_str()),
                now,
            )
            .await
        }
        Change::Cancelled(c) => to_recipients(deps, c, Notice::Cancellation, None, now).await,
        Change::Invited(i) => invitation(deps, i, now).await,
        Change::Recorded(r) => recording_ready(deps, r).await,
        Change::Queued(q) => match q.kind {
            QueuedMailKind::AttendanceReport => attendance_report(deps, q).await,
        },
        Change::Invoiced(invoice) => invoice_mails(deps, invoice).await,
    }
}

/// The confirmation to the creator of a conference just scheduled, with every code.
async fn confirmation(
    deps: &Deps,
    c: &Conference,
    now: DateTime<Utc>,
) -> Result<Vec<Planned>, MailerError> {
    let (Some(ctx), Some(to)) = (context(deps, c).await?, creator(deps, c).await?) else {
        return Ok(Vec::new());
    };
    Ok(vec![Planned {
        key: key(&["confirmation", &c.id.to_string(), to.as_str()])?,
        account_id: c.account_id,
        conference_id: Some(c.id),
        label: format!("confirmation to {to}"),
        mail: notice_mail(
            deps,
            &ctx,
            c,
            Notice::Confirmation,
            &CallerRole::ALL,
            c.language,
            &to,
            now,
        ),
    }])
}

/// An update (the stream record's `sequence` in its key) or a cancellation to the
/// creator and every invitee, each with their own codes in their language.
async fn to_recipients(
    deps: &Deps,
    c: &Conference,
    notice: Notice,
    sequence: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Vec<Planned>, MailerError> {
    let Some(ctx) = context(deps, c).await? else {
        return Ok(Vec::new());
    };
    let kind = match notice {
        Notice::Cancellation => "cancellation",
        _ => "update",
    };
    let id = c.id.to_string();
    let mut out = Vec::new();
    for (to, roles, language) in recipients(deps, c).await? {
        let roles_key = role_list(&roles);
        let mut parts = vec![kind, id.as_str()];
        parts.extend(sequence);
        parts.extend([to.as_str(), roles_key.as_str()]);
        out.push(Planned {
            key: key(&parts)?,
            account_id: c.account_id,
            conference_id: Some(c.id),
            label: format!("{kind} to {to}"),
            mail: notice_mail(deps, &ctx, c, notice, &roles, language, &to, now),
        });
    }
    Ok(out)
}

/// The invitation to one invitee, with only their role's code.
async fn invitation(
    deps: &Deps,
    i: &Invitation,
    now: DateTime<Utc>,
) -> Result<Vec<Planned>, MailerError> {
    let Some(c) = deps.store.conference(i.conference_id).await? else {
        tracing::info!(invitation = %i.id, "the conference is gone: no invitation");
        return Ok(Vec::new());
    };
    let Some(ctx) = context(deps, &c).await? else {
        return Ok(Vec::new());
    };
    Ok(vec![Planned {
        key: key(&["invitation", &i.id.to_string()])?,
        account_id: c.account_id,
        conference_id: Some(c.id),
        label: format!("invitation to {}", i.email),
        mail: notice_mail(
            deps,
            &ctx,
            &c,
            Notice::Invitation,
            &[i.role],
            i.language,
            &i.email,
            now,
        ),
    }])
}

/// The recording-ready mail to the creator, with a link to the portal.
async fn recording_ready(deps: &Deps, r: &Recording) -> Result<Vec<Planned>, MailerError> {
    let Some(c) = deps.store.conference(r.conference_id).await? else {
        return Ok(Vec::new());
    };
    let (Some(ctx), Some(to)) = (context(deps, &c).await?, creator(deps, &c).await?) else {
        return Ok(Vec::new());
    };
    let rendered = RecordingReady {
        conference: &c,
        recording: r,
        portal_url: &deps.portal_url,
        time_zone: ctx.account.time_zone,
        language: c.language,
        branding: &deps.branding,
    }
    .render();
    Ok(vec![Planned {
        key: key(&["recording_ready", &r.id.to_string(), to.as_str()])?,
        account_id: c.account_id,
        conference_id: Some(c.id),
        label: format!("recording ready to {to}"),
        mail: rendered.into_mail(to),
    }])
}

/// The attendance report to the creator once the conference ended (queued by the
/// scheduler).
async fn attendance_report(deps: &Deps, q: &QueuedMail) -> Result<Vec<Planned>, MailerError> {
    let Some(c) = deps.store.conference(q.conference_id).await? else {
        return Ok(Vec::new());
    };
    let (Some(ctx), Some(to)) = (context(deps, &c).await?, creator(deps, &c).await?) else {
        return Ok(Vec::new());
    };
    let legs = deps.store.legs_of_conference(c.id).await?;
    let rendered = AttendanceReport {
        conference: &c,
        legs: &legs,
        time_zone: ctx.account.time_zone,
        language: c.language,
        branding: &deps.branding,
    }
    .render();
    Ok(vec![Planned {
        key: key(&[q.kind.as_str(), &c.id.to_string(), to.as_str()])?,
        account_id: c.account_id,
        conference_id: Some(c.id),
        label: format!("attendance report to {to}"),
        mail: rendered.into_mail(to),
    }])
}

/// The invoice, PDF attached, to each owner of the account.
async fn invoice_mails(deps: &Deps, invoice: &Invoice) -> Result<Vec<Planned>, MailerError> {
    let mails = invoice_notice::invoice_mails(
        deps.store.as_ref(),
        deps.blobs.as_ref(),
        &deps.branding,
        invoice.account_id,
        invoice.month,
    )
    .await?;
    let (account, month) = (invoice.account_id.to_string(), invoice.month.to_string());
    mails
        .into_iter()
        .map(|mail| {
            Ok(Planned {
                key: key(&["invoice", &account, &month, mail.to.as_str()])?,
                account_id: invoice.account_id,
                conference_id: None,
                label: format!("invoice {} to {}", invoice.number, mail.to),
                mail,
            })
        })
        .collect()
}

/// `participant+listener+moderator`: tells apart two invitations of one address.
fn role_list(roles: &[CallerRole]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join("+")
}

/// Who hears about a change to `conference`: its creator with every code in the
/// conference's language, then each invitee with their own code in theirs.
async fn recipients(
    deps: &Deps,
    conference: &Conference,
) -> Result<Vec<(Email, Vec<CallerRole>, Language)>, MailerError> {
    let mut out = Vec::new();
    if let Some(to) = creator(deps, conference).await? {
        out.push((to, CallerRole::ALL.to_vec(), conference.language));
    }
    for i in deps.store.invitations(conference.id).await? {
        out.push((i.email, vec![i.role], i.language));
    }
    Ok(out)
}
