//! The API's errors, and the one place they become HTTP: every error is JSON
//! `{"error": {"code", "message", "field"?}}` with its status.
//!
//! | status | `code` | when |
//! |---|---|---|
//! | 400 | `invalid` | malformed JSON, an unknown or missing field, a value breaking a rule (format, range, end before start, too long, start in the past, duplicate code, not a WAV) |
//! | 401 | `unauthenticated` | no token, a bad or expired token, wrong credentials |
//! | 403 | `forbidden` | the caller sees the thing but may not do this |
//! | 404 | `not_found` | no such thing, or it belongs to another account |
//! | 409 | `conflict` | a unique value is taken (e-mail, access number) |
//! | 405 | `method_not_allowed` | the path exists, not with this method |
//! | 413 | `too_large` | a prompt over 10 MB or 5 minutes |
//! | 422 | `state` | valid, but the thing's state forbids it (a running conference cannot be deleted, the last owner cannot be removed) |
//! | 429 | `too_many_attempts` | too many failed logins; `Retry-After` says when to try again |
//! | 503 | `unavailable` | the store cannot be reached; nothing was changed, retry later |
//!
//! The use cases ([`crate::usecases`]) answer [`Error`], what they refuse in the
//! domain's and the adapters' own terms; it becomes an [`ApiError`] here only.

use std::borrow::Cow;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use teleconf_domain::permissions::Decision;
use utoipa::ToSchema;

/// What a use case refuses: the domain's or the adapters' error, or a rule of the
/// use case itself (a permission, a thing missing, a lifecycle state).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A domain rule (400, 413).
    #[error(transparent)]
    Domain(#[from] teleconf_domain::Error),
    /// The store or the blobs (404, 409, 422 for the last owner, 503).
    #[error(transparent)]
    Adapters(#[from] teleconf_adapters::Error),
    /// The permission matrix said no (403, or 404 when the caller may not even see it).
    #[error("permission: {0:?}")]
    Refused(Decision, &'static str),
    /// No such thing, or another account's (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Valid, but the thing's state forbids it (422).
    #[error("{message}")]
    State {
        /// The input field at fault, if one is.
        field: Option<&'static str>,
        /// Why, for a human.
        message: String,
    },
    /// An error about a part of a larger input, its field under `prefix` (`owner.email`).
    #[error("{prefix}: {error}")]
    Within {
        /// The part (`owner`, `plan`).
        prefix: &'static str,
        /// What is wrong with it.
        error: Box<Error>,
    },
}

impl Error {
    /// Maps a permission decision: allowed is `Ok`.
    pub fn check(decision: Decision, what: &'static str) -> Result<(), Error> {
        match decision {
            Decision::Allowed => Ok(()),
            refused => Err(Self::Refused(refused, what)),
        }
    }

    /// 400 naming `field`.
    pub fn invalid(field: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::Domain(teleconf_domain::Error::invalid(field, message))
    }

    /// The thing's state forbids the change.
    pub fn state(field: Option<&'static str>, message: impl Into<String>) -> Self {
        Self::State {
            field,
            message: message.into(),
        }
    }

    /// The same error, its field nested under `prefix`.
    pub fn within(self, prefix: &'static str) -> Self {
        Self::Within {
            prefix,
            error: Box::new(self),
        }
    }
}

impl From<Error> for ApiError {
    fn from(err: Error) -> Self {
        match err {
            Error::Domain(e) => e.into(),
            Error::Adapters(e) => e.into(),
            Error::Refused(decision, what) => match ApiError::check(decision, what) {
                Err(e) => e,
                Ok(()) => ApiError::internal("an allowed decision reported as a refusal"),
            },
            Error::NotFound(what) => ApiError::not_found(what),
            Error::State { field, message } => ApiError::state(field, message),
            Error::Within { prefix, error } => ApiError::from(*error).in_field_prefix(prefix),
        }
    }
}

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Machine-readable code (see the table above).
    pub code: &'static str,
    /// For a human.
    pub message: String,
    /// The input field at fault.
    pub field: Option<Cow<'static, str>>,
    /// Seconds before retrying, for 429 and 503.
    pub retry_after: Option<u64>,
}

/// The JSON body of an error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Machine-readable code: invalid, unauthenticated, forbidden, not_found, conflict, too_large, state, too_many_attempts, unavailable.
    pub code: String,
    /// For a human.
    pub message: String,
    /// The input field at fault, when there is one (`codes.listener`, `start`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
            retry_after: None,
        }
    }

    /// 400 naming `field`.
    pub fn invalid(field: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self {
            field: Some(field.into()),
            ..Self::new(StatusCode::BAD_REQUEST, "invalid", message)
        }
    }

    /// 401.
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
    }

    /// 403.
    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "your role does not allow this",
        )
    }

    /// 404 for `what`.
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    /// 405: the path exists, not with this method.
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this path does not take this method",
        )
    }

    /// 422: the thing's state forbids the change.
    pub fn state(field: Option<&'static str>, message: impl Into<String>) -> Self {
        Self {
            field: field.map(Cow::Borrowed),
            ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, "state", message)
        }
    }

    /// 429 with the seconds until the lock lifts.
    pub fn too_many_attempts(retry_after: u64) -> Self {
        Self {
            retry_after: Some(retry_after.max(1)),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                "too many failed attempts; try again later",
            )
        }
    }

    /// 413 naming `field`.
    pub fn too_large(field: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self {
            field: Some(field.into()),
            ..Self::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", message)
        }
    }

    /// 500, logging what happened (the caller learns nothing of the inside).
    fn internal(detail: &str) -> Self {
        tracing::error!(%detail, "answering 500");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "an internal error occurred",
        )
    }

    /// The same error with its field nested under `prefix` (`email` → `owner.email`).
    pub fn in_field_prefix(mut self, prefix: &str) -> Self {
        if let Some(field) = self.field.take() {
            self.field = Some(Cow::Owned(format!("{prefix}.{field}")));
        }
        self
    }

    /// Maps a permission decision: allowed is `Ok`.
    pub fn check(decision: Decision, what: &str) -> Result<(), ApiError> {
        match decision {
            Decision::Allowed => Ok(()),
            Decision::Forbidden => Err(Self::forbidden()),
            Decision::NotFound => Err(Self::not_found(what)),
        }
    }
}

