//! The dashboard: upcoming and running conferences, the latest activity. The
//! provider's users, who see no conference, land on their own first page instead.

use axum::extract::State;
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use teleconf_domain::ConferenceStatus;
use teleconf_domain::permissions::{Action, decide};

use crate::Portal;
use crate::error::PortalError;
use crate::html::{Nav, page};
use crate::pages::see_other;
use crate::session::{BASE, Session};
use teleconf_views::activity::ActivityView;
use teleconf_views::conferences::ConferenceView;

/// `GET /portal/`.
pub async fn dashboard(State(portal): State<Portal>, s: Session) -> Result<Response, PortalError> {
    let actor = s.me.actor();
    if !decide(&actor, Action::ListConferences(s.me.account.id)).is_allowed() {
        return Ok(see_other(
            if decide(&actor, Action::ManageAccounts).is_allowed() {
                "/provider/accounts"
            } else {
                "/provider/exports"
            },
        ));
    }
    Ok(conferences_and_activity(&portal, &s).await?.into_response())
}

async fn conferences_and_activity(portal: &Portal, s: &Session) -> Result<Markup, PortalError> {
    let lang = s.lang;
    let conferences: Vec<ConferenceView> = portal
        .backend
        .send(s.call(Method::GET, "/v1/conferences"))
        .await
        .map_err(|e| e.in_language(lang))?;
    let activity: Vec<ActivityView> = portal
        .backend
        .send(s.call(Method::GET, "/v1/activity?limit=15"))
        .await
        .map_err(|e| e.in_language(lang))?;
    let current: Vec<&ConferenceView> = conferences
        .iter()
        .filter(|c| c.status != ConferenceStatus::Ended)
        .take(10)
        .collect();
    Ok(page(
        s,
        lang.t("Tableau de bord", "Dashboard"),
        Nav::Dashboard,
        html! {
            h1 { (lang.t("Tableau de bord", "Dashboard")) }
            p { a.button href={(BASE) "/conferences/new"} { (lang.t("Planifier une téléconférence", "Schedule a conference")) } }
            section {
                h2 { (lang.t("Téléconférences à venir et en cours", "Upcoming and running conferences")) }
                @if current.is_empty() {
                    p { (lang.t("Aucune téléconférence à venir.", "No upcoming conference.")) }
                } @else {
                    ul.cards {
                        @for c in &current {
                            li {
                                a href={(BASE) "/conferences/" (c.id)} { strong { (c.description) } }
                                br;
                                (lang.date_time(c.start)) " – " (lang.time(c.end))
                                " · " span.status { (lang.status(c.status)) }
                                @if c.status == ConferenceStatus::Running {
                                    " · " a href={(BASE) "/conferences/" (c.id) "/live"} { (lang.t("Vue en direct", "Live view")) }
                                }
                            }
                        }
                    }
                }
            }
            section {
                h2 { (lang.t("Dernières activités", "Latest activity")) }
                (activity_table(s, &activity))
            }
        },
    ))
}

/// The activity entries as a table.
pub fn activity_table(s: &Session, entries: &[ActivityView]) -> Markup {
    let lang = s.lang;
    html! {
        @if entries.is_empty() {
            p { (lang.t("Aucune activité.", "No activity.")) }
        } @else {
            div.scroll { table {
                thead { tr {
                    th scope="col" { (lang.t("Quand", "When")) }
                    th scope="col" { (lang.t("Quoi", "What")) }
                    th scope="col" { (lang.t("Détail", "Detail")) }
                } }
                tbody {
                    @for a in entries {
                        tr {
                            td { (lang.date_time(a.at)) }
                            td { (lang.activity(a.kind)) }
                            td {
                                @if let Some(c) = &a.conference_id {
                                    a href={(BASE) "/conferences/" (c)} { (a.summary) }
                                } @else { (a.summary) }
                            }
                        }
                    }
                }
            } }
        }
    }
}
