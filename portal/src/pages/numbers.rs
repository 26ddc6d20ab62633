//! Access numbers: the seed's « Numéros de téléphones » form — number, greeting
//! language, filter, callthru, notes, E911 address, the action « Accéder
//! Téléconférences » with its three messages (upload and listen), display name,
//! confidential — with « Enregistrer » and « Quitter ». The provider assigns the
//! numbers (`pages::provider`); everyone of the account sees the list; the owner
//! configures each number the account was given.

use axum::extract::{Path, State};
use axum::http::{Method, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde_json::{Map, Value, json};
use teleconf_domain::NumberKind;
use teleconf_domain::permissions::{Action, decide};

use crate::Portal;
use crate::backend::encode;
use crate::error::PortalError;
use crate::html::{FieldErrors, Nav, checkbox, csrf, field, input, page, select};
use crate::pages::{FormData, see_other};
use crate::session::{BASE, Session};
use teleconf_views::numbers::{ActionBody, NumberView, PromptsBody};
use teleconf_views::prompts::PromptView;

/// The three messages of the action, by API field and label.
const MESSAGES: [(&str, &str, &str); 3] = [
    ("greeting", "Msg d'accueil général", "General greeting"),
    (
        "conference_number",
        "Msg téléconférence désirée",
        "Which conference message",
    ),
    ("access_code", "Msg code d'accès", "Access code message"),
];

const FIELDS: &[&str] = &[
    "kind",
    "greeting_language",
    "filter",
    "callthru",
    "notes",
    "e911_address",
    "action",
    "display_name",
    "confidential",
    "action.prompts.greeting",
    "action.prompts.conference_number",
    "action.prompts.access_code",
];

fn prompt_of(p: &PromptsBody, name: &str) -> Option<String> {
    match name {
        "greeting" => p.greeting,
        "conference_number" => p.conference_number,
        _ => p.access_code,
    }
    .map(|id| id.to_string())
}

/// `GET /portal/numbers`.
pub async fn list(State(portal): State<Portal>, s: Session) -> Result<Markup, PortalError> {
    let lang = s.lang;
    let numbers: Vec<NumberView> = portal
        .backend
        .send(s.call(Method::GET, "/v1/numbers"))
        .await
        .map_err(|e| e.in_language(lang))?;
    let manage = decide(&s.me.actor(), Action::ManageNumbers(s.me.account.id)).is_allowed();
    Ok(page(
        &s,
        lang.t("Numéros d'accès", "Access numbers"),
        Nav::Numbers,
        html! {
            h1 { (lang.t("Numéros d'accès", "Access numbers")) }
            p #numbers-origin { (lang.t(
                "Votre fournisseur attribue les numéros d'accès du compte ; pour en obtenir un autre, communiquez avec lui.",
                "Your provider assigns the account's access numbers; to get another one, contact them.",
            )) }
            div.scroll { table #numbers {
                thead { tr {
                    th scope="col" { (lang.t("Numéro", "Number")) }
                    th scope="col" { (lang.t("Type", "Kind")) }
                    th scope="col" { (lang.t("Langue d'accueil", "Greeting language")) }
                    th scope="col" { (lang.t("Action", "Action")) }
                    th scope="col" { (lang.t("Nom affiché", "Display name")) }
                    @if manage { th scope="col" { (lang.t("Modifier", "Edit")) } }
                } }
                tbody {
                    @for n in &numbers {
                        tr {
                            td { (n.national) }
                            td { (lang.number_kind(n.kind)) }
                            td { (lang.language(n.greeting_language)) }
                            td { @match n.action { ActionBody::ConferenceAccess { .. } => (lang.t("Accéder Téléconférences", "Conference access")), ActionBody::None => (lang.t("Aucune", "None")) } }
                            td { (n.display_name) }
                            @if manage { td { a href={(BASE) "/numbers/" (encode(n.number.as_str())) "/edit"} { (lang.t("Modifier", "Edit")) } } }
                        }
                    }
                }
            } }
        },
    ))
}

