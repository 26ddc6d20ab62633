//! The live view of a running conference, for its moderators in the account (those
//! the matrix lets modify it): the callers with role, mute state and join time,
//! refreshed every few seconds by `live.js` without reloading, and the controls —
//! mute/unmute, remove, lock/unlock, mute all — queued through the API for the media
//! node, which applies them as it applies the keypad's. Every control is a plain
//! form, so the page also works without JavaScript.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde_json::json;
use teleconf_domain::permissions::Action;

use crate::Portal;
use crate::error::PortalError;
use crate::html::{Nav, csrf, page};
use crate::i18n::L;
use crate::pages::conferences::{fetch, may};
use crate::pages::{FormData, see_other};
use crate::session::{BASE, Session};
use teleconf_views::conferences::ConferenceView;
use teleconf_views::participants::ParticipantView;

async fn allowed(portal: &Portal, s: &Session, id: &str) -> Result<ConferenceView, PortalError> {
    let c = fetch(portal, s, id).await?;
    if !may(s, &c, Action::ModifyConference) {
        return Err(crate::pages::conferences::forbidden(s.lang));
    }
    Ok(c)
}

async fn participants(
    portal: &Portal,
    s: &Session,
    c: &ConferenceView,
) -> Result<Vec<ParticipantView>, PortalError> {
    portal
        .backend
        .send(s.call(
            Method::GET,
            format!("/v1/conferences/{}/participants", c.id),
        ))
        .await
        .map_err(|e| e.in_language(s.lang))
}

fn control_button(
    s: &Session,
    c: &ConferenceView,
    command: &str,
    leg: Option<&str>,
    label: &str,
) -> Markup {
    html! {
        form.inline.control method="post" action={(BASE) "/conferences/" (c.id) "/live/control"} {
            (csrf(s))
            input type="hidden" name="command" value=(command);
            @if let Some(leg) = leg { input type="hidden" name="leg_id" value=(leg); }
            button type="submit" { (label) }
        }
    }
}

fn rows(lang: L, s: &Session, c: &ConferenceView, callers: &[ParticipantView]) -> Markup {
    html! {
        tbody #callers {
            @if callers.is_empty() {
                tr { td colspan="5" { (lang.t("Personne n'est en ligne.", "Nobody is on the line.")) } }
            }
            @for p in callers {
                tr {
                    td { (p.caller_id) }
                    td { (lang.caller_role(p.role)) }
                    td { @if p.muted { (lang.t("En sourdine", "Muted")) } @else { (lang.t("Entendu", "Heard")) } }
                    td { (lang.time(p.joined_at)) }
                    td.actions {
                        @if p.muted {
                            (control_button(s, c, "unmute", Some(&p.leg_id), lang.t("Rétablir le son", "Unmute")))
                        } @else {
                            (control_button(s, c, "mute", Some(&p.leg_id), lang.t("Sourdine", "Mute")))
                        }
                        (control_button(s, c, "remove", Some(&p.leg_id), lang.t("Retirer", "Remove")))
                    }
                }
            }
        }
    }
}

/// `GET /portal/conferences/{id}/live`.
pub async fn show(
    State(portal): State<Portal>,
    s: Session,
    Path(id): Path<String>,
) -> Result<Markup, PortalError> {
    let lang = s.lang;
    let c = allowed(&portal, &s, &id).await?;
    let callers = participants(&portal, &s, &c).await?;
    Ok(page(
        &s,
        lang.t("Vue en direct", "Live view"),
        Nav::Conferences,
        html! {
            h1 { (lang.t("En direct : ", "Live: ")) (c.description) }
            p { (lang.status(c.status)) " · " (lang.t("Mise à jour automatique", "Updates automatically")) " · "
                span #refreshed aria-live="polite" {} }
            div.buttons {
                (control_button(&s, &c, "mute_all", None, lang.t("Tous en sourdine", "Mute all")))
                (control_button(&s, &c, "unmute_all", None, lang.t("Rétablir le son de tous", "Unmute all")))
                (control_button(&s, &c, "lock", None, lang.t("Verrouiller", "Lock")))
                (control_button(&s, &c, "unlock", None, lang.t("Déverrouiller", "Unlock")))
            }
            div.scroll { table #live data-refresh={(BASE) "/conferences/" (c.id) "/live/callers"} {
                thead { tr {
                    th scope="col" { (lang.t("Appelant", "Caller")) }
                    th scope="col" { (lang.t("Rôle", "Role")) }
                    th scope="col" { (lang.t("Son", "Sound")) }
                    th scope="col" { (lang.t("Entré à", "Joined at")) }
                    th scope="col" { (lang.t("Actions", "Actions")) }
                } }
                (rows(lang, &s, &c, &callers))
            } }
            script src={(BASE) "/assets/live.js"} defer {}
        },
    ))
}

/// `GET /portal/conferences/{id}/live/callers`: the table's body, for the refresh.
pub async fn callers(
    State(portal): State<Portal>,
    s: Session,
    Path(id): Path<String>,
) -> Result<Markup, PortalError> {
    let c = allowed(&portal, &s, &id).await?;
    let callers = participants(&portal, &s, &c).await?;
    Ok(rows(s.lang, &s, &c, &callers))
}

/// `POST /portal/conferences/{id}/live/control`: queues the command, back to the view.
pub async fn control(
    State(portal): State<Portal>,
    s: Session,
    Path(id): Path<String>,
    f: FormData,
) -> Result<Response, PortalError> {
    s.check_csrf(f.opt("csrf"))?;
    let mut body = json!({ "command": f.text("command") });
    if let Some(leg) = f.opt("leg_id") {
        body["leg_id"] = json!(leg);
    }
    portal
        .backend
        .send::<serde_json::Value>(
            s.call(
                Method::POST,
                format!("/v1/conferences/{}/controls", crate::backend::encode(&id)),
            )
            .json(&body),
        )
        .await
        .map_err(|e| e.in_language(s.lang))?;
    if f.opt("js").is_some() {
        return Ok(axum::http::StatusCode::NO_CONTENT.into_response());
    }
    Ok(see_other(&format!("/conferences/{id}/live")))
}
