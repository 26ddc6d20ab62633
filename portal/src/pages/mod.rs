//! The pages, one module per page or group, and what they share: the submitted
//! form (URL-encoded or multipart with files), wall-clock dates in the account's
//! zone, and redirects after a successful POST.

pub mod conferences;
pub mod confirmation;
pub mod dashboard;
pub mod invoices;
pub mod ip_phones;
pub mod live;
pub mod logs;
pub mod numbers;
pub mod provider;
pub mod recordings;
pub mod sign_in;
pub mod users;

use std::collections::HashMap;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Tz;

use crate::Portal;
use crate::error::PortalError;
use crate::session::BASE;

/// Largest upload through a portal form: a 10 MB prompt and the form around it.
const MAX_FORM_BYTES: usize = teleconf_domain::audio::MAX_PROMPT_BYTES * 3 + 64 * 1024;

/// Every portal route, relative to `/portal`.
pub fn routes() -> Router<Portal> {
    Router::new()
        .route("/", get(dashboard::dashboard))
        .route("/assets/{file}", get(crate::assets::asset))
        .route("/sign-in", get(sign_in::form).post(sign_in::submit))
        .route("/sign-out", post(sign_in::sign_out))
        .route("/lang/{lang}", get(sign_in::switch_language))
        .route("/conferences", get(conferences::list))
        .route(
            "/conferences/new",
            get(conferences::new_form).post(conferences::create),
        )
        .route("/conferences/{id}", get(conferences::detail))
        .route(
            "/conferences/{id}/edit",
            get(conferences::edit_form).post(conferences::update),
        )
        .route("/conferences/{id}/delete", post(conferences::delete))
        .route(
            "/conferences/{id}/intro-by-phone",
            post(conferences::intro_by_phone),
        )
        .route("/conferences/{id}/confirmation", get(confirmation::show))
        .route("/conferences/{id}/invitations", post(confirmation::invite))
        .route("/conferences/{id}/live", get(live::show))
        .route("/conferences/{id}/live/callers", get(live::callers))
        .route("/conferences/{id}/live/control", post(live::control))
        .route("/logs", get(logs::list))
        .route("/logs.csv", get(logs::csv))
        .route("/recordings", get(recordings::list))
        .route("/recordings/{id}/audio", get(recordings::audio))
        .route("/invoices", get(invoices::list))
        .route("/invoices/{month}", get(invoices::detail))
        .route("/invoices/{month}/csv", get(invoices::csv))
        .route("/users", get(users::list).post(users::create))
        .route("/users/{id}/role", post(users::change_role))
        .route("/users/{id}/delete", post(users::remove))
        .route("/numbers", get(numbers::list))
        .route(
            "/numbers/{e164}/edit",
            get(numbers::edit_form).post(numbers::update),
        )
        .route("/prompts/{id}", get(numbers::prompt_audio))
        .route("/ip-phones", get(ip_phones::list).post(ip_phones::add))
        .route("/ip-phones/{source}/delete", post(ip_phones::remove))
        .route(
            "/provider/accounts",
            get(provider::accounts).post(provider::create_account),
        )
        .route("/provider/accounts/{id}/plan", post(provider::change_plan))
        .route(
            "/provider/accounts/{id}/numbers",
            get(provider::numbers).post(provider::assign_number),
        )
        .route(
            "/provider/accounts/{id}/numbers/{e164}/unassign",
            post(provider::unassign_number),
        )
        .route("/provider/exports", get(provider::exports))
        .route("/provider/exports/{month}/csv", get(provider::export_csv))
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
}

/// An uploaded file.
#[derive(Debug, Clone)]
pub struct Upload {
    /// Its name on the user's computer.
    pub filename: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// A submitted form, URL-encoded or multipart: its fields and its non-empty files.
#[derive(Debug, Default)]
pub struct FormData {
    fields: HashMap<String, String>,
    files: HashMap<String, Upload>,
}

impl FormData {
    /// A field's value, trimmed; `""` when absent.
    pub fn text(&self, name: &str) -> &str {
        self.fields.get(name).map(|v| v.trim()).unwrap_or("")
    }

