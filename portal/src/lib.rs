//! # teleconf-portal
//!
//! The customer portal (« Espace client »): server-rendered pages in French (by
//! default) and English for conferences, their confirmation and invitations, the
//! live view of a running conference, CDR logs, recordings, invoices, users and
//! rights, access numbers and their messages, and the provider's accounts and
//! exports. The API's router mounts it under `/portal` ([`mount`]), so it runs
//! wherever the API runs: under Lambda in AWS and on the local listener.
//!
//! The portal is a client of the API, in process: each page calls the API's own
//! routes with the signed-in user's token ([`backend`]). Permissions, validation and
//! errors are therefore the API's, on the one matrix of `teleconf_domain::permissions`;
//! the portal asks the same matrix only to decide which controls to show.
//!
//! HTML is written with `maud` (compile-time checked, escaped by default, pages are
//! plain Rust functions); one small hand-written script refreshes the live view. No
//! build step, no asset from elsewhere: the stylesheet and the script are compiled
//! into the binary ([`assets`]).
//!
//! ## Layout
//! - [`backend`]: the in-process API client and the API's error answers.
//! - [`session`]: session and language cookies, CSRF tokens, the signed-in user.
//! - [`i18n`]: labels in both languages, dates, times and amounts, API errors in French.
//! - [`html`]: the page frame, navigation by role, labelled fields with their errors.
//! - [`pages`]: one module per page or group of pages.
//! - [`assets`]: the stylesheet and the live view's script.
//! - [`error`]: what stops a page, and the page it shows.

pub mod assets;
pub mod backend;
pub mod error;
pub mod html;
pub mod i18n;
pub mod pages;
pub mod session;

use axum::Router;

use crate::backend::Backend;

/// What every portal handler shares: the API to call.
#[derive(Clone, Debug)]
pub struct Portal {
    /// The API's router, called in process.
    pub backend: Backend,
}

/// The API with the portal mounted under `/portal` (and `/` leading to it); every
/// other path is the API's.
pub fn mount(api: Router) -> Router {
    let portal = Portal {
        backend: Backend::new(api.clone()),
    };
    Router::new()
        .nest(session::BASE, pages::routes().with_state(portal))
        // The dashboard is `/portal`; `/` and `/portal/` lead there.
        .route("/", axum::routing::get(to_dashboard))
        .route("/portal/", axum::routing::get(to_dashboard))
        .fallback_service(api)
}

async fn to_dashboard() -> axum::response::Redirect {
    axum::response::Redirect::to(session::BASE)
}
