//! Conferences: scheduling, changing, cancelling, and the one-time code to record
//! the intro message by phone (the rules: [`crate::usecases::conferences`]).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use teleconf_views::conferences::{ConferenceView, IntroByPhone};

use crate::error::{ApiResult, ErrorBody};
use crate::extract::JsonBody;
use crate::state::AppState;
use crate::usecases::Caller;
use crate::usecases::conferences::{self, ConferencePatch, NewConference, Shown};

/// The view of `shown` for `caller`: the codes only if they may modify it.
fn view(caller: &Caller, shown: &Shown) -> ConferenceView {
    ConferenceView::new(
        &shown.conference,
        &shown.numbers,
        shown.status,
        caller.account.time_zone,
        caller.may_modify(&shown.conference),
    )
}

/// Lists the account's conferences, by start.
#[utoipa::path(get, path = "/v1/conferences", tag = "conferences", responses((status = 200, body = [ConferenceView])))]
pub async fn list_conferences(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<ConferenceView>>> {
    let all = conferences::list(&*state.store, state.now(), &caller).await?;
    Ok(Json(all.iter().map(|c| view(&caller, c)).collect()))
}

/// Schedules a conference.
#[utoipa::path(post, path = "/v1/conferences", tag = "conferences", request_body = NewConference,
    responses((status = 201, body = ConferenceView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_conference(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<NewConference>,
) -> ApiResult<(StatusCode, Json<ConferenceView>)> {
    let created =
        conferences::create(&*state.store, &*state.blobs, state.now(), &caller, body).await?;
    Ok((StatusCode::CREATED, Json(view(&caller, &created))))
}

/// One conference.
#[utoipa::path(get, path = "/v1/conferences/{id}", tag = "conferences", params(("id" = String, Path)),
    responses((status = 200, body = ConferenceView), (status = 404, body = ErrorBody)))]
pub async fn get_conference(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ConferenceView>> {
    let shown = conferences::get(&*state.store, state.now(), &caller, &id).await?;
    Ok(Json(view(&caller, &shown)))
}

/// Changes a conference.
#[utoipa::path(patch, path = "/v1/conferences/{id}", tag = "conferences", params(("id" = String, Path)), request_body = ConferencePatch,
    responses((status = 200, body = ConferenceView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch_conference(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<ConferencePatch>,
) -> ApiResult<Json<ConferenceView>> {
    let changed = conferences::patch(
        &*state.store,
        &*state.blobs,
        state.now(),
        &caller,
        &id,
        patch,
    )
    .await?;
    Ok(Json(view(&caller, &changed)))
}

/// Cancels a conference that has not started.
#[utoipa::path(delete, path = "/v1/conferences/{id}", tag = "conferences", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn delete_conference(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    conferences::delete(&*state.store, state.now(), &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A one-time code to record the conference's intro message by phone: dial the
/// access number, key the code, speak after the beep.
#[utoipa::path(post, path = "/v1/conferences/{id}/intro/by-phone", tag = "conferences", params(("id" = String, Path)),
    responses((status = 201, body = IntroByPhone), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn intro_by_phone(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<IntroByPhone>)> {
    let granted = conferences::grant_intro_code(&*state.store, state.now(), &caller, &id).await?;
    Ok((
        StatusCode::CREATED,
        Json(IntroByPhone::new(
            &granted.grant,
            &granted.number,
            caller.account.time_zone,
        )),
    ))
}
