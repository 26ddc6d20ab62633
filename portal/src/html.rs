//! The page frame (header, navigation, language switch) and the form pieces every
//! page shares: a labelled field with the API's error beside it, in the page's
//! language, linked to the input for screen readers (`aria-describedby`).

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use teleconf_domain::Language;
use teleconf_domain::permissions::{Action, decide};

use crate::error::PortalError;
use crate::i18n::L;
use crate::session::{BASE, Session};

/// A page of a signed-out visitor (sign-in, errors): no navigation.
pub fn bare_page(lang: L, title: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            (head(lang, title))
            body {
                header.top {
                    span.brand { (lang.t("Espace client", "Customer portal")) " · teleconf" }
                    (lang_switch(lang))
                }
                main #main { (content) }
            }
        }
    }
}

fn head(lang: L, title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " – " (lang.t("Espace client", "Customer portal")) }
            link rel="stylesheet" href={(BASE) "/assets/portal.css"};
        }
    }
}

fn lang_switch(lang: L) -> Markup {
    let other = lang.other();
    html! {
        a.lang-switch href={(BASE) "/lang/" (other.code())} lang=(other.code()) hreflang=(other.code()) {
            (other.t("Français", "English"))
        }
    }
}

/// Which navigation entry is the current page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    /// Dashboard.
    Dashboard,
    /// Conferences.
    Conferences,
    /// CDR logs.
    Logs,
    /// Recordings.
    Recordings,
    /// Invoices.
    Invoices,
    /// Users and rights.
    Users,
    /// Access numbers.
    Numbers,
    /// The account's IP phones (`*44`).
    IpPhones,
    /// Provider: accounts and plans.
    Accounts,
    /// Provider: finance exports.
    Exports,
}

/// A signed-in page: header with the user and the sign-out button, the navigation
/// the user's role opens (from the permission matrix), and `content`.
pub fn page(s: &Session, title: &str, current: Nav, content: Markup) -> Markup {
    let lang = s.lang;
    let actor = s.me.actor();
    let account = s.me.account.id;
    let may = |a: Action| decide(&actor, a).is_allowed();
    let mut entries: Vec<(Nav, &str, &str)> = Vec::new();
    if may(Action::ListConferences(account)) {
        entries.push((Nav::Dashboard, "", lang.t("Tableau de bord", "Dashboard")));
        entries.push((
            Nav::Conferences,
            "/conferences",
            lang.t("Téléconférences", "Conferences"),
        ));
        entries.push((Nav::Logs, "/logs", lang.t("Journaux (CDR)", "Logs (CDR)")));
        entries.push((
            Nav::Recordings,
            "/recordings",
            lang.t("Enregistrements", "Recordings"),
        ));
    }
    if may(Action::ViewInvoices(account)) {
        entries.push((Nav::Invoices, "/invoices", lang.t("Factures", "Invoices")));
    }
    if may(Action::ManageUsers(account)) {
        entries.push((
            Nav::Users,
            "/users",
            lang.t("Utilisateurs et droits", "Users and rights"),
        ));
    }
    if may(Action::ViewNumbers(account)) {
        entries.push((
            Nav::Numbers,
            "/numbers",
            lang.t("Numéros d'accès", "Access numbers"),
        ));
    }
    if may(Action::ManageIpPhones(account)) {
        entries.push((
            Nav::IpPhones,
            "/ip-phones",
            lang.t("Téléphones IP", "IP phones"),
        ));
    }
    if may(Action::ManageAccounts) {
        entries.push((
            Nav::Accounts,
            "/provider/accounts",
            lang.t("Comptes et forfaits", "Accounts and plans"),
        ));
    }
    if may(Action::ViewFinanceExports) {
        entries.push((
            Nav::Exports,
            "/provider/exports",
            lang.t("Exportations mensuelles", "Monthly exports"),
        ));
    }
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            (head(lang, title))
            body {
                a.skip href="#main" { (lang.t("Aller au contenu", "Skip to content")) }
                header.top {
                    span.brand { (lang.t("Espace client", "Customer portal")) " · " (s.me.account.name) }
                    span.who { (s.me.user.name) " (" (lang.role(s.me.user.role)) ")" }
                    (lang_switch(lang))
                    form.inline method="post" action={(BASE) "/sign-out"} {
                        (csrf(s))
                        button.link type="submit" { (lang.t("Se déconnecter", "Sign out")) }
                    }
                }
                nav aria-label=(lang.t("Menu principal", "Main menu")) {
                    ul {
                        @for (nav, path, label) in &entries {
                            li {
                                a href={(BASE) (path)} aria-current=[(*nav == current).then_some("page")] { (label) }
                            }
                        }
                    }
                }
                main #main { (content) }
            }
        }
    }
}

/// The hidden CSRF field of a signed-in form.
pub fn csrf(s: &Session) -> Markup {
    html! { input type="hidden" name="csrf" value=(s.csrf); }
}

/// A « Retirer » / "Remove" button posting to `action` (under `/portal`), named for
/// screen readers after `what` it removes.
pub fn remove_button(s: &Session, action: &str, what: &str) -> Markup {
    let lang = s.lang;
    html! {
        form.inline method="post" action={(BASE) (action)} {
            (csrf(s))
            button.danger type="submit" aria-label={(lang.t("Retirer", "Remove")) " " (what)} { (lang.t("Retirer", "Remove")) }
        }
    }
}

