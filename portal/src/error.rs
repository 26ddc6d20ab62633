//! The portal's errors: what stops a page, and the API's refusals (the page each
//! one shows is drawn by [`crate::html`]). A form's field errors are not errors
//! here: the form is shown again with them (see [`crate::html::Form`]).

use axum::http::StatusCode;

use crate::i18n::L;

/// An API error answer (`{"error": {"code", "message", "field"}}`) and its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFailure {
    /// HTTP status.
    pub status: StatusCode,
    /// The API's machine-readable code (`invalid`, `conflict`, `state`…).
    pub code: String,
    /// The API's message (English).
    pub message: String,
    /// The input field at fault, in the API's spelling (`codes.listener`).
    pub field: Option<String>,
}

/// What can stop a page.
#[derive(Debug, thiserror::Error)]
pub enum PortalError {
    /// No session, or the API no longer accepts its token: sign in.
    #[error("not signed in")]
    SignedOut,
    /// A form without the session's CSRF token.
    #[error("the form's CSRF token is missing or wrong")]
    Csrf(L),
    /// The API refused (its status, code and message), shown in French unless
    /// [`PortalError::in_language`] says otherwise.
    #[error("the API answered {}: {}", .0.status, .0.message)]
    Api(ApiFailure),
    /// The API refused; shown in the page's language.
    #[error("the API answered {}: {}", .1.status, .1.message)]
    Shown(L, ApiFailure),
    /// A bug: the API answered something the portal cannot read.
    #[error("internal: {0}")]
    Internal(String),
}

impl PortalError {
    /// The same error, shown in `lang`.
    pub fn in_language(self, lang: L) -> Self {
        match self {
            PortalError::Api(f) => PortalError::Shown(lang, f),
            other => other,
        }
    }

    /// The API's refusal, when it is one.
    pub fn failure(&self) -> Option<&ApiFailure> {
        match self {
            PortalError::Api(f) | PortalError::Shown(_, f) => Some(f),
            _ => None,
        }
    }
}
