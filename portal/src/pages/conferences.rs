//! Conferences: the list (everyone of the account sees all; edit controls only on
//! those the permission matrix lets the user modify), the scheduling and editing
//! form (the seed's « Programmation »), the detail with its CDRs and recordings,
//! cancelling, and the one-time code to record the intro message by phone.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde_json::{Map, Value, json};
use teleconf_domain::ConferenceStatus;
use teleconf_domain::permissions::{Action, ConferenceRef, decide};

use crate::Portal;
use crate::backend::encode;
use crate::error::PortalError;
use crate::html::{FieldErrors, Nav, csrf, field, input, notice, page};
use crate::i18n::L;
use crate::pages::{FormData, see_other, wall_clock};
use crate::session::{BASE, Session};
use teleconf_views::cdrs::CdrPage;
use teleconf_views::conferences::{ConferenceView, IntroByPhone};
use teleconf_views::prompts::PromptView;
use teleconf_views::recordings::RecordingView;

/// What the permission matrix lets `s` do to `c`.
pub fn may(s: &Session, c: &ConferenceView, action: fn(ConferenceRef) -> Action) -> bool {
    decide(
        &s.me.actor(),
        action(ConferenceRef {
            account: s.me.account.id,
            created_by: c.created_by,
        }),
    )
    .is_allowed()
}

/// « Your role does not allow this », as the API says it.
pub fn forbidden(lang: crate::i18n::L) -> PortalError {
    PortalError::Api(crate::error::ApiFailure {
        status: axum::http::StatusCode::FORBIDDEN,
        code: "forbidden".into(),
        message: "your role does not allow this".into(),
        field: None,
    })
    .in_language(lang)
}

/// The conference `id`, as the API shows it to `s`.
pub async fn fetch(portal: &Portal, s: &Session, id: &str) -> Result<ConferenceView, PortalError> {
    portal
        .backend
        .send(s.call(Method::GET, format!("/v1/conferences/{}", encode(id))))
        .await
        .map_err(|e| e.in_language(s.lang))
}

/// `GET /portal/conferences`.
pub async fn list(State(portal): State<Portal>, s: Session) -> Result<Markup, PortalError> {
    let lang = s.lang;
    let conferences: Vec<ConferenceView> = portal
        .backend
        .send(s.call(Method::GET, "/v1/conferences"))
        .await
        .map_err(|e| e.in_language(lang))?;
    Ok(page(
        &s,
        lang.t("Téléconférences", "Conferences"),
        Nav::Conferences,
        html! {
            h1 { (lang.t("Téléconférences", "Conferences")) }
            p { a.button href={(BASE) "/conferences/new"} { (lang.t("Planifier une téléconférence", "Schedule a conference")) } }
            div.scroll { table #conferences {
                thead { tr {
                    th scope="col" { (lang.t("Description", "Description")) }
                    th scope="col" { (lang.t("Numéro", "Number")) }
                    th scope="col" { (lang.t("Début", "Start")) }
                    th scope="col" { (lang.t("Fin", "End")) }
                    th scope="col" { (lang.t("État", "Status")) }
                    th scope="col" { (lang.t("Actions", "Actions")) }
                } }
                tbody {
                    @for c in &conferences {
                        tr data-conference=(c.id) {
                            td { a href={(BASE) "/conferences/" (c.id)} { (c.description) } }
                            td { (c.conference_number) }
                            td { (lang.date_time(c.start)) }
                            td { (lang.date_time(c.end)) }
                            td { (lang.status(c.status)) }
                            td.actions {
                                @if may(&s, c, Action::ModifyConference) && c.status != ConferenceStatus::Ended {
                                    a.edit href={(BASE) "/conferences/" (c.id) "/edit"} { (lang.t("Modifier", "Edit")) }
                                    @if c.status == ConferenceStatus::Running {
                                        " " a href={(BASE) "/conferences/" (c.id) "/live"} { (lang.t("En direct", "Live")) }
                                    }
                                }
                            }
                        }
                    }
                }
            } }
        },
    ))
}

/// The form's values, as typed (or as stored, for an edit).
#[derive(Debug, Default, Clone)]
struct Values {
    description: String,
    start_date: String,
    start_time: String,
    end_date: String,
    end_time: String,
    record: bool,
    participant: String,
    listener: String,
    moderator: String,
    has_intro: bool,
}

