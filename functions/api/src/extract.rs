//! Request extractors: JSON bodies that name the failing field, the signed-in
//! caller ([`Caller`]), the client's address.

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;
use crate::usecases::Caller;

/// A JSON body. Malformed JSON, a wrong type, a missing or unknown field all answer
/// 400 naming the field (`codes.listener`), before anything reaches the store.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !is_json {
            return Err(ApiError::invalid(
                "body",
                "send JSON with Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::invalid("body", e.body_text()))?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Query parameters; a bad or unknown one answers 400 naming `query` in the JSON
/// error shape (axum's own rejection would answer plain text).
#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|q| QueryParams(q.0))
            .map_err(|e| ApiError::invalid("query", e.body_text()))
    }
}

/// Whether the client asked for CSV (`Accept: text/csv`) rather than JSON.
pub fn wants_csv(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/csv"))
}

/// Parses JSON, reporting the path of the first failing field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let message = inner.to_string();
        // A missing field is named in the message; the path stops at its parent.
        let field = quoted_field(&message)
            .filter(|_| message.starts_with("missing field"))
            .map(|f| {
                if path == "." {
                    f.to_string()
                } else {
                    format!("{path}.{f}")
                }
            })
            .unwrap_or_else(|| {
                if path == "." {
                    "body".to_string()
                } else {
                    path
                }
            });
        match inner.classify() {
            // Malformed JSON: the body as a whole is at fault, not the last key read.
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                ApiError::invalid("body", format!("malformed JSON: {message}"))
            }
            _ => ApiError::invalid(field, message),
        }
    })
}

fn quoted_field(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(&message[start..start + len])
}

/// The signed-in caller, from the bearer token: reloaded on every request, so a
/// changed role, a removed user or a revoked token takes effect at once.
impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| {
                ApiError::unauthenticated("sign in: send Authorization: Bearer <token>")
            })?;
        let subject = state
            .tokens
            .verify(token.trim(), state.now())
            .ok_or_else(|| {
                ApiError::unauthenticated("the token is invalid or expired; sign in again")
            })?;
        let user = state
            .store
            .user(subject.user)
            .await?
            .ok_or_else(|| ApiError::unauthenticated("this user no longer exists"))?;
        // The user read here anyway tells whether the token was revoked (a sign-out,
        // a password change): no lookup of its own.
        if subject.version != user.token_version {
            return Err(ApiError::unauthenticated(
                "this session has ended (signed out, or the password changed); sign in again",
            ));
        }
        let account = state
            .store
            .account(user.account_id)
            .await?
            .ok_or_else(|| ApiError::unauthenticated("this account no longer exists"))?;
        Ok(Caller { user, account })
    }
}

/// The client's address: API Gateway's source IP under Lambda, the socket's peer
/// locally, `None` when neither is known.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        use lambda_http::request::RequestContext;
        let from_gateway = match parts.extensions.get::<RequestContext>() {
            Some(RequestContext::ApiGatewayV2(ctx)) => {
                ctx.http.source_ip.as_deref().and_then(|ip| ip.parse().ok())
            }
            _ => None,
        };
        let from_socket = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(ClientAddr(from_gateway.or(from_socket)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        description: String,
        codes: Option<Codes>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Codes {
        listener: Option<teleconf_domain::AccessCode>,
    }

    fn field_of(json: &str) -> String {
        parse_json::<Body>(json.as_bytes())
            .unwrap_err()
            .field
            .unwrap()
            .into_owned()
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(field_of(r#"{"description": 3}"#), "description");
        assert_eq!(
            field_of(r#"{"description": "x", "colour": "red"}"#),
            "colour"
        );
        assert_eq!(field_of(r#"{"codes": {}}"#), "description");
        assert_eq!(
            field_of(r#"{"description": "x", "codes": {"listener": "12"}}"#),
            "codes.listener"
        );
        assert_eq!(
            field_of(r#"{"description": "x", "codes": {"speaker": "1234"}}"#),
            "codes.speaker"
        );
        assert_eq!(field_of(r#"{"description": "#), "body");
    }
}
