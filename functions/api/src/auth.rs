//! Signing in and out: password check (argon2, in `teleconf-domain`; an unknown e-mail costs
//! a verification too), a signed expiring token ([`crate::tokens`]) on success, and
//! the failed-login throttle (per e-mail and per client address, counted in the
//! store so every Lambda instance sees the same counts).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use teleconf_domain::{Attempt, Email, Limit, PasswordHash, User, authenticate};
use teleconf_views::auth::LoginResponse;
use teleconf_views::local;
use teleconf_views::users::UserView;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ClientAddr, JsonBody};
use crate::state::AppState;
use crate::usecases::Caller;

/// Failed logins allowed per e-mail per window.
pub const LOGIN_LIMIT_PER_EMAIL: Limit = Limit {
    max_failures: 5,
    window: Duration::minutes(15),
};
/// Failed logins allowed per client address per window.
pub const LOGIN_LIMIT_PER_CLIENT: Limit = Limit {
    max_failures: 20,
    window: Duration::minutes(15),
};

/// `POST /v1/auth/login` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The login e-mail.
    pub email: String,
    /// The password.
    pub password: String,
}

/// Exchanges an e-mail and password for a token.
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    client: ClientAddr,
    JsonBody(req): JsonBody<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let now = state.now();
    let email: Email = req
        .email
        .parse()
        .map_err(|_| ApiError::unauthenticated("wrong e-mail or password"))?;
    let by_email = Attempt::Login(email.clone());
    let by_client = client.0.map(Attempt::LoginFrom);
    refuse_when_locked(&state, &by_email, &LOGIN_LIMIT_PER_EMAIL, now).await?;
    if let Some(by_client) = &by_client {
        refuse_when_locked(&state, by_client, &LOGIN_LIMIT_PER_CLIENT, now).await?;
    }

    let user: Option<User> = state.store.user_by_email(&email).await?;
    match authenticate(user.as_ref(), &req.password, PasswordHash::verify) {
        Some(user) => {
            let account = state
                .store
                .account(user.account_id)
                .await?
                .ok_or_else(|| ApiError::unauthenticated("this account no longer exists"))?;
            let (token, expires_at) = state.tokens.issue(user, now)?;
            let tz = account.time_zone;
            Ok(Json(LoginResponse {
                token,
                expires_at: local(expires_at, tz),
                user: UserView::new(user, tz),
            }))
        }
        None => {
            state
                .store
                .record_failure(&by_email, &LOGIN_LIMIT_PER_EMAIL, now)
                .await?;
            if let Some(by_client) = &by_client {
                state
                    .store
                    .record_failure(by_client, &LOGIN_LIMIT_PER_CLIENT, now)
                    .await?;
            }
            tracing::info!(email = %email, client = ?client.0, "failed login");
            Err(ApiError::unauthenticated("wrong e-mail or password"))
        }
    }
}

/// Signs out: every token of the caller stops working, this one and any other
/// (another browser, a script), as after a password change.
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth",
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(State(state): State<AppState>, caller: Caller) -> ApiResult<StatusCode> {
    let mut user = caller.user.clone();
    user.revoke_tokens();
    state.store.update_user(&user).await?;
    tracing::info!(user = %user.id, "signed out: every token revoked");
    Ok(StatusCode::NO_CONTENT)
}

async fn refuse_when_locked(
    state: &AppState,
    attempt: &Attempt,
    limit: &Limit,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    if limit.is_exceeded(state.store.failures(attempt, limit, now).await?) {
        let wait = (limit.window_end(now) - now).num_seconds().max(1);
        return Err(ApiError::too_many_attempts(
            u64::try_from(wait).unwrap_or(1),
        ));
    }
    Ok(())
}