impl Values {
    fn of(c: &ConferenceView) -> Self {
        let codes = c.codes.clone();
        Values {
            description: c.description.clone(),
            start_date: c.start.format("%Y-%m-%d").to_string(),
            start_time: c.start.format("%H:%M").to_string(),
            end_date: c.end.format("%Y-%m-%d").to_string(),
            end_time: c.end.format("%H:%M").to_string(),
            record: c.record,
            participant: codes
                .as_ref()
                .map(|k| k.participant.clone())
                .unwrap_or_default(),
            listener: codes
                .as_ref()
                .map(|k| k.listener.clone())
                .unwrap_or_default(),
            moderator: codes.map(|k| k.moderator).unwrap_or_default(),
            has_intro: c.intro_prompt.is_some(),
        }
    }

    fn from_form(f: &FormData) -> Self {
        Values {
            description: f.text("description").to_string(),
            start_date: f.text("start_date").to_string(),
            start_time: f.text("start_time").to_string(),
            end_date: f.text("end_date").to_string(),
            end_time: f.text("end_time").to_string(),
            record: f.text("record") == "yes",
            participant: f.text("codes.participant").to_string(),
            listener: f.text("codes.listener").to_string(),
            moderator: f.text("codes.moderator").to_string(),
            has_intro: false,
        }
    }
}

const FIELDS: &[&str] = &[
    "description",
    "start",
    "end",
    "record",
    "intro",
    "intro_prompt",
    "codes.participant",
    "codes.listener",
    "codes.moderator",
];

fn date_time_field(
    lang: L,
    errors: &FieldErrors,
    name: &str,
    label: &str,
    date: &str,
    time: &str,
) -> Markup {
    let error = errors.of(name);
    let id = crate::html::field_id(name);
    html! {
        fieldset.field.datetime.invalid[error.is_some()] aria-describedby=[error.map(|_| format!("{id}-error"))] {
            legend { (label) " " abbr title="*" { "*" } }
            label for={(id) "-date"} { (lang.t("Date", "Date")) }
            input id={(id) "-date"} type="date" name={(name) "_date"} value=(date) required;
            label for={(id) "-time"} { (lang.t("Heure", "Time")) }
            input id={(id) "-time"} type="time" name={(name) "_time"} value=(time) required;
            @if let Some(error) = error { span.field-error id={(id) "-error"} role="alert" { (error) } }
        }
    }
}

