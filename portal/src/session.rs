//! Who is browsing: the session cookie (the API's own token, HttpOnly, SameSite=Lax,
//! Secure behind HTTPS), the language cookie, and CSRF protection.
//!
//! CSRF: every form carries a hidden `csrf` field. Signed in, its value is a hash of
//! the session token, which a page of another site can neither read (HttpOnly) nor
//! compute; on the sign-in form (no session yet) it must equal a random
//! `tc_csrf` cookie set with the form (double submit). With SameSite=Lax cookies a
//! cross-site POST does not even carry the session.

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap, HeaderValue, Method};
use sha2::{Digest, Sha256};
use teleconf_domain::Language;

use crate::Portal;
use crate::backend::Call;
use crate::error::PortalError;
use crate::i18n::L;
use teleconf_views::me::Me;

/// The session cookie: the API token.
pub const SESSION_COOKIE: &str = "tc_session";
/// The language cookie: `fr` or `en`.
pub const LANG_COOKIE: &str = "tc_lang";
/// The sign-in form's double-submit cookie.
pub const LOGIN_CSRF_COOKIE: &str = "tc_csrf";
/// Where the portal lives; every cookie is scoped to it.
pub const BASE: &str = "/portal";
/// How long the session cookie lives: the API token's lifetime (12 h).
pub const SESSION_MAX_AGE: u64 = 12 * 3600;

/// One cookie's value from the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Whether the browser reached us over HTTPS (API Gateway says so in
/// `X-Forwarded-Proto`); cookies are then `Secure`.
pub fn is_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value scoped to the portal; `max_age` 0 deletes it.
pub fn set_cookie(
    name: &str,
    value: &str,
    max_age: u64,
    http_only: bool,
    secure: bool,
) -> HeaderValue {
    let mut text = format!("{name}={value}; Path={BASE}; Max-Age={max_age}; SameSite=Lax");
    if http_only {
        text.push_str("; HttpOnly");
    }
    if secure {
        text.push_str("; Secure");
    }
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("tc_invalid=1"))
}

/// Adds `Set-Cookie` to a response's headers.
pub fn add_cookie(headers: &mut HeaderMap, value: HeaderValue) {
    headers.append(SET_COOKIE, value);
}

/// The CSRF token of a session.
pub fn csrf_for(token: &str) -> String {
    let digest = Sha256::new()
        .chain_update(b"teleconf-portal-csrf\0")
        .chain_update(token.as_bytes())
        .finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two tokens in constant time.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Every visitor: their language and whether they are on HTTPS.
#[derive(Debug, Clone)]
pub struct Visitor {
    /// The page's language (cookie, else French).
    pub lang: L,
    /// Cookies get `Secure`.
    pub https: bool,
    /// The request's extensions (client address), passed on to the API.
    pub extensions: Extensions,
    /// The request's cookies and headers.
    pub headers: HeaderMap,
}

impl FromRequestParts<Portal> for Visitor {
    type Rejection = PortalError;

    async fn from_request_parts(parts: &mut Parts, _: &Portal) -> Result<Self, PortalError> {
        let lang = match cookie(&parts.headers, LANG_COOKIE) {
            Some("en") => Language::En,
            _ => Language::Fr,
        };
        Ok(Visitor {
            lang: L(lang),
            https: is_https(&parts.headers),
            extensions: parts.extensions.clone(),
            headers: parts.headers.clone(),
        })
    }
}

/// A signed-in user: their token, who they are (asked of the API on every page, so a
/// changed role or a removed user takes effect at once), and the CSRF token of
/// their forms. A POST without the right CSRF token is refused before anything runs.
#[derive(Debug, Clone)]
pub struct Session {
    /// The API token.
    pub token: String,
    /// `GET /v1/me`.
    pub me: Me,
    /// The page's language.
    pub lang: L,
    /// The forms' CSRF token.
    pub csrf: String,
    /// Cookies get `Secure`.
    pub https: bool,
}

impl Session {
    /// A call to the API as this user.
    pub fn call(&self, method: Method, path: impl Into<String>) -> Call<'_> {
        Call::new(method, path).token(&self.token)
    }

    /// Checks a form's CSRF field.
    pub fn check_csrf(&self, sent: Option<&str>) -> Result<(), PortalError> {
        match sent {
            Some(sent) if same_token(sent, &self.csrf) => Ok(()),
            _ => Err(PortalError::Csrf(self.lang)),
        }
    }
}

impl FromRequestParts<Portal> for Session {
    type Rejection = PortalError;

    async fn from_request_parts(parts: &mut Parts, portal: &Portal) -> Result<Self, PortalError> {
        let visitor = Visitor::from_request_parts(parts, portal).await?;
        let token = cookie(&parts.headers, SESSION_COOKIE)
            .filter(|t| !t.is_empty())
            .ok_or(PortalError::SignedOut)?
            .to_string();
        let me: Me = portal
            .backend
            .send(Call::new(Method::GET, "/v1/me").token(&token))
            .await
            .map_err(|e| match e {
                PortalError::Api(f) if f.status.as_u16() == 401 => PortalError::SignedOut,
                other => other.in_language(visitor.lang),
            })?;
        Ok(Session {
            csrf: csrf_for(&token),
            token,
            me,
            lang: visitor.lang,
            https: visitor.https,
        })
    }
}

impl OptionalFromRequestParts<Portal> for Session {
    type Rejection = PortalError;

    async fn from_request_parts(
        parts: &mut Parts,
        portal: &Portal,
    ) -> Result<Option<Self>, PortalError> {
        match <Session as FromRequestParts<Portal>>::from_request_parts(parts, portal).await {
            Ok(s) => Ok(Some(s)),
            Err(PortalError::SignedOut) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("a=1; tc_lang=en"));
        headers.append(COOKIE, HeaderValue::from_static("tc_session=abc.def"));
        assert_eq!(cookie(&headers, LANG_COOKIE), Some("en"));
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("abc.def"));
        assert_eq!(cookie(&headers, "missing"), None);
    }

    #[test]
    fn the_session_cookie_is_http_only_lax_and_secure_behind_https() {
        let v = set_cookie(SESSION_COOKIE, "t", 60, true, true);
        let v = v.to_str().unwrap();
        for part in [
            "HttpOnly",
            "Secure",
            "SameSite=Lax",
            "Path=/portal",
            "Max-Age=60",
        ] {
            assert!(v.contains(part), "{v} lacks {part}");
        }
        let local = set_cookie(SESSION_COOKIE, "t", 60, true, false);
        assert!(!local.to_str().unwrap().contains("Secure"));
    }

    #[test]
    fn the_csrf_token_belongs_to_its_session() {
        assert_eq!(csrf_for("a"), csrf_for("a"));
        assert_ne!(csrf_for("a"), csrf_for("b"));
        assert!(same_token(&csrf_for("a"), &csrf_for("a")));
        assert!(!same_token(&csrf_for("a"), &csrf_for("b")));
        assert!(!same_token("short", &csrf_for("a")));
    }
}
