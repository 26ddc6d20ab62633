//! The portal's errors and the page each one shows. A form's field errors are not
//! errors here: the form is shown again with them (see [`crate::html::Form`]).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use teleconf_domain::Language;

use crate::backend::ApiFailure;
use crate::html::bare_page;
use crate::i18n::L;

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

impl IntoResponse for PortalError {
    fn into_response(self) -> Response {
        let (lang, status, title, detail) = match &self {
            PortalError::SignedOut => {
                return Redirect::to(&format!("{}/sign-in", crate::session::BASE)).into_response();
            }
            PortalError::Csrf(lang) => (
                *lang,
                StatusCode::FORBIDDEN,
                lang.t("Formulaire expiré", "Form expired"),
                lang.t(
                    "Ce formulaire n'est plus valide. Rechargez la page et recommencez.",
                    "This form is no longer valid. Reload the page and try again.",
                )
                .to_string(),
            ),
            PortalError::Api(f) | PortalError::Shown(_, f) => {
                let lang = match &self {
                    PortalError::Shown(l, _) => *l,
                    _ => L(Language::Fr),
                };
                let title = match f.status.as_u16() {
                    403 => lang.t("Accès refusé", "Not allowed"),
                    404 => lang.t("Introuvable", "Not found"),
                    422 => lang.t("Impossible pour le moment", "Not possible now"),
                    503 => lang.t("Service indisponible", "Service unavailable"),
                    _ => lang.t("Erreur", "Error"),
                };
                (lang, f.status, title, lang.api_error(f))
            }
            PortalError::Internal(detail) => {
                tracing::error!(%detail, "portal error");
                let lang = L(Language::Fr);
                (
                    lang,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Erreur interne / Internal error",
                    "Une erreur interne est survenue. / An internal error occurred.".into(),
                )
            }
        };
        let body = bare_page(
            lang,
            title,
            html! {
                h1 { (title) }
                p role="alert" { (detail) }
                p { a href=(crate::session::BASE) { (lang.t("Retour à l'accueil", "Back to the dashboard")) } }
            },
        );
        (status, body).into_response()
    }
}