fn form_page(
    s: &Session,
    editing: Option<&ConferenceView>,
    v: &Values,
    errors: &FieldErrors,
) -> Markup {
    let lang = s.lang;
    let (title, action) = match editing {
        Some(c) => (
            lang.t("Modifier la téléconférence", "Edit the conference"),
            format!("{BASE}/conferences/{}/edit", c.id),
        ),
        None => (
            lang.t("Planifier une téléconférence", "Schedule a conference"),
            format!("{BASE}/conferences/new"),
        ),
    };
    let tz = s.me.account.time_zone.name();
    page(
        s,
        title,
        Nav::Conferences,
        html! {
            h1 { (title) }
            (errors.summary(lang))
            form.card method="post" action=(action) enctype="multipart/form-data" {
                (csrf(s))
                (field(errors, "description", lang.t("Description", "Description"), true,
                    input(errors, "description", "text", &v.description, true),
                    Some(lang.t("Saisir le nom ou la description de la téléconférence", "Enter the conference's name or description"))))
                (date_time_field(lang, errors, "start", lang.t("Début", "Start"), &v.start_date, &v.start_time))
                (date_time_field(lang, errors, "end", lang.t("Fin", "End"), &v.end_date, &v.end_time))
                p.hint { (lang.t("Heures du fuseau du compte : ", "Times in the account's zone: ")) (tz) }
                fieldset.field.invalid[errors.of("intro").or(errors.of("intro_prompt")).is_some()] {
                    legend { (lang.t("Message d'introduction", "Intro message")) }
                    p { (lang.t("Pour créer un nouveau message audio, choisissez une des options suivantes :", "To create a new audio message, choose one of these options:")) }
                    div.option {
                        input #intro-none type="radio" name="intro_mode" value="keep" checked;
                        label for="intro-none" {
                            @if v.has_intro { (lang.t("Garder le message actuel", "Keep the current message")) }
                            @else { (lang.t("Aucun message", "No message")) }
                        }
                    }
                    div.option {
                        input #intro-upload type="radio" name="intro_mode" value="upload";
                        label for="intro-upload" { strong { (lang.t("Option 1 – Téléverser", "Option 1 – Upload")) } " "
                            (lang.t("un fichier « .wav » déjà enregistré sur votre ordinateur.", "a “.wav” file already recorded on your computer.")) }
                        label.visually-hidden for="f-intro" { (lang.t("Fichier .wav", ".wav file")) }
                        input #f-intro type="file" name="intro" accept=".wav,audio/wav";
                    }
                    div.option {
                        input #intro-phone type="radio" name="intro_mode" value="phone";
                        label for="intro-phone" { strong { (lang.t("Option 2 – Enregistrer", "Option 2 – Record")) } " "
                            (lang.t("le message à l'aide de votre appareil téléphonique : le numéro et un code à usage unique s'afficheront.", "the message with your telephone: the number and a one-time code will be shown.")) }
                    }
                    @if let Some(e) = errors.of("intro").or(errors.of("intro_prompt")) { span.field-error role="alert" { (e) } }
                }
                fieldset.field {
                    legend { (lang.t("Enregistrer la téléconférence", "Record the conference")) " " abbr title="*" { "*" } }
                    div.option { input #record-yes type="radio" name="record" value="yes" checked[v.record]; label for="record-yes" { (lang.t("Oui", "Yes")) } }
                    div.option { input #record-no type="radio" name="record" value="no" checked[!v.record]; label for="record-no" { (lang.t("Non", "No")) } }
                }
                fieldset.field {
                    legend { (lang.t("Codes d'accès personnalisés (facultatif)", "Custom access codes (optional)")) }
                    p.hint { (lang.t("De 4 à 10 chiffres ; laissés vides, ils sont choisis au hasard.", "4 to 10 digits; left empty, they are drawn at random.")) }
                    (field(errors, "codes.participant", lang.t("Code Participant", "Participant code"), false, input(errors, "codes.participant", "text", &v.participant, false), None))
                    (field(errors, "codes.listener", lang.t("Code Auditeur", "Listener code"), false, input(errors, "codes.listener", "text", &v.listener, false), None))
                    (field(errors, "codes.moderator", lang.t("Code Modérateur", "Moderator code"), false, input(errors, "codes.moderator", "text", &v.moderator, false), None))
                }
                div.buttons {
                    button type="submit" { (lang.t("Enregistrer", "Save")) }
                    a.button.secondary href={(BASE) "/conferences"} { (lang.t("Quitter", "Quit")) }
                }
            }
        },
    )
}

/// `GET /portal/conferences/new`.
pub async fn new_form(s: Session) -> Markup {
    form_page(&s, None, &Values::default(), &FieldErrors::default())
}

/// The JSON body of the form, uploading the intro first; or the field errors.
async fn body_of(
    portal: &Portal,
    s: &Session,
    f: &FormData,
    editing: bool,
) -> Result<Result<Value, FieldErrors>, PortalError> {
    let lang = s.lang;
    let tz = s.me.account.time_zone;
    let unreadable = lang.t(
        "Indiquez une date et une heure valides.",
        "Give a valid date and time.",
    );
    let Some(start) = wall_clock(f.text("start_date"), f.text("start_time"), tz) else {
        return Ok(Err(FieldErrors::one("start", unreadable)));
    };
    let Some(end) = wall_clock(f.text("end_date"), f.text("end_time"), tz) else {
        return Ok(Err(FieldErrors::one("end", unreadable)));
    };
    let mut body = Map::new();
    body.insert("description".into(), json!(f.text("description")));
    body.insert("start".into(), json!(start.to_rfc3339()));
    body.insert("end".into(), json!(end.to_rfc3339()));
    body.insert("record".into(), json!(f.text("record") == "yes"));
    let mut codes = Map::new();
    for role in ["participant", "listener", "moderator"] {
        if let Some(code) = f.opt(&format!("codes.{role}")) {
            codes.insert(role.into(), json!(code));
        }
    }
    if !codes.is_empty() || !editing {
        body.insert("codes".into(), Value::Object(codes));
    }
    if f.text("intro_mode") == "upload" {
        let Some(file) = f.file("intro") else {
            return Ok(Err(FieldErrors::one(
                "intro",
                lang.t("Choisissez un fichier « .wav ».", "Choose a “.wav” file."),
            )));
        };
        let prompt = portal
            .backend
            .send::<PromptView>(
                s.call(Method::POST, "/v1/prompts")
                    .bytes("audio/wav", file.bytes.clone()),
            )
            .await;
        match prompt {
            Ok(p) => {
                body.insert("intro_prompt".into(), json!(p.id));
            }
            Err(e) => {
                let mut errors = FieldErrors::from_refusal(lang, e, &["audio"])?;
                if let Some(text) = errors.of("audio").map(str::to_string) {
                    errors = FieldErrors::one("intro", &text);
                }
                return Ok(Err(errors));
            }
        }
    }
    Ok(Ok(Value::Object(body)))
}

/// After saving: the intro code when asked for, then the confirmation screen.
async fn after_save(
    portal: &Portal,
    s: &Session,
    c: &ConferenceView,
    f: &FormData,
) -> Result<Response, PortalError> {
    if f.text("intro_mode") == "phone" {
        return intro_code_page(portal, s, c)
            .await
            .map(IntoResponse::into_response);
    }
    Ok(see_other(&format!("/conferences/{}/confirmation", c.id)))
}

/// `POST /portal/conferences/new`: schedules, then shows the confirmation.
pub async fn create(
    State(portal): State<Portal>,
    s: Session,
    f: FormData,
) -> Result<Response, PortalError> {
    s.check_csrf(f.opt("csrf"))?;
    let values = Values::from_form(&f);
    let body = match body_of(&portal, &s, &f, false).await? {
        Ok(body) => body,
        Err(errors) => return Ok(form_page(&s, None, &values, &errors).into_response()),
    };
    match portal
        .backend
        .send::<ConferenceView>(s.call(Method::POST, "/v1/conferences").json(&body))
        .await
    {
        Ok(c) => after_save(&portal, &s, &c, &f).await,
        Err(e) => {
            let errors = FieldErrors::from_refusal(s.lang, e, FIELDS)?;
            Ok(form_page(&s, None, &values, &errors).into_response())
        }
    }
}

/// `GET /portal/conferences/{id}/edit`.
pub async fn edit_form(
    State(portal): State<Portal>,
    s: Session,
    Path(id): Path<String>,
) -> Result<Markup, PortalError> {
    let c = fetch(&portal, &s, &id).await?;
    if !may(&s, &c, Action::ModifyConference) {
        // The API would refuse the change: the form is not even shown.
        return Err(forbidden(s.lang));
    }
    Ok(form_page(
        &s,
        Some(&c),
        &Values::of(&c),
        &FieldErrors::default(),
    ))
}

/// `POST /portal/conferences/{id}/edit`.
pub async fn update(
    State(portal): State<Portal>,
    s: Session,
    Path(id): Path<String>,
    f: FormData,
) -> Result<Response, PortalError> {
    s.check_csrf(f.opt("csrf"))?;
    let c = fetch(&portal, &s, &id).await?;
    let values = Values {
        has_intro: c.intro_prompt.is_some(),
        ..Values::from_form(&f)
    };
    let body = match body_of(&portal, &s, &f, true).await? {
        Ok(body) => body,
        Err(errors) => return Ok(form_page(&s, Some(&c), &values, &errors).into_response()),
    };
    let path = format!("/v1/conferences/{}", c.id);
    match portal
        .backend
        .send::<ConferenceView>(s.call(Method::PATCH, path).json(&body))
        .await
    {
        Ok(c) => after_save(&portal, &s, &c, &f).await,
        Err(e) => {
            let errors = FieldErrors::from_refusal(s.lang, e, FIELDS)?;
            Ok(form_page(&s, Some(&c), &values, &errors).into_response())
        }
    }
}

/// `POST /portal/conferences/{id}/delete`.
pub async fn delete(
    State(portal): State<Portal>,
    s: Session,
    Path(id): Path<String>,
    f: FormData,
) -> Result<Response, PortalError> {
    s.check_csrf(f.opt("csrf"))?;
    portal
        .backend
        .send::<()>(s.call(Method::DELETE, format!("/v1/conferences/{}", encode(&id))))
        .await
        .map_err(|e| e.in_language(s.lang))?;
    Ok(see_other("/conferences"))
}

async fn intro_code_page(
    portal: &Portal,
    s: &Session,
    c: &ConferenceView,
) -> Result<Markup, PortalError> {
    let lang = s.lang;
    let grant: IntroByPhone = portal
        .backend
        .send(s.call(
            Method::POST,
            format!("/v1/conferences/{}/intro/by-phone", c.id),
        ))
        .await
        .map_err(|e| e.in_language(lang))?;
    Ok(page(
        s,
        lang.t("Enregistrer par téléphone", "Record by phone"),
        Nav::Conferences,
        html! {
            h1 { (lang.t("Enregistrer le message d'introduction par téléphone", "Record the intro message by phone")) }
            div.card #intro-by-phone {
                p { (lang.t("Composez le", "Dial")) " " strong.big { (grant.national) } }
                p { (lang.t("puis, au lieu du numéro de téléconférence, le code à usage unique", "then, instead of the conference number, the one-time code")) " " strong.big #intro-code { (grant.code) } " #" }
                p { (lang.t("Parlez après le bip ; raccrochez pour terminer. Le code est valide jusqu'au", "Speak after the beep; hang up to finish. The code is valid until")) " " (lang.date_time(grant.expires_at)) "." }
            }
            p { a.button href={(BASE) "/conferences/" (c.id) "/confirmation"} { (lang.t("Voir la confirmation", "See the confirmation")) } }
        },
    ))
}

/// `POST /portal/conferences/{id}/intro-by-phone`.
pub async fn intro_by_phone(
    State(portal): State<Portal>,
    s: Session,
    Path(id): Path<String>,
    f: FormData,
) -> Result<Markup, PortalError> {
    s.check_csrf(f.opt("csrf"))?;
    let c = fetch(&portal, &s, &id).await?;
    intro_code_page(&portal, &s, &c).await
}

/// `GET /portal/conferences/{id}`: details, CDRs and recordings (as far as allowed).
pub async fn detail(
    State(portal): State<Portal>,
    s: Session,
    Path(id): Path<String>,
) -> Result<Markup, PortalError> {
    let lang = s.lang;
    let c = fetch(&portal, &s, &id).await?;
    let modify = may(&s, &c, Action::ModifyConference);
    let logs = may(&s, &c, Action::ViewLogs);
    let cdrs = if logs {
        let from = (c.start - chrono::Duration::days(1)).to_rfc3339();
        let path = format!(
            "/v1/cdrs?conference_id={}&from={}&to={}&limit=1000",
            c.id,
            encode(&from),
            encode(&chrono::Utc::now().to_rfc3339())
        );
        Some(
            portal
                .backend
                .send::<CdrPage>(s.call(Method::GET, path))
                .await
                .map_err(|e| e.in_language(lang))?,
        )
    } else {
        None
    };
    let recordings: Option<Vec<RecordingView>> = if may(&s, &c, Action::ViewRecordings) {
        Some(
            portal
                .backend
                .send(s.call(
                    Method::GET,
                    format!("/v1/recordings?conference_id={}", c.id),
                ))
                .await
                .map_err(|e| e.in_language(lang))?,
        )
    } else {
        None
    };
    Ok(page(
        &s,
        &c.description,
        Nav::Conferences,
        html! {
            h1 { (c.description) }
            dl.facts {
                dt { (lang.t("Numéro de téléconférence", "Conference number")) } dd { (c.conference_number) }
                dt { (lang.t("Début", "Start")) } dd { (lang.date_time(c.start)) }
                dt { (lang.t("Fin", "End")) } dd { (lang.date_time(c.end)) }
                dt { (lang.t("État", "Status")) } dd { (lang.status(c.status)) }
                dt { (lang.t("Enregistrement", "Recording")) } dd { (lang.yes_no(c.record)) }
                @for n in &c.access_numbers {
                    dt { (lang.t("Numéro d'accès", "Access number")) " (" (lang.number_kind(n.kind)) ")" } dd { (n.national) }
                }
            }
            @if modify && c.status != ConferenceStatus::Ended {
                div.buttons {
                    a.button.edit href={(BASE) "/conferences/" (c.id) "/edit"} { (lang.t("Modifier", "Edit")) }
                    a.button href={(BASE) "/conferences/" (c.id) "/confirmation"} { (lang.t("Confirmation et invitations", "Confirmation and invitations")) }
                    @if c.status == ConferenceStatus::Running {
                        a.button href={(BASE) "/conferences/" (c.id) "/live"} { (lang.t("Vue en direct", "Live view")) }
                    } @else {
                        form.inline method="post" action={(BASE) "/conferences/" (c.id) "/delete"} {
                            (csrf(&s))
                            button.danger type="submit" { (lang.t("Annuler la téléconférence", "Cancel the conference")) }
                        }
                    }
                }
            }
            @if let Some(page) = &cdrs {
                section {
                    h2 { (lang.t("Journaux (CDR)", "Logs (CDR)")) }
                    (crate::pages::logs::cdr_table(lang, &page.items))
                }
            }
            @if let Some(recordings) = &recordings {
                section {
                    h2 { (lang.t("Enregistrements", "Recordings")) }
                    (crate::pages::recordings::table(lang, recordings))
                }
            }
            @if cdrs.is_none() {
                (notice(lang.t("Les journaux et enregistrements de cette téléconférence sont réservés à son créateur et aux administrateurs.", "This conference's logs and recordings are for its creator and the administrators.")))
            }
        },
    ))
}