fn form_page(s: &Session, n: &NumberView, f: &FormData, errors: &FieldErrors) -> Markup {
    let lang = s.lang;
    let title = lang.t("Modifier le numéro d'accès", "Edit the access number");
    let action = format!("{BASE}/numbers/{}/edit", encode(n.number.as_str()));
    let prompts = match &n.action {
        ActionBody::ConferenceAccess { prompts } => prompts.clone(),
        ActionBody::None => PromptsBody::default(),
    };
    let submitted = !f.text("csrf").is_empty();
    let val = |name: &str, stored: String| -> String {
        if submitted {
            f.text(name).to_string()
        } else {
            stored
        }
    };
    let flag = |name: &str, stored: bool| if submitted { f.checked(name) } else { stored };
    let kind = match n.kind {
        NumberKind::Local => "local",
        NumberKind::TollFree => "toll_free",
    };
    let action_type = match n.action {
        ActionBody::None => "none",
        ActionBody::ConferenceAccess { .. } => "conference_access",
    };
    page(
        s,
        title,
        Nav::Numbers,
        html! {
            h1 { (title) }
            (errors.summary(lang))
            form.card method="post" action=(action) enctype="multipart/form-data" {
                (csrf(s))
                div.field { span.label { (lang.t("Numéro de téléphone", "Telephone number")) } strong { (n.national) } }
                (field(errors, "kind", lang.t("Type", "Kind"), true, select(errors, "kind", &[("toll_free", lang.t("Sans frais", "Toll-free")), ("local", lang.t("Local", "Local"))], &val("kind", kind.into())), None))
                (field(errors, "greeting_language", lang.t("Langue d'accueil", "Greeting language"), true, select(errors, "greeting_language", &[("fr", lang.t("Français", "French")), ("en", lang.t("Anglais", "English"))], &val("greeting_language", n.greeting_language.as_str().to_string())), None))
                div.field.check { (checkbox(errors, "filter", flag("filter", n.filter))) label for="f-filter" { (lang.t("Filtrer", "Filter")) } @if let Some(m) = errors.of("filter") { span.field-error role="alert" { (m) } } }
                div.field.check { (checkbox(errors, "callthru", flag("callthru", n.callthru))) label for="f-callthru" { (lang.t("Numéro de Callthru?", "Callthru number?")) } }
                (field(errors, "notes", lang.t("Notes", "Notes"), false, input(errors, "notes", "text", &val("notes", n.notes.clone()), false), None))
                (field(errors, "e911_address", lang.t("Service 911", "911 service"), true, input(errors, "e911_address", "text", &val("e911_address", n.e911_address.clone()), true), Some("290-4765 1re Avenue, QUEBEC, QC G1H 2T3")))
                (field(errors, "action", lang.t("Action", "Action"), true, select(errors, "action", &[("conference_access", lang.t("Accéder Téléconférences", "Conference access")), ("none", lang.t("Aucune", "None"))], &val("action", action_type.into())), None))
                fieldset.field {
                    legend { (lang.t("Messages de l'action (facultatifs, fichiers « .wav »)", "The action's messages (optional, “.wav” files)")) }
                    @for (name, fr, en) in MESSAGES {
                        @let api_field = format!("action.prompts.{name}");
                        @let current = prompt_of(&prompts, name);
                        div.message {
                            label for={"f-msg-" (name)} { (lang.t(fr, en)) }
                            @if let Some(id) = &current {
                                audio controls preload="none" src={(BASE) "/prompts/" (id)} aria-label=(lang.t(fr, en)) {}
                                input type="hidden" name={"keep_" (name)} value=(id);
                            }
                            input id={"f-msg-" (name)} type="file" name={"msg_" (name)} accept=".wav,audio/wav";
                            @if let Some(m) = errors.of(&api_field) { span.field-error role="alert" { (m) } }
                        }
                    }
                }
                (field(errors, "display_name", lang.t("Nom affiché", "Display name"), false, input(errors, "display_name", "text", &val("display_name", n.display_name.clone()), false), None))
                div.field.check { (checkbox(errors, "confidential", flag("confidential", n.confidential))) label for="f-confidential" { (lang.t("Confidentiel", "Confidential")) } }
                div.buttons {
                    button type="submit" { (lang.t("Enregistrer", "Save")) }
                    a.button.secondary href={(BASE) "/numbers"} { (lang.t("Quitter", "Quit")) }
                }
            }
        },
    )
}

