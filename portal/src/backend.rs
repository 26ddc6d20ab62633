//! The API, called in process: every page reads and writes through the API's own
//! router (`teleconf_api::router`), with the signed-in user's token. So the portal
//! has no business rule of its own: the permission matrix, validation, the activity
//! feed and every error are the API's, and an answer the API refuses is refused on
//! the page too.

use axum::Router;
use axum::body::Body;
use axum::http::{Extensions, HeaderMap, Method, Request, header};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tower::ServiceExt;

use crate::error::{ApiFailure, PortalError};

/// The API's router, as a service the portal sends requests to.
#[derive(Clone, Debug)]
pub struct Backend {
    api: Router,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    code: String,
    message: String,
    field: Option<String>,
}

/// A successful answer's bytes and headers (CSV, audio).
#[derive(Debug)]
pub struct RawReply {
    /// Headers (content type, disposition).
    pub headers: HeaderMap,
    /// Body.
    pub body: Vec<u8>,
}

/// One request to the API.
#[derive(Debug)]
pub struct Call<'a> {
    method: Method,
    path: String,
    token: Option<&'a str>,
    content_type: Option<String>,
    accept: Option<&'static str>,
    body: Vec<u8>,
    extensions: Option<&'a Extensions>,
}

impl<'a> Call<'a> {
    /// `method path`, with no body.
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            token: None,
            content_type: None,
            accept: None,
            body: Vec::new(),
            extensions: None,
        }
    }

    /// Signed in as the holder of `token`.
    pub fn token(mut self, token: &'a str) -> Self {
        self.token = Some(token);
        self
    }

    /// A JSON body.
    pub fn json(mut self, body: &serde_json::Value) -> Self {
        self.content_type = Some("application/json".into());
        self.body = body.to_string().into_bytes();
        self
    }

    /// A body of `content_type`.
    pub fn bytes(mut self, content_type: impl Into<String>, body: Vec<u8>) -> Self {
        self.content_type = Some(content_type.into());
        self.body = body;
        self
    }

    /// Ask for CSV.
    pub fn csv(mut self) -> Self {
        self.accept = Some("text/csv");
        self
    }

    /// Carry the browser request's extensions (its client address, the API
    /// Gateway context), so the API's login throttle counts the real client.
    pub fn from_client(mut self, extensions: &'a Extensions) -> Self {
        self.extensions = Some(extensions);
        self
    }
}

impl Backend {
    /// A backend over the API's router.
    pub fn new(api: Router) -> Self {
        Self { api }
    }

    /// Sends `call`; a success's bytes, or the API's error.
    pub async fn raw(&self, call: Call<'_>) -> Result<RawReply, PortalError> {
        let mut req = Request::builder().method(call.method).uri(&call.path);
        if let Some(token) = call.token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        if let Some(ct) = &call.content_type {
            req = req.header(header::CONTENT_TYPE, ct);
        }
        if let Some(accept) = call.accept {
            req = req.header(header::ACCEPT, accept);
        }
        let mut req = req
            .body(Body::from(call.body))
            .map_err(|e| PortalError::Internal(format!("request to {}: {e}", call.path)))?;
        if let Some(ext) = call.extensions {
            *req.extensions_mut() = ext.clone();
        }
        let res = match self.api.clone().oneshot(req).await {
            Ok(res) => res,
            Err(never) => match never {},
        };
        let status = res.status();
        let headers = res.headers().clone();
        let body = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .map_err(|e| PortalError::Internal(format!("reading the API's answer: {e}")))?
            .to_vec();
        if status.is_success() {
            return Ok(RawReply { headers, body });
        }
        let failure = match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(e) => ApiFailure {
                status,
                code: e.error.code,
                message: e.error.message,
                field: e.error.field,
            },
            Err(_) => ApiFailure {
                status,
                code: "internal".into(),
                message: String::from_utf8_lossy(&body).into_owned(),
                field: None,
            },
        };
        Err(PortalError::Api(failure))
    }

    /// Sends `call` and reads the JSON answer as `T` (`()` for an empty 204).
    pub async fn send<T: DeserializeOwned>(&self, call: Call<'_>) -> Result<T, PortalError> {
        let path = call.path.clone();
        let reply = self.raw(call).await?;
        let body: &[u8] = if reply.body.is_empty() {
            b"null"
        } else {
            &reply.body
        };
        serde_json::from_slice(body)
            .map_err(|e| PortalError::Internal(format!("the API's answer to {path}: {e}")))
    }
}

/// Percent-encodes a path segment or query value (an E.164 `+`, a date's `:`).
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plus_and_a_colon_are_encoded() {
        assert_eq!(encode("+15145550100"), "%2B15145550100");
        assert_eq!(
            encode("2026-06-06T09:30:00-04:00"),
            "2026-06-06T09%3A30%3A00-04%3A00"
        );
    }
}
