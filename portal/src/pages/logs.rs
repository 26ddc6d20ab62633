//! Logs (CDR): filter by dates and conference, totals, and the CSV download (the
//! API's own CSV, with the same filters).

use axum::extract::{Query, State};
use axum::http::{Method, header};
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, NaiveDate};
use maud::{Markup, html};
use serde::Deserialize;

use crate::Portal;
use crate::backend::encode;
use crate::error::PortalError;
use crate::html::{FieldErrors, Nav, field, input, page, select};
use crate::i18n::L;
use crate::pages::day_start;
use crate::session::{BASE, Session};
use teleconf_views::cdrs::{CdrPage, CdrView};
use teleconf_views::conferences::ConferenceView;

/// The filters, as typed (dates on the account's wall clock).
#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    from: Option<String>,
    to: Option<String>,
    conference_id: Option<String>,
}

impl Filters {
    /// The API query: `[from 00:00, the day after to 00:00)` in the account's zone;
    /// this month by default. An unreadable date is a field error.
    fn query(&self, s: &Session) -> Result<(String, NaiveDate, NaiveDate), FieldErrors> {
        let tz = s.me.account.time_zone;
        let today = chrono::Utc::now().with_timezone(&tz).date_naive();
        let bad = s.lang.t("Indiquez une date valide.", "Give a valid date.");
        let parse = |v: &Option<String>, default: NaiveDate, name: &str| match v
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            None => Ok(default),
            Some(v) => {
                NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| FieldErrors::one(name, bad))
            }
        };
        let from = parse(&self.from, today.with_day(1).unwrap_or(today), "from")?;
        let to = parse(&self.to, today, "to")?;
        let start = day_start(from, tz).ok_or_else(|| FieldErrors::one("from", bad))?;
        let end = to
            .succ_opt()
            .and_then(|d| day_start(d, tz))
            .ok_or_else(|| FieldErrors::one("to", bad))?;
        let mut q = format!(
            "from={}&to={}",
            encode(&start.to_rfc3339()),
            encode(&end.to_rfc3339())
        );
        if let Some(c) = self.conference_id.as_deref().filter(|c| !c.is_empty()) {
            q.push_str(&format!("&conference_id={}", encode(c)));
        }
        Ok((q, from, to))
    }
}

/// CDR rows as a table.
pub fn cdr_table(lang: L, legs: &[CdrView]) -> Markup {
    html! {
        @if legs.is_empty() {
            p { (lang.t("Aucun appel.", "No calls.")) }
        } @else {
            div.scroll { table.cdrs {
                thead { tr {
                    th scope="col" { (lang.t("Téléconférence", "Conference")) }
                    th scope="col" { (lang.t("Appelant", "Caller")) }
                    th scope="col" { (lang.t("Rôle", "Role")) }
                    th scope="col" { (lang.t("Entrée", "Joined")) }
                    th scope="col" { (lang.t("Sortie", "Left")) }
                    th scope="col" { (lang.t("Durée", "Duration")) }
                } }
                tbody {
                    @for l in legs {
                        tr {
                            td { a href={(BASE) "/conferences/" (l.conference_id)} { (l.conference_number) } }
                            td { (l.caller_id) }
                            td { (lang.caller_role(l.role)) }
                            td { (lang.date_time(l.joined_at)) }
                            td { @if let Some(t) = l.left_at { (lang.date_time(t)) } @else { (lang.t("En ligne", "On the line")) } }
                            td { @if let Some(d) = l.duration_s { (lang.duration(d)) } }
                        }
                    }
                }
            } }
        }
    }
}

/// `GET /portal/logs`.
pub async fn list(
    State(portal): State<Portal>,
    s: Session,
    Query(filters): Query<Filters>,
) -> Result<Markup, PortalError> {
    let lang = s.lang;
    let conferences: Vec<ConferenceView> = portal
        .backend
        .send(s.call(Method::GET, "/v1/conferences"))
        .await
        .map_err(|e| e.in_language(lang))?;
    let (legs, errors, from, to, query) = match filters.query(&s) {
        Ok((query, from, to)) => match portal
            .backend
            .send::<CdrPage>(s.call(Method::GET, format!("/v1/cdrs?{query}&limit=1000")))
            .await
        {
            Ok(page) => (
                page.items,
                FieldErrors::default(),
                from.to_string(),
                to.to_string(),
                query,
            ),
            Err(e) => (
                Vec::new(),
                FieldErrors::from_refusal(lang, e, &["from", "to", "conference_id"])?,
                from.to_string(),
                to.to_string(),
                query,
            ),
        },
        Err(errors) => (
            Vec::new(),
            errors,
            filters.from.clone().unwrap_or_default(),
            filters.to.clone().unwrap_or_default(),
            String::new(),
        ),
    };
    let total_secs: u64 = legs.iter().filter_map(|l| l.duration_s).sum();
    let mut options: Vec<(String, String)> =
        vec![(String::new(), lang.t("Toutes", "All").to_string())];
    options.extend(conferences.iter().map(|c| {
        (
            c.id.to_string(),
            format!("{} – {}", c.conference_number, c.description),
        )
    }));
    let options: Vec<(&str, &str)> = options
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let chosen = filters.conference_id.clone().unwrap_or_default();
    Ok(page(
        &s,
        lang.t("Journaux (CDR)", "Logs (CDR)"),
        Nav::Logs,
        html! {
            h1 { (lang.t("Journaux (CDR)", "Logs (CDR)")) }
            (errors.summary(lang))
            form.card.filters method="get" action={(BASE) "/logs"} {
                (field(&errors, "from", lang.t("Du", "From"), false, input(&errors, "from", "date", &from, false), None))
                (field(&errors, "to", lang.t("Au", "To"), false, input(&errors, "to", "date", &to, false), None))
                (field(&errors, "conference_id", lang.t("Téléconférence", "Conference"), false, select(&errors, "conference_id", &options, &chosen), None))
                button type="submit" { (lang.t("Filtrer", "Filter")) }
            }
            p.totals #totals {
                strong { (lang.t("Totaux : ", "Totals: ")) }
                (legs.len()) " " (lang.t("appel(s)", "call(s)")) ", " (lang.duration(total_secs))
            }
            @if errors.is_empty() {
                p { a.button #csv href={(BASE) "/logs.csv?" (query)} download="cdrs.csv" { (lang.t("Télécharger en CSV", "Download as CSV")) } }
            }
            (cdr_table(lang, &legs))
        },
    ))
}

/// `GET /portal/logs.csv?from=…&to=…`: the API's CSV as an attachment (the query is
/// already the API's).
pub async fn csv(
    State(portal): State<Portal>,
    s: Session,
    uri: axum::http::Uri,
) -> Result<Response, PortalError> {
    let query = uri.query().unwrap_or("");
    let reply = portal
        .backend
        .raw(s.call(Method::GET, format!("/v1/cdrs?{query}")).csv())
        .await
        .map_err(|e| e.in_language(s.lang))?;
    Ok(attachment(reply.body, "cdrs.csv"))
}

/// CSV bytes as a download.
pub fn attachment(body: Vec<u8>, filename: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response()
}