/// Uploads the chosen messages; the action's JSON, or the field errors.
async fn action_of(
    portal: &Portal,
    s: &Session,
    f: &FormData,
) -> Result<Result<Value, FieldErrors>, PortalError> {
    if f.text("action") == "none" {
        return Ok(Ok(json!({ "type": "none" })));
    }
    let mut prompts = Map::new();
    for (name, _, _) in MESSAGES {
        if let Some(file) = f.file(&format!("msg_{name}")) {
            let uploaded = portal
                .backend
                .send::<PromptView>(
                    s.call(Method::POST, "/v1/prompts")
                        .bytes("audio/wav", file.bytes.clone()),
                )
                .await;
            match uploaded {
                Ok(p) => {
                    prompts.insert(name.into(), json!(p.id));
                }
                Err(e) => {
                    let errors = FieldErrors::from_refusal(s.lang, e, &["audio"])?;
                    let text = errors
                        .of("audio")
                        .map(str::to_string)
                        .or(errors.general.clone())
                        .unwrap_or_default();
                    return Ok(Err(FieldErrors::one(
                        &format!("action.prompts.{name}"),
                        &text,
                    )));
                }
            }
        } else if let Some(keep) = f.opt(&format!("keep_{name}")) {
            prompts.insert(name.into(), json!(keep));
        }
    }
    Ok(Ok(
        json!({ "type": "conference_access", "prompts": prompts }),
    ))
}

fn body_of(f: &FormData, action: Value) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("kind".into(), json!(f.text("kind")));
    body.insert(
        "greeting_language".into(),
        json!(f.text("greeting_language")),
    );
    body.insert("filter".into(), json!(f.checked("filter")));
    body.insert("callthru".into(), json!(f.checked("callthru")));
    body.insert("notes".into(), json!(f.text("notes")));
    body.insert("e911_address".into(), json!(f.text("e911_address")));
    body.insert("action".into(), action);
    body.insert("display_name".into(), json!(f.text("display_name")));
    body.insert("confidential".into(), json!(f.checked("confidential")));
    body
}

async fn fetch(portal: &Portal, s: &Session, e164: &str) -> Result<NumberView, PortalError> {
    portal
        .backend
        .send(s.call(Method::GET, format!("/v1/numbers/{}", encode(e164))))
        .await
        .map_err(|e| e.in_language(s.lang))
}

/// `GET /portal/numbers/{e164}/edit`.
pub async fn edit_form(
    State(portal): State<Portal>,
    s: Session,
    Path(e164): Path<String>,
) -> Result<Markup, PortalError> {
    let n = fetch(&portal, &s, &e164).await?;
    Ok(form_page(
        &s,
        &n,
        &FormData::default(),
        &FieldErrors::default(),
    ))
}

/// `POST /portal/numbers/{e164}/edit`.
pub async fn update(
    State(portal): State<Portal>,
    s: Session,
    Path(e164): Path<String>,
    f: FormData,
) -> Result<Response, PortalError> {
    s.check_csrf(f.opt("csrf"))?;
    let n = fetch(&portal, &s, &e164).await?;
    let action = match action_of(&portal, &s, &f).await? {
        Ok(a) => a,
        Err(errors) => return Ok(form_page(&s, &n, &f, &errors).into_response()),
    };
    let body = Value::Object(body_of(&f, action));
    match portal
        .backend
        .send::<NumberView>(
            s.call(
                Method::PATCH,
                format!("/v1/numbers/{}", encode(n.number.as_str())),
            )
            .json(&body),
        )
        .await
    {
        Ok(_) => Ok(see_other("/numbers")),
        Err(e) => {
            let errors = FieldErrors::from_refusal(s.lang, e, FIELDS)?;
            Ok(form_page(&s, &n, &f, &errors).into_response())
        }
    }
}

/// `GET /portal/prompts/{id}`: a message to listen to.
pub async fn prompt_audio(
    State(portal): State<Portal>,
    s: Session,
    Path(id): Path<String>,
) -> Result<Response, PortalError> {
    let reply = portal
        .backend
        .raw(s.call(Method::GET, format!("/v1/prompts/{}", encode(&id))))
        .await
        .map_err(|e| e.in_language(s.lang))?;
    Ok(([(header::CONTENT_TYPE, "audio/wav")], reply.body).into_response())
}
