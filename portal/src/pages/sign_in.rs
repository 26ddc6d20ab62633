//! Signing in and out, and the language switch.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;

use crate::Portal;
use crate::backend::Call;
use crate::error::PortalError;
use crate::html::{FieldErrors, bare_page, field, input};
use crate::i18n::L;
use crate::pages::FormData;
use crate::session::{
    BASE, LANG_COOKIE, LOGIN_CSRF_COOKIE, SESSION_COOKIE, SESSION_MAX_AGE, Session, Visitor,
    add_cookie, cookie, same_token, set_cookie,
};

#[derive(Deserialize)]
struct LoginAnswer {
    token: String,
}

fn page(lang: L, csrf: &str, email: &str, errors: &FieldErrors) -> Markup {
    bare_page(
        lang,
        lang.t("Connexion", "Sign in"),
        html! {
            h1 { (lang.t("Connexion à l'Espace client", "Sign in to the customer portal")) }
            (errors.summary(lang))
            form.card method="post" action={(BASE) "/sign-in"} {
                input type="hidden" name="csrf" value=(csrf);
                (field(errors, "email", lang.t("Courriel", "E-mail"), true, input(errors, "email", "email", email, true), None))
                (field(errors, "password", lang.t("Mot de passe", "Password"), true, input(errors, "password", "password", "", true), None))
                button type="submit" { (lang.t("Se connecter", "Sign in")) }
            }
        },
    )
}

fn with_login_csrf(lang: L, https: bool, email: &str, errors: &FieldErrors) -> Response {
    let token: String = teleconf_domain::random::bytes::<16>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut res = page(lang, &token, email, errors).into_response();
    add_cookie(
        res.headers_mut(),
        set_cookie(LOGIN_CSRF_COOKIE, &token, 3600, true, https),
    );
    res
}

/// `GET /portal/sign-in`.
pub async fn form(visitor: Visitor, session: Option<Session>) -> Response {
    if session.is_some() {
        return Redirect::to(BASE).into_response();
    }
    with_login_csrf(visitor.lang, visitor.https, "", &FieldErrors::default())
}

/// `POST /portal/sign-in`: the API's login; its token becomes the session cookie.
pub async fn submit(
    State(portal): State<Portal>,
    visitor: Visitor,
    form: FormData,
) -> Result<Response, PortalError> {
    let lang = visitor.lang;
    let expected = cookie(&visitor.headers, LOGIN_CSRF_COOKIE).unwrap_or("");
    if expected.is_empty() || !same_token(expected, form.text("csrf")) {
        return Err(PortalError::Csrf(lang));
    }
    let email = form.text("email");
    let answer = portal
        .backend
        .send::<LoginAnswer>(
            Call::new(Method::POST, "/v1/auth/login")
                .json(&json!({ "email": email, "password": form.text("password") }))
                .from_client(&visitor.extensions),
        )
        .await;
    match answer {
        Ok(login) => {
            let mut res = Redirect::to(BASE).into_response();
            add_cookie(
                res.headers_mut(),
                set_cookie(
                    SESSION_COOKIE,
                    &login.token,
                    SESSION_MAX_AGE,
                    true,
                    visitor.https,
                ),
            );
            add_cookie(
                res.headers_mut(),
                set_cookie(LOGIN_CSRF_COOKIE, "", 0, true, visitor.https),
            );
            Ok(res)
        }
        Err(e) => {
            let status = e.failure().map(|f| f.status);
            let errors =
                FieldErrors::from_refusal(lang, e, &[]).or_else(|e| match e.failure() {
                    Some(f) if matches!(f.status.as_u16(), 401 | 429) => {
                        Ok(FieldErrors::general(lang.api_error(&f.code, &f.message)))
                    }
                    _ => Err(e),
                })?;
            let mut res = with_login_csrf(lang, visitor.https, email, &errors);
            if let Some(status) = status {
                *res.status_mut() = status;
            }
            Ok(res)
        }
    }
}

/// `POST /portal/sign-out`: the API ends every session of the user (the token
/// in the cookie stops working wherever it was copied), then the cookie goes.
pub async fn sign_out(
    State(portal): State<Portal>,
    session: Session,
    form: FormData,
) -> Result<Response, PortalError> {
    session.check_csrf(form.opt("csrf"))?;
    portal
        .backend
        .send::<()>(session.call(Method::POST, "/v1/auth/logout"))
        .await
        .map_err(|e| e.in_language(session.lang))?;
    let mut res = Redirect::to(&format!("{BASE}/sign-in")).into_response();
    add_cookie(
        res.headers_mut(),
        set_cookie(SESSION_COOKIE, "", 0, true, session.https),
    );
    Ok(res)
}

/// `GET /portal/lang/{fr|en}`: remembers the language, back to the page it was chosen on.
pub async fn switch_language(
    visitor: Visitor,
    headers: HeaderMap,
    Path(lang): Path<String>,
) -> Response {
    let lang = if lang == "en" { "en" } else { "fr" };
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.find(BASE).map(|i| r[i..].to_string()))
        .filter(|p| !p.starts_with(&format!("{BASE}/lang/")) && !p.contains("//"))
        .unwrap_or_else(|| BASE.to_string());
    let mut res = Redirect::to(&back).into_response();
    add_cookie(
        res.headers_mut(),
        set_cookie(LANG_COOKIE, lang, 365 * 24 * 3600, false, visitor.https),
    );
    res
}
