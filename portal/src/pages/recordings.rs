//! Recordings: the list, played in the page (`<audio>`) and downloaded, through a
//! short-lived link the API signs for each request.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use crate::Portal;
use crate::backend::encode;
use crate::error::PortalError;
use crate::html::{Nav, page};
use crate::i18n::L;
use crate::session::{BASE, Session};
use teleconf_views::recordings::RecordingView;

/// Recordings as a table with a player and a download link each.
pub fn table(lang: L, recordings: &[RecordingView]) -> Markup {
    html! {
        @if recordings.is_empty() {
            p { (lang.t("Aucun enregistrement.", "No recordings.")) }
        } @else {
            div.scroll { table.recordings {
                thead { tr {
                    th scope="col" { (lang.t("Début", "Started")) }
                    th scope="col" { (lang.t("Durée", "Length")) }
                    th scope="col" { (lang.t("Écouter", "Listen")) }
                    th scope="col" { (lang.t("Télécharger", "Download")) }
                } }
                tbody {
                    @for r in recordings {
                        tr {
                            td { a href={(BASE) "/conferences/" (r.conference_id)} { (lang.date_time(r.started_at)) } }
                            td { (lang.duration(r.duration_ms / 1000)) }
                            td { audio controls preload="none" src={(BASE) "/recordings/" (r.id) "/audio"} aria-label=(lang.t("Enregistrement", "Recording")) {} }
                            td { a href={(BASE) "/recordings/" (r.id) "/audio"} download {
                                (lang.t("WAV", "WAV")) " (" (r.size_bytes / 1024) " " (lang.t("Ko", "KB")) ")" } }
                        }
                    }
                }
            } }
        }
    }
}

/// `GET /portal/recordings`.
pub async fn list(State(portal): State<Portal>, s: Session) -> Result<Markup, PortalError> {
    let lang = s.lang;
    let recordings: Vec<RecordingView> = portal
        .backend
        .send(s.call(Method::GET, "/v1/recordings"))
        .await
        .map_err(|e| e.in_language(lang))?;
    Ok(page(
        &s,
        lang.t("Enregistrements", "Recordings"),
        Nav::Recordings,
        html! {
            h1 { (lang.t("Enregistrements", "Recordings")) }
            (table(lang, &recordings))
        },
    ))
}

/// `GET /portal/recordings/{id}/audio`: to the recording's signed link.
pub async fn audio(
    State(portal): State<Portal>,
    s: Session,
    Path(id): Path<String>,
) -> Result<Response, PortalError> {
    let r: RecordingView = portal
        .backend
        .send(s.call(Method::GET, format!("/v1/recordings/{}", encode(&id))))
        .await
        .map_err(|e| e.in_language(s.lang))?;
    let url = r
        .download_url
        .ok_or_else(|| PortalError::Internal("a recording without its link".into()))?;
    Ok(Redirect::temporary(&url).into_response())
}
