//! The confirmation shown on screen (the same text as the e-mail), and invitations
//! queued for the mailer: each invitee gets only the code of their role (the
//! rules: [`crate::usecases::invitations`]).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Deserialize;
use teleconf_domain::Language;
use teleconf_views::invitations::Queued;
use utoipa::IntoParams;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{JsonBody, QueryParams};
use crate::state::AppState;
use crate::usecases::Caller;
use crate::usecases::invitations::{self, InvitationsBody};

/// `?lang=` of the confirmation.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LangQuery {
    /// fr or en; the conference's language by default.
    #[param(value_type = Option<String>)]
    pub lang: Option<Language>,
}

/// The confirmation text with every code, as shown after scheduling.
#[utoipa::path(get, path = "/v1/conferences/{id}/confirmation", tag = "conferences", params(("id" = String, Path), LangQuery),
    responses((status = 200, body = String, content_type = "text/plain"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn confirmation(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<LangQuery>,
) -> ApiResult<impl IntoResponse> {
    let text =
        invitations::confirmation(&*state.store, &state.branding, &caller, &id, q.lang).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text))
}

/// Queues one invitation mail per invitee (sent by the mailer).
#[utoipa::path(post, path = "/v1/conferences/{id}/invitations", tag = "conferences", params(("id" = String, Path)), request_body = InvitationsBody,
    responses((status = 202, body = Queued), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn invite(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<InvitationsBody>,
) -> ApiResult<(StatusCode, Json<Queued>)> {
    let queued = invitations::invite(&*state.store, state.now(), &caller, &id, body).await?;
    Ok((StatusCode::ACCEPTED, Json(Queued::new(&queued))))
}
