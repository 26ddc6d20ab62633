//! The confirmation screen shown right after scheduling: the very text of the
//! confirmation e-mail (rendered by `teleconf_domain::messages::confirmation` through
//! the API), and the form to invite people by e-mail, each with the code of the role
//! chosen for them (participant, listener or moderator).

use axum::extract::{Path, Query, State};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;
use teleconf_domain::CallerRole;

use crate::Portal;
use crate::error::PortalError;
use crate::html::{FieldErrors, Nav, csrf, field, input, notice, page, select};
use crate::pages::conferences::fetch;
use crate::pages::{FormData, see_other};
use crate::session::{BASE, Session};
use teleconf_views::invitations::Queued;

/// Rows of the invitation form.
pub const INVITE_ROWS: usize = 5;

/// `?invited=N` after invitations were queued.
#[derive(Debug, Deserialize)]
pub struct Shown {
    invited: Option<usize>,
}

async fn render(
    portal: &Portal,
    s: &Session,
    id: &str,
    errors: &FieldErrors,
    typed: &FormData,
    invited: Option<usize>,
) -> Result<Markup, PortalError> {
    let lang = s.lang;
    let c = fetch(portal, s, id).await?;
    let text = portal
        .backend
        .raw(s.call(
            Method::GET,
            format!("/v1/conferences/{}/confirmation?lang={}", c.id, lang.code()),
        ))
        .await
        .map_err(|e| e.in_language(lang))?;
    let text = String::from_utf8_lossy(&text.body).into_owned();
    let roles: Vec<(&str, &str)> = CallerRole::ALL
        .iter()
        .map(|r| (r.as_str(), lang.caller_role(*r)))
        .collect();
    Ok(page(
        s,
        lang.t("Confirmation", "Confirmation"),
        Nav::Conferences,
        html! {
            h1 { (lang.t("Téléconférence programmée", "Conference scheduled")) }
            @if let Some(n) = invited { (notice(&format!("{} {n}", lang.t("Invitations envoyées :", "Invitations sent:")))) }
            p { (lang.t("Voici la confirmation, identique au courriel envoyé :", "Here is the confirmation, the same as the e-mail sent:")) }
            pre.confirmation #confirmation lang=(lang.code()) { (text) }
            section.card {
                h2 #invite-title { (lang.t("Inviter par courriel", "Invite by e-mail")) }
                p { (lang.t("Chaque invité reçoit seulement le code d'accès du rôle choisi.", "Each invitee receives only the access code of the chosen role.")) }
                (errors.summary(lang))
                form method="post" action={(BASE) "/conferences/" (c.id) "/invitations"} aria-labelledby="invite-title" {
                    (csrf(s))
                    @for i in 0..INVITE_ROWS {
                        @let email = format!("invitees[{i}].email");
                        @let role = format!("invitees[{i}].role");
                        div.row {
                            (field(errors, &email, &format!("{} {}", lang.t("Courriel de l'invité", "Invitee's e-mail"), i + 1), false, input(errors, &email, "email", typed.text(&email), false), None))
                            (field(errors, &role, &format!("{} {}", lang.t("Rôle de l'invité", "Invitee's role"), i + 1), false, select(errors, &role, &roles, typed.opt(&role).unwrap_or("participant")), None))
                        }
                    }
                    button type="submit" { (lang.t("Envoyer les invitations", "Send the invitations")) }
                }
            }
            p { a href={(BASE) "/conferences/" (c.id)} { (lang.t("Retour à la téléconférence", "Back to the conference")) } }
        },
    ))
}

/// `GET /portal/conferences/{id}/confirmation`.
pub async fn show(
    State(portal): State<Portal>,
    s: Session,
    Path(id): Path<String>,
    Query(q): Query<Shown>,
) -> Result<Markup, PortalError> {
    render(
        &portal,
        &s,
        &id,
        &FieldErrors::default(),
        &FormData::default(),
        q.invited,
    )
    .await
}

/// `POST /portal/conferences/{id}/invitations`: one invitation per filled row.
pub async fn invite(
    State(portal): State<Portal>,
    s: Session,
    Path(id): Path<String>,
    f: FormData,
) -> Result<Response, PortalError> {
    s.check_csrf(f.opt("csrf"))?;
    let lang = s.lang;
    // The rows filled in, and which form row each invitee of the request comes from.
    let rows: Vec<usize> = (0..INVITE_ROWS)
        .filter(|i| f.opt(&format!("invitees[{i}].email")).is_some())
        .collect();
    if rows.is_empty() {
        let errors = FieldErrors::one(
            "invitees[0].email",
            lang.t(
                "Indiquez au moins un courriel.",
                "Give at least one e-mail.",
            ),
        );
        return Ok(render(&portal, &s, &id, &errors, &f, None)
            .await?
            .into_response());
    }
    let invitees: Vec<_> = rows
        .iter()
        .map(|i| {
            json!({
                "email": f.text(&format!("invitees[{i}].email")),
                "role": f.text(&format!("invitees[{i}].role")),
                "language": lang.code(),
            })
        })
        .collect();
    let path = format!(
        "/v1/conferences/{}/invitations",
        crate::backend::encode(&id)
    );
    match portal
        .backend
        .send::<Queued>(
            s.call(Method::POST, path)
                .json(&json!({ "invitees": invitees })),
        )
        .await
    {
        Ok(q) => Ok(see_other(&format!(
            "/conferences/{id}/confirmation?invited={}",
            q.queued
        ))),
        Err(mut e) => {
            // `invitees[1].email` of the request is the form's row rows[1].
            if let PortalError::Api(failure) = &mut e {
                if let Some(field) = &failure.field {
                    for (n, row) in rows.iter().enumerate().rev() {
                        let from = format!("invitees[{n}]");
                        if field.starts_with(&from) {
                            failure.field =
                                Some(field.replacen(&from, &format!("invitees[{row}]"), 1));
                            break;
                        }
                    }
                }
            }
            let fields: Vec<String> = (0..INVITE_ROWS)
                .flat_map(|i| {
                    [
                        format!("invitees[{i}].email"),
                        format!("invitees[{i}].role"),
                    ]
                })
                .collect();
            let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
            let errors = FieldErrors::from_refusal(lang, e, &fields)?;
            Ok(render(&portal, &s, &id, &errors, &f, None)
                .await?
                .into_response())
        }
    }
}