    /// A field's value when present and not blank.
    pub fn opt(&self, name: &str) -> Option<&str> {
        Some(self.text(name)).filter(|v| !v.is_empty())
    }

    /// A checkbox: checked when sent.
    pub fn checked(&self, name: &str) -> bool {
        self.fields.contains_key(name)
    }

    /// The file sent as `name`, if one was chosen.
    pub fn file(&self, name: &str) -> Option<&Upload> {
        self.files.get(name)
    }

    /// A form built from pairs (tests).
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        FormData {
            fields: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            files: HashMap::new(),
        }
    }
}

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = PortalError;

    async fn from_request(req: Request, state: &S) -> Result<Self, PortalError> {
        let multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        let bad = |e: String| PortalError::Internal(format!("reading the form: {e}"));
        if !multipart {
            let axum::Form(pairs) = axum::Form::<Vec<(String, String)>>::from_request(req, state)
                .await
                .map_err(|e| bad(e.body_text()))?;
            return Ok(FormData {
                fields: pairs.into_iter().collect(),
                files: HashMap::new(),
            });
        }
        let mut form = Multipart::from_request(req, state)
            .await
            .map_err(|e| bad(e.body_text()))?;
        let mut data = FormData::default();
        while let Some(field) = form.next_field().await.map_err(|e| bad(e.body_text()))? {
            let name = field.name().unwrap_or_default().to_string();
            match field.file_name().map(str::to_string) {
                Some(filename) => {
                    let bytes = field.bytes().await.map_err(|e| bad(e.body_text()))?;
                    if !bytes.is_empty() {
                        data.files.insert(
                            name,
                            Upload {
                                filename,
                                bytes: bytes.to_vec(),
                            },
                        );
                    }
                }
                None => {
                    let text = field.text().await.map_err(|e| bad(e.body_text()))?;
                    data.fields.insert(name, text);
                }
            }
        }
        Ok(data)
    }
}

/// After a successful POST: back to `path` (under `/portal`) with a notice.
pub fn see_other(path: &str) -> Response {
    Redirect::to(&format!("{BASE}{path}")).into_response()
}

/// A date (`YYYY-MM-DD`) and time (`HH:MM`) typed on the account's wall clock, as an
/// instant with its offset; `None` when unreadable or inside a DST gap.
pub fn wall_clock(date: &str, time: &str, tz: Tz) -> Option<DateTime<FixedOffset>> {
    let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    let time = NaiveTime::parse_from_str(time, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(time, "%H:%M:%S"))
        .ok()?;
    tz.from_local_datetime(&NaiveDateTime::new(date, time))
        .earliest()
        .map(|t| t.fixed_offset())
}

/// Midnight starting `date` on the account's wall clock.
pub fn day_start(date: NaiveDate, tz: Tz) -> Option<DateTime<FixedOffset>> {
    wall_clock(&date.format("%Y-%m-%d").to_string(), "00:00", tz)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wall_clock_time_gets_the_zones_offset_of_that_day() {
        let tz: Tz = "America/Toronto".parse().unwrap();
        let summer = wall_clock("2026-06-06", "09:30", tz).unwrap();
        assert_eq!(summer.to_rfc3339(), "2026-06-06T09:30:00-04:00");
        let winter = wall_clock("2026-12-01", "09:30", tz).unwrap();
        assert_eq!(winter.to_rfc3339(), "2026-12-01T09:30:00-05:00");
        assert!(wall_clock("2026-13-01", "09:30", tz).is_none());
        assert!(wall_clock("2026-06-06", "", tz).is_none());
        // 02:30 does not exist on the night clocks go forward.
        assert!(wall_clock("2026-03-08", "02:30", tz).is_none());
    }
}
