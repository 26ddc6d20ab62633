//! What the handler, the composer and the delivery share, built once in `main`:
//! the store (as the narrow traits the mailer uses), SES, the bucket, the
//! provider's branding and the delivery settings.

use std::sync::Arc;

use teleconf_adapters::blobs::BlobStore;
use teleconf_adapters::mail::Mailer;
use teleconf_adapters::process::Clock;
use teleconf_adapters::store::{
    AccountStore, ActivityStore, CdrStore, ConferenceStore, DeliveryStore, InvitationStore,
    InvoiceStore, NumberStore, UserStore,
};
use teleconf_domain::mail::Sender;
use teleconf_domain::messages::Branding;

/// What the mailer reads and writes in the store.
pub trait MailerStore:
    AccountStore
    + UserStore
    + NumberStore
    + ConferenceStore
    + CdrStore
    + InvitationStore
    + ActivityStore
    + DeliveryStore
    + InvoiceStore
{
}

impl<T> MailerStore for T where
    T: AccountStore
        + UserStore
        + NumberStore
        + ConferenceStore
        + CdrStore
        + InvitationStore
        + ActivityStore
        + DeliveryStore
        + InvoiceStore
{
}

/// What the handler needs, built once in `main`.
#[derive(Clone)]
pub struct Deps {
    /// The table.
    pub store: Arc<dyn MailerStore>,
    /// SES.
    pub mailer: Arc<dyn Mailer>,
    /// The bucket (an invoice mail attaches the PDF billing stored there).
    pub blobs: Arc<dyn BlobStore>,
    /// The provider's signature and support line.
    pub branding: Branding,
    /// The sending address and name (the calendar invitation's organizer).
    pub sender: Sender,
    /// The portal, for links.
    pub portal_url: String,
    /// Attempts at one mail before it is dead-lettered.
    pub max_attempts: u32,
    /// How long a claim holds.
    pub lease: chrono::Duration,
    /// Now.
    pub clock: Clock,
}

impl std::fmt::Debug for Deps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deps").finish_non_exhaustive()
    }
}