impl From<teleconf_domain::Error> for ApiError {
    fn from(err: teleconf_domain::Error) -> Self {
        use teleconf_domain::Error as E;
        match err {
            E::Invalid { field, message } => Self::invalid(field, message),
            E::TooLarge { field, message } => Self::too_large(field, message),
            E::Internal(detail) => Self::internal(&detail),
        }
    }
}

impl From<teleconf_adapters::Error> for ApiError {
    fn from(err: teleconf_adapters::Error) -> Self {
        use teleconf_adapters::Error as E;
        match err {
            E::Domain(err) => err.into(),
            E::NotFound(what) => Self::not_found(what),
            E::Conflict("last_owner") => Self::state(
                Some("role"),
                "an account keeps at least one owner (the provider, one provider_admin)",
            ),
            E::Conflict(what) => Self {
                field: Some(Cow::Borrowed(what)),
                ..Self::new(
                    StatusCode::CONFLICT,
                    "conflict",
                    format!("this {} is already taken", what.replace('_', " ")),
                )
            },
            E::Unavailable(detail) => {
                tracing::warn!(%detail, "answering 503");
                Self {
                    retry_after: Some(5),
                    ..Self::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "unavailable",
                        "the service is temporarily unavailable; nothing was changed, please retry",
                    )
                }
            }
            E::Store(detail) | E::Config(detail) => Self::internal(&detail),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message,
                field: self.field.map(Cow::into_owned),
            },
        };
        let mut res = (self.status, Json(body)).into_response();

        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}

/// A handler's result.
pub type ApiResult<T> = Result<T, ApiError>;
