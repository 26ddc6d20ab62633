//! THE MAILER HOOK of the portal's browser tests: what turns the invitations the
//! portal queued into mail in the emulator's outbox.
//!
//! The mailer Lambda (`functions/mailer`, issue #6) is being built on its own
//! branch; until it is merged, [`deliver_queued_invitations`] does its job for the
//! tests with core's pieces only: each invitation queued for the conference is
//! rendered with `teleconf_core::messages::Confirmation` for the invitee's role and
//! language, and sent through SES (`SesMailer`) to the emulator. When #6 lands, this
//! one function is rewired to call the mailer's handler on the same invitations; the
//! browser test does not change.

use teleconf_core::domain::{ConferenceId, NumberAction};
use teleconf_core::mail::Mailer;
use teleconf_core::messages::{Branding, Confirmation};
use teleconf_core::store::{AccountStore, ConferenceStore, InvitationStore, NumberStore};

use crate::stack::Stack;

/// Sends one mail per invitation queued for `conference`; how many were sent.
pub async fn deliver_queued_invitations(
    stack: &Stack,
    conference: ConferenceId,
) -> anyhow::Result<usize> {
    let c = stack
        .store
        .conference(conference)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no conference {conference}"))?;
    let account = stack
        .store
        .account(c.account_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no account {}", c.account_id))?;
    let numbers: Vec<_> = stack
        .store
        .numbers(c.account_id)
        .await?
        .into_iter()
        .filter(|n| matches!(n.action, NumberAction::ConferenceAccess { .. }))
        .collect();
    let branding = Branding::default();
    let invitations = stack.store.invitations(conference).await?;
    for invitation in &invitations {
        let mail = Confirmation {
            conference: &c,
            access_numbers: &numbers,
            time_zone: account.time_zone,
            language: invitation.language,
            roles: &[invitation.role],
            branding: &branding,
        }
        .render()
        .into_mail(invitation.email.clone());
        stack.mailer.send(&mail).await?;
    }
    Ok(invitations.len())
}
