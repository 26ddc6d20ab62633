//! What every handler receives, built once in `main` (or by a test).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use teleconf_adapters::blobs::BlobStore;
use teleconf_adapters::process::Clock;
use teleconf_adapters::store::Store;
use teleconf_domain::messages::Branding;

use crate::tokens::Tokens;

/// The handlers' shared state.
#[derive(Clone)]
pub struct AppState {
    /// Persistence.
    pub store: Arc<dyn Store>,
    /// Prompts and recordings.
    pub blobs: Arc<dyn BlobStore>,
    /// Token signing and checking.
    pub tokens: Arc<Tokens>,
    /// Now.
    pub clock: Clock,
    /// The provider's name and support line, printed in confirmations.
    pub branding: Arc<Branding>,
}

impl AppState {
    /// The current instant.
    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}
