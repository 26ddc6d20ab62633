//! Recordings: the list, played in the page (`<audio>`) and downloaded, through a
//! short-lived link the API signs for each request. A complete recording is one
//! file; one still recording, or cut short by a lost media node, is its segments
//! kept, each played and downloaded in order.

use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use crate::Portal;
use crate::backend::encode;
use crate::error::{ApiFailure, PortalError};
use crate::html::{Nav, page};
use crate::i18n::L;
use crate::session::{BASE, Session};
use serde::Deserialize;
use teleconf_domain::RecordingState;
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
                            @if r.state == RecordingState::Complete {
                                td { audio controls preload="none" src={(BASE) "/recordings/" (r.id) "/audio"} aria-label=(lang.t("Enregistrement", "Recording")) {} }
                                td { a href={(BASE) "/recordings/" (r.id) "/audio"} download {
                                    (lang.t("WAV", "WAV")) " (" (r.size_bytes / 1024) " " (lang.t("Ko", "KB")) ")" } }
                            } @else {
                                td {
                                    @if r.state == RecordingState::Cut {
                                        p { (lang.t("Interrompu : les segments conservés.", "Cut short: the segments kept.")) }
                                    }
                                    @for seg in &r.segments {
                                        audio controls preload="none" src={(BASE) "/recordings/" (r.id) "/audio?segment=" (seg.index)} aria-label={(lang.t("Segment", "Segment")) " " (seg.index + 1)} {}
                                    }
                                }
                                td {
                                    @for seg in &r.segments {
                                        a href={(BASE) "/recordings/" (r.id) "/audio?segment=" (seg.index)} download {
                                            (lang.t("Segment", "Segment")) " " (seg.index + 1) " (" (seg.size_bytes / 1024) " " (lang.t("Ko", "KB")) ")" }
                                        " "
                                    }
                                }
                            }
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

/// `?segment=`: one segment of a recording rather than the whole file.
#[derive(Debug, Deserialize)]
pub struct AudioQuery {
    segment: Option<u32>,
}

/// `GET /portal/recordings/{id}/audio[?segment=N]`: to the signed link of the
/// recording's whole file, or of its segment `N`.
pub async fn audio(
    State(portal): State<Portal>,
    s: Session,
    Path(id): Path<String>,
    Query(q): Query<AudioQuery>,
) -> Result<Response, PortalError> {
    let r: RecordingView = portal
        .backend
        .send(s.call(Method::GET, format!("/v1/recordings/{}", encode(&id))))
        .await
        .map_err(|e| e.in_language(s.lang))?;
    let url = match q.segment {
        None => r.download_url,
        Some(index) => r
            .segments
            .into_iter()
            .find(|seg| seg.index == index)
            .and_then(|seg| seg.download_url),
    }
    .ok_or_else(|| {
        PortalError::Shown(
            s.lang,
            ApiFailure {
                status: StatusCode::NOT_FOUND,
                code: "not_found".into(),
                message: "this recording has no such file".into(),
                field: None,
            },
        )
    })?;
    Ok(Redirect::temporary(&url).into_response())
}

#[cfg(test)]
mod tests {
    use teleconf_domain::{AccountId, ConferenceId, Language, Recording, RecordingId};
    use teleconf_domain::{RecordingSegment, RecordingState};

    use super::*;

    #[test]
    fn a_cut_recording_is_offered_segment_by_segment_and_a_complete_one_whole() {
        let mut r = Recording {
            id: RecordingId::new(),
            account_id: AccountId::new(),
            conference_id: ConferenceId::new(),
            started_at: chrono::Utc::now(),
            duration_ms: 0,
            size_bytes: 0,
            state: RecordingState::Cut,
            segments: Vec::new(),
            node: None,
        };
        for index in [0, 1] {
            r.add_segment(RecordingSegment {
                index,
                duration_ms: 60_000,
                size_bytes: 960_044,
            });
        }
        let audio = format!("{BASE}/recordings/{}/audio", r.id);
        let view = |r: &Recording| RecordingView::new(r, chrono_tz::UTC, None);
        let page = table(L(Language::En), &[view(&r)]).into_string();
        assert!(page.contains("Cut short"), "{page}");
        for index in [0, 1] {
            assert!(
                page.contains(&format!("{audio}?segment={index}\"")),
                "{page}"
            );
        }
        assert!(
            !page.contains(&format!("{audio}\"")),
            "no whole file: {page}"
        );

        r.state = RecordingState::Complete;
        r.segments.clear();
        let page = table(L(Language::En), &[view(&r)]).into_string();
        assert!(page.contains(&format!("{audio}\"")), "{page}");
        assert!(!page.contains("segment="), "{page}");
    }
}
