//! Users and rights: the owner's account users (owner, conference administrator,
//! operator), or the provider administrator's provider users (administrator,
//! finance): add, change role, remove. The API refuses removing or demoting the last
//! owner (the provider's last administrator); the page says so.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde_json::json;
use teleconf_domain::Role;

use crate::Portal;
use crate::backend::encode;
use crate::error::PortalError;
use crate::html::{FieldErrors, Nav, csrf, field, input, page, remove_button, select};
use crate::pages::{FormData, see_other};
use crate::session::{BASE, Session};
use teleconf_views::users::UserView;

/// The roles an owner gives, the last the default.
const ACCOUNT_ROLES: [Role; 3] = [Role::Owner, Role::ConferenceAdmin, Role::ConferenceOperator];
/// The roles the provider's administrator gives, the last the default.
const PROVIDER_ROLES: [Role; 2] = [Role::ProviderAdmin, Role::Finance];

async fn render(
    portal: &Portal,
    s: &Session,
    errors: &FieldErrors,
    typed: &FormData,
) -> Result<Markup, PortalError> {
    let lang = s.lang;
    let users: Vec<UserView> = portal
        .backend
        .send(s.call(Method::GET, "/v1/users"))
        .await
        .map_err(|e| e.in_language(lang))?;
    let given: &[Role] = if s.me.user.role.is_provider() {
        &PROVIDER_ROLES
    } else {
        &ACCOUNT_ROLES
    };
    let roles: Vec<(&str, &str)> = given.iter().map(|r| (r.as_str(), lang.role(*r))).collect();
    let default_role = given.last().map_or("", |r| r.as_str());
    Ok(page(
        s,
        lang.t("Utilisateurs et droits", "Users and rights"),
        Nav::Users,
        html! {
            h1 { (lang.t("Utilisateurs et droits", "Users and rights")) }
            (errors.summary(lang))
            div.scroll { table #users {
                thead { tr {
                    th scope="col" { (lang.t("Nom", "Name")) }
                    th scope="col" { (lang.t("Courriel", "E-mail")) }
                    th scope="col" { (lang.t("Rôle", "Role")) }
                    th scope="col" { (lang.t("Retirer", "Remove")) }
                } }
                tbody {
                    @for u in &users {
                        tr {
                            td { (u.name) }
                            td { (u.email) }
                            td {
                                form.inline method="post" action={(BASE) "/users/" (u.id) "/role"} {
                                    (csrf(s))
                                    label.visually-hidden for={"role-" (u.id)} { (lang.t("Rôle de", "Role of")) " " (u.name) }
                                    select id={"role-" (u.id)} name="role" {
                                        @for (value, label) in &roles { option value=(value) selected[*value == u.role.as_str()] { (label) } }
                                    }
                                    button type="submit" { (lang.t("Changer", "Change")) }
                                }
                            }
                            td { (remove_button(s, &format!("/users/{}/delete", u.id), &u.name)) }
                        }
                    }
                }
            } }
            section.card {
                h2 { (lang.t("Ajouter un utilisateur", "Add a user")) }
                form method="post" action={(BASE) "/users"} {
                    (csrf(s))
                    (field(errors, "name", lang.t("Nom", "Name"), true, input(errors, "name", "text", typed.text("name"), true), None))
                    (field(errors, "email", lang.t("Courriel", "E-mail"), true, input(errors, "email", "email", typed.text("email"), true), None))
                    (field(errors, "role", lang.t("Rôle", "Role"), true, select(errors, "role", &roles, typed.opt("role").unwrap_or(default_role)), None))
                    (field(errors, "password", lang.t("Mot de passe initial", "Initial password"), true, input(errors, "password", "password", "", true),
                        Some(lang.t("Au moins 10 caractères.", "At least 10 characters."))))
                    button type="submit" { (lang.t("Ajouter", "Add")) }
                }
            }
        },
    ))
}

/// `GET /portal/users`.
pub async fn list(State(portal): State<Portal>, s: Session) -> Result<Markup, PortalError> {
    render(&portal, &s, &FieldErrors::default(), &FormData::default()).await
}

async fn refused(
    portal: &Portal,
    s: &Session,
    e: PortalError,
    f: &FormData,
    fields: &[&str],
) -> Result<Response, PortalError> {
    let errors = FieldErrors::from_refusal(s.lang, e, fields)?;
    Ok(render(portal, s, &errors, f).await?.into_response())
}

/// `POST /portal/users`.
pub async fn create(
    State(portal): State<Portal>,
    s: Session,
    f: FormData,
) -> Result<Response, PortalError> {
    s.check_csrf(f.opt("csrf"))?;
    let body = json!({ "name": f.text("name"), "email": f.text("email"), "role": f.text("role"), "password": f.text("password") });
    match portal
        .backend
        .send::<UserView>(s.call(Method::POST, "/v1/users").json(&body))
        .await
    {
        Ok(_) => Ok(see_other("/users")),
        Err(e) => refused(&portal, &s, e, &f, &["name", "email", "role", "password"]).await,
    }
}

/// `POST /portal/users/{id}/role`.
pub async fn change_role(
    State(portal): State<Portal>,
    s: Session,
    Path(id): Path<String>,
    f: FormData,
) -> Result<Response, PortalError> {
    s.check_csrf(f.opt("csrf"))?;
    let body = json!({ "role": f.text("role") });
    match portal
        .backend
        .send::<UserView>(
            s.call(Method::PATCH, format!("/v1/users/{}", encode(&id)))
                .json(&body),
        )
        .await
    {
        Ok(_) => Ok(see_other("/users")),
        Err(e) => refused(&portal, &s, e, &FormData::default(), &[]).await,
    }
}

/// `POST /portal/users/{id}/delete`.
pub async fn remove(
    State(portal): State<Portal>,
    s: Session,
    Path(id): Path<String>,
    f: FormData,
) -> Result<Response, PortalError> {
    s.check_csrf(f.opt("csrf"))?;
    match portal
        .backend
        .send::<()>(s.call(Method::DELETE, format!("/v1/users/{}", encode(&id))))
        .await
    {
        Ok(()) => Ok(see_other("/users")),
        Err(e) => refused(&portal, &s, e, &FormData::default(), &[]).await,
    }
}
