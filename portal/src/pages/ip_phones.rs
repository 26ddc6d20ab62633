//! The account's IP phones (owner): the phones whose `*44` reaches the account's
//! conferences (seed: « téléphone IP dans le MÊME compte »). Add one by its address
//! or its SIP identity, remove one; the API refuses a source another account has.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde_json::json;
use teleconf_domain::IpPhoneSource;

use crate::Portal;
use crate::backend::encode;
use crate::error::PortalError;
use crate::html::{FieldErrors, Nav, csrf, field, input, page, remove_button};
use crate::pages::{FormData, see_other};
use crate::session::{BASE, Session};
use teleconf_views::ip_phones::IpPhoneView;

async fn render(
    portal: &Portal,
    s: &Session,
    errors: &FieldErrors,
    typed: &FormData,
) -> Result<Markup, PortalError> {
    let lang = s.lang;
    let phones: Vec<IpPhoneView> = portal
        .backend
        .send(s.call(Method::GET, "/v1/ip-phones"))
        .await
        .map_err(|e| e.in_language(lang))?;
    let title = lang.t("Téléphones IP (*44)", "IP phones (*44)");
    Ok(page(
        s,
        title,
        Nav::IpPhones,
        html! {
            h1 { (title) }
            p { (lang.t(
                "Les téléphones IP du compte accèdent aux téléconférences du compte en composant *44, sans numéro d'accès. Un téléphone est reconnu par l'adresse IP d'où il appelle, ou par son identité SIP telle que le réseau du fournisseur la transmet.",
                "The account's IP phones reach the account's conferences by dialling *44, without an access number. A phone is recognised by the IP address it calls from, or by its SIP identity as the provider's network passes it on.",
            )) }
            (errors.summary(lang))
            @if phones.is_empty() {
                p #no-ip-phones { (lang.t("Aucun téléphone IP pour l'instant.", "No IP phone yet.")) }
            } @else {
                div.scroll { table #ip-phones {
                    thead { tr {
                        th scope="col" { (lang.t("Téléphone", "Phone")) }
                        th scope="col" { (lang.t("Reconnu par", "Recognised by")) }
                        th scope="col" { (lang.t("Nom", "Name")) }
                        th scope="col" { (lang.t("Retirer", "Remove")) }
                    } }
                    tbody {
                        @for phone in &phones {
                            tr {
                                td { code { (phone.source) } }
                                td { (match phone.source {
                                    IpPhoneSource::Address(_) => lang.t("son adresse IP", "its IP address"),
                                    IpPhoneSource::Identity(_) => lang.t("son identité SIP", "its SIP identity"),
                                }) }
                                td { (phone.label) }
                                td { (remove_button(
                                    s,
                                    &format!("/ip-phones/{}/delete", encode(&phone.source.to_string())),
                                    &phone.source.to_string(),
                                )) }
                            }
                        }
                    }
                } }
            }
            section.card {
                h2 { (lang.t("Ajouter un téléphone IP", "Add an IP phone")) }
                form method="post" action={(BASE) "/ip-phones"} {
                    (csrf(s))
                    (field(errors, "source", lang.t("Adresse IP ou identité SIP", "IP address or SIP identity"), true,
                        input(errors, "source", "text", typed.text("source"), true),
                        Some(lang.t("Par exemple 192.0.2.10 ou sip:poste12@pbx.exemple.ca", "For example 192.0.2.10 or sip:desk12@pbx.example.com"))))
                    (field(errors, "label", lang.t("Nom (facultatif)", "Name (optional)"), false,
                        input(errors, "label", "text", typed.text("label"), false), None))
                    button type="submit" { (lang.t("Ajouter", "Add")) }
                }
            }
        },
    ))
}

/// `GET /portal/ip-phones`.
pub async fn list(State(portal): State<Portal>, s: Session) -> Result<Markup, PortalError> {
    render(&portal, &s, &FieldErrors::default(), &FormData::default()).await
}

/// `POST /portal/ip-phones`.
pub async fn add(
    State(portal): State<Portal>,
    s: Session,
    f: FormData,
) -> Result<Response, PortalError> {
    s.check_csrf(f.opt("csrf"))?;
    let body = json!({ "source": f.text("source"), "label": f.text("label") });
    match portal
        .backend
        .send::<serde_json::Value>(s.call(Method::POST, "/v1/ip-phones").json(&body))
        .await
    {
        Ok(_) => Ok(see_other("/ip-phones")),
        Err(e) => {
            let errors = FieldErrors::from_refusal(s.lang, e, &["source", "label"])?;
            Ok(render(&portal, &s, &errors, &f).await?.into_response())
        }
    }
}

/// `POST /portal/ip-phones/{source}/delete`.
pub async fn remove(
    State(portal): State<Portal>,
    s: Session,
    Path(source): Path<String>,
    f: FormData,
) -> Result<Response, PortalError> {
    s.check_csrf(f.opt("csrf"))?;
    match portal
        .backend
        .send::<()>(s.call(Method::DELETE, format!("/v1/ip-phones/{}", encode(&source))))
        .await
    {
        Ok(()) => Ok(see_other("/ip-phones")),
        Err(e) => {
            let errors = FieldErrors::from_refusal(s.lang, e, &[])?;
            Ok(render(&portal, &s, &errors, &FormData::default())
                .await?
                .into_response())
        }
    }
}