/// A notice at the top of a page (after a redirect: « Enregistré »).
pub fn notice(text: &str) -> Markup {
    html! { p.notice role="status" { (text) } }
}

/// The API's field errors of a refused form, in the page's language.
#[derive(Debug, Clone, Default)]
pub struct FieldErrors {
    by_field: BTreeMap<String, String>,
    /// An error of the form as a whole (no field, or a field the form does not show).
    pub general: Option<String>,
}

impl FieldErrors {
    /// The field errors of `err`, when the API refused the input (400, 409, 413,
    /// 422); any other error is passed back to stop the page.
    pub fn from_refusal(lang: L, err: PortalError, fields: &[&str]) -> Result<Self, PortalError> {
        let Some(failure) = err.failure() else {
            return Err(err);
        };
        if !matches!(failure.status.as_u16(), 400 | 409 | 413 | 422) {
            return Err(err.in_language(lang));
        }
        let mut errors = FieldErrors::default();
        let text = lang.api_error(&failure.code, &failure.message);
        match failure.field.as_deref() {
            Some(f) if fields.contains(&f) => {
                errors.by_field.insert(f.to_string(), text);
            }
            _ => errors.general = Some(text),
        }
        Ok(errors)
    }

    /// An error the portal found itself (a date it cannot read).
    pub fn one(field: &str, text: &str) -> Self {
        let mut errors = FieldErrors::default();
        errors.by_field.insert(field.to_string(), text.to_string());
        errors
    }

    /// An error of the form as a whole.
    pub fn general(text: String) -> Self {
        FieldErrors {
            general: Some(text),
            ..FieldErrors::default()
        }
    }

    /// The error of `field`.
    pub fn of(&self, field: &str) -> Option<&str> {
        self.by_field.get(field).map(String::as_str)
    }

    /// True when nothing is wrong.
    pub fn is_empty(&self) -> bool {
        self.by_field.is_empty() && self.general.is_none()
    }

    /// The form-wide error, as an alert.
    pub fn summary(&self, lang: L) -> Markup {
        html! {
            @if let Some(general) = &self.general {
                p.error role="alert" { (general) }
            } @else if !self.by_field.is_empty() {
                p.error role="alert" { (lang.t("Corrigez les champs signalés.", "Correct the fields shown.")) }
            }
        }
    }
}

/// The id of the input named `name` (dots and brackets made id-safe).
pub fn field_id(name: &str) -> String {
    format!("f-{}", name.replace(['.', '[', ']'], "-"))
}

/// A labelled field: `label`, the `input` (built with [`field_id`]`(name)` as id),
/// an optional hint and the API's error for `name` beside it.
pub fn field(
    errors: &FieldErrors,
    name: &str,
    label: &str,
    required: bool,
    input: Markup,
    hint: Option<&str>,
) -> Markup {
    let id = field_id(name);
    let error = errors.of(name);
    html! {
        div.field.invalid[error.is_some()] {
            label for=(id) { (label) @if required { " " abbr title="*" { "*" } } }
            (input)
            @if let Some(hint) = hint { small.hint id={(id) "-hint"} { (hint) } }
            @if let Some(error) = error { span.field-error id={(id) "-error"} role="alert" { (error) } }
        }
    }
}

/// The `aria-describedby` of the input named `name`.
pub fn described_by(errors: &FieldErrors, name: &str) -> Option<String> {
    errors.of(name).map(|_| format!("{}-error", field_id(name)))
}

/// A text-like input (`kind`: text, email, password, date, time, tel, number).
pub fn input(errors: &FieldErrors, name: &str, kind: &str, value: &str, required: bool) -> Markup {
    html! {
        input id=(field_id(name)) type=(kind) name=(name) value=(value) required[required]
            aria-invalid=[errors.of(name).map(|_| "true")] aria-describedby=[described_by(errors, name)];
    }
}

/// A checkbox (sends `on` when checked).
pub fn checkbox(errors: &FieldErrors, name: &str, checked: bool) -> Markup {
    html! {
        input id=(field_id(name)) type="checkbox" name=(name) checked[checked]
            aria-invalid=[errors.of(name).map(|_| "true")] aria-describedby=[described_by(errors, name)];
    }
}

/// A select of `(value, label)` options, `selected` chosen.
pub fn select(
    errors: &FieldErrors,
    name: &str,
    options: &[(&str, &str)],
    selected: &str,
) -> Markup {
    html! {
        select id=(field_id(name)) name=(name) aria-describedby=[described_by(errors, name)] {
            @for (value, label) in options {
                option value=(value) selected[*value == selected] { (label) }
            }
        }
    }
}

/// Trusted markup (the portal's own assets only).
pub fn raw(text: &'static str) -> PreEscaped<&'static str> {
    PreEscaped(text)
}

/// The page each error shows (the sign-in page when signed out).
impl IntoResponse for PortalError {
    fn into_response(self) -> Response {
        let (lang, status, title, detail) = match &self {
            PortalError::SignedOut => {
                return Redirect::to(&format!("{}/sign-in", BASE)).into_response();
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
                (lang, f.status, title, lang.api_error(&f.code, &f.message))
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
                p { a href=(BASE) { (lang.t("Retour à l'accueil", "Back to the dashboard")) } }
            },
        );
        (status, body).into_response()
    }
}
