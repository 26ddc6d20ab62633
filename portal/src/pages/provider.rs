//! The provider's pages: accounts, their plans and the access numbers assigned to
//! them (provider admin), and the monthly finance exports (finance).

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, Months};
use maud::{Markup, html};
use serde_json::json;

use crate::Portal;
use crate::backend::encode;
use crate::error::PortalError;
use crate::html::{FieldErrors, Nav, csrf, field, input, page, select};
use crate::pages::logs::attachment;
use crate::pages::{FormData, see_other};
use crate::session::{BASE, Session};
use teleconf_views::accounts::{AccountView, CreatedAccount};
use teleconf_views::numbers::NumberView;

const FIELDS: &[&str] = &[
    "name",
    "owner.email",
    "owner.name",
    "owner.password",
    "plan.participant_limit",
    "plan.rate_per_minute",
    "plan.increment_secs",
    "plan.monthly_fee",
];

async fn render(
    portal: &Portal,
    s: &Session,
    errors: &FieldErrors,
    f: &FormData,
) -> Result<Markup, PortalError> {
    let lang = s.lang;
    let accounts: Vec<AccountView> = portal
        .backend
        .send(s.call(Method::GET, "/v1/accounts"))
        .await
        .map_err(|e| e.in_language(lang))?;
    Ok(page(
        s,
        lang.t("Comptes et forfaits", "Accounts and plans"),
        Nav::Accounts,
        html! {
            h1 { (lang.t("Comptes et forfaits", "Accounts and plans")) }
            (errors.summary(lang))
            div.scroll { table {
                thead { tr {
                    th scope="col" { (lang.t("Compte", "Account")) }
                    th scope="col" { (lang.t("Limite de participants", "Participant limit")) }
                    th scope="col" { (lang.t("Tarif / minute", "Rate / minute")) }
                    th scope="col" { (lang.t("Incrément (s)", "Increment (s)")) }
                    th scope="col" { (lang.t("Frais mensuels", "Monthly fee")) }
                    th scope="col" { (lang.t("Enregistrer", "Save")) }
                } }
                tbody {
                    @for a in &accounts {
                        tr {
                            @let form_id = format!("plan-{}", a.id);
                            td {
                                (a.name) br; small { (a.time_zone.name()) " · " (lang.language(a.language)) } br;
                                a.account-numbers href={(BASE) "/provider/accounts/" (a.id) "/numbers"} { (lang.t("Numéros d'accès", "Access numbers")) }
                            }
                            td { input form=(form_id) type="number" min="1" name="participant_limit" value=(a.plan.participant_limit) aria-label=(lang.t("Limite de participants", "Participant limit")); }
                            td { input form=(form_id) type="text" inputmode="decimal" name="rate_per_minute" value=(a.plan.rate_per_minute) aria-label=(lang.t("Tarif / minute", "Rate / minute")); }
                            td { input form=(form_id) type="number" min="1" name="increment_secs" value=(a.plan.increment_secs) aria-label=(lang.t("Incrément (s)", "Increment (s)")); }
                            td { input form=(form_id) type="text" inputmode="decimal" name="monthly_fee" value=(a.plan.monthly_fee) aria-label=(lang.t("Frais mensuels", "Monthly fee")); }
                            td { form id=(form_id) method="post" action={(BASE) "/provider/accounts/" (a.id) "/plan"} { (csrf(s)) button type="submit" { (lang.t("Enregistrer", "Save")) } } }
                        }
                    }
                }
            } }
            section.card {
                h2 { (lang.t("Nouveau compte", "New account")) }
                form method="post" action={(BASE) "/provider/accounts"} {
                    (csrf(s))
                    (field(errors, "name", lang.t("Nom du compte", "Account name"), true, input(errors, "name", "text", f.text("name"), true), None))
                    (field(errors, "owner.name", lang.t("Nom du propriétaire", "Owner's name"), true, input(errors, "owner.name", "text", f.text("owner.name"), true), None))
                    (field(errors, "owner.email", lang.t("Courriel du propriétaire", "Owner's e-mail"), true, input(errors, "owner.email", "email", f.text("owner.email"), true), None))
                    (field(errors, "owner.password", lang.t("Mot de passe initial", "Initial password"), true, input(errors, "owner.password", "password", "", true), None))
                    button type="submit" { (lang.t("Créer le compte", "Create the account")) }
                }
            }
        },
    ))
}

/// `GET /portal/provider/accounts`.
pub async fn accounts(State(portal): State<Portal>, s: Session) -> Result<Markup, PortalError> {
    render(&portal, &s, &FieldErrors::default(), &FormData::default()).await
}

/// `POST /portal/provider/accounts`.
pub async fn create_account(
    State(portal): State<Portal>,
    s: Session,
    f: FormData,
) -> Result<Response, PortalError> {
    s.check_csrf(f.opt("csrf"))?;
    let body = json!({
        "name": f.text("name"),
        "owner": { "email": f.text("owner.email"), "name": f.text("owner.name"), "password": f.text("owner.password") },
    });
    match portal
        .backend
        .send::<CreatedAccount>(s.call(Method::POST, "/v1/accounts").json(&body))
        .await
    {
        Ok(_) => Ok(see_other("/provider/accounts")),
        Err(e) => {
            let errors = FieldErrors::from_refusal(s.lang, e, FIELDS)?;
            Ok(render(&portal, &s, &errors, &f).await?.into_response())
        }
    }
}

/// `POST /portal/provider/accounts/{id}/plan`.
pub async fn change_plan(
    State(portal): State<Portal>,
    s: Session,
    Path(id): Path<String>,
    f: FormData,
) -> Result<Response, PortalError> {
    s.check_csrf(f.opt("csrf"))?;
    let number = |name: &str| {
        f.text(name)
            .parse::<u64>()
            .map(|n| json!(n))
            .unwrap_or_else(|_| json!(f.text(name)))
    };
    let body = json!({ "plan": {
        "participant_limit": number("participant_limit"),
        "rate_per_minute": f.text("rate_per_minute").replace(',', "."),
        "increment_secs": number("increment_secs"),
        "monthly_fee": f.text("monthly_fee").replace(',', "."),
    } });
    match portal
        .backend
        .send::<AccountView>(
            s.call(Method::PATCH, format!("/v1/accounts/{}", encode(&id)))
                .json(&body),
        )
        .await
    {
        Ok(_) => Ok(see_other("/provider/accounts")),
        Err(e) => {
            let errors = FieldErrors::from_refusal(s.lang, e, &[])?;
            Ok(render(&portal, &s, &errors, &FormData::default())
                .await?
                .into_response())
        }
    }
}

const NUMBER_FIELDS: &[&str] = &["number", "kind"];

async fn render_numbers(
    portal: &Portal,
    s: &Session,
    id: &str,
    errors: &FieldErrors,
    f: &FormData,
) -> Result<Markup, PortalError> {
    let lang = s.lang;
    let account: AccountView = portal
        .backend
        .send(s.call(Method::GET, format!("/v1/accounts/{}", encode(id))))
        .await
        .map_err(|e| e.in_language(lang))?;
    let numbers: Vec<NumberView> = portal
        .backend
        .send(s.call(Method::GET, format!("/v1/accounts/{}/numbers", encode(id))))
        .await
        .map_err(|e| e.in_language(lang))?;
    let title = format!(
        "{} · {}",
        lang.t("Numéros d'accès", "Access numbers"),
        account.name
    );
    let base = format!("{BASE}/provider/accounts/{}/numbers", account.id);
    Ok(page(
        s,
        &title,
        Nav::Accounts,
        html! {
            h1 { (title) }
            p { a href={(BASE) "/provider/accounts"} { (lang.t("← Comptes et forfaits", "← Accounts and plans")) } }
            (errors.summary(lang))
            div.scroll { table #assigned-numbers {
                thead { tr {
                    th scope="col" { (lang.t("Numéro", "Number")) }
                    th scope="col" { (lang.t("Type", "Kind")) }
                    th scope="col" { (lang.t("Retirer", "Take back")) }
                } }
                tbody {
                    @for n in &numbers {
                        tr {
                            td { (n.national) }
                            td { (lang.number_kind(n.kind)) }
                            td {
                                form.inline method="post" action={(base) "/" (encode(n.number.as_str())) "/unassign"} {
                                    (csrf(s))
                                    button.danger type="submit" aria-label={(lang.t("Retirer", "Take back")) " " (n.national)} { (lang.t("Retirer", "Take back")) }
                                }
                            }
                        }
                    }
                }
            } }
            section.card {
                h2 { (lang.t("Attribuer un numéro", "Assign a number")) }
                form method="post" action=(base) {
                    (csrf(s))
                    (field(errors, "number", lang.t("Numéro de téléphone", "Telephone number"), true, input(errors, "number", "tel", f.text("number"), true), Some("(888) 380-6331")))
                    (field(errors, "kind", lang.t("Type", "Kind"), true, select(errors, "kind", &[("toll_free", lang.t("Sans frais", "Toll-free")), ("local", lang.t("Local", "Local"))], f.opt("kind").unwrap_or("local")), None))
                    button type="submit" { (lang.t("Attribuer", "Assign")) }
                }
            }
        },
    ))
}

/// `GET /portal/provider/accounts/{id}/numbers`: the numbers assigned to an account.
pub async fn numbers(
    State(portal): State<Portal>,
    s: Session,
    Path(id): Path<String>,
) -> Result<Markup, PortalError> {
    render_numbers(
        &portal,
        &s,
        &id,
        &FieldErrors::default(),
        &FormData::default(),
    )
    .await
}

/// `POST /portal/provider/accounts/{id}/numbers`: assigns one.
pub async fn assign_number(
    State(portal): State<Portal>,
    s: Session,
    Path(id): Path<String>,
    f: FormData,
) -> Result<Response, PortalError> {
    s.check_csrf(f.opt("csrf"))?;
    let body = json!({ "number": f.text("number"), "kind": f.text("kind") });
    match portal
        .backend
        .send::<NumberView>(
            s.call(
                Method::POST,
                format!("/v1/accounts/{}/numbers", encode(&id)),
            )
            .json(&body),
        )
        .await
    {
        Ok(_) => Ok(see_other(&format!(
            "/provider/accounts/{}/numbers",
            encode(&id)
        ))),
        Err(e) => {
            let errors = FieldErrors::from_refusal(s.lang, e, NUMBER_FIELDS)?;
            Ok(render_numbers(&portal, &s, &id, &errors, &f)
                .await?
                .into_response())
        }
    }
}

/// `POST /portal/provider/accounts/{id}/numbers/{e164}/unassign`: takes one back.
pub async fn unassign_number(
    State(portal): State<Portal>,
    s: Session,
    Path((id, e164)): Path<(String, String)>,
    f: FormData,
) -> Result<Response, PortalError> {
    s.check_csrf(f.opt("csrf"))?;
    match portal
        .backend
        .send::<()>(s.call(
            Method::DELETE,
            format!("/v1/accounts/{}/numbers/{}", encode(&id), encode(&e164)),
        ))
        .await
    {
        Ok(()) => Ok(see_other(&format!(
            "/provider/accounts/{}/numbers",
            encode(&id)
        ))),
        Err(e) => {
            let errors = FieldErrors::from_refusal(s.lang, e, &[])?;
            Ok(
                render_numbers(&portal, &s, &id, &errors, &FormData::default())
                    .await?
                    .into_response(),
            )
        }
    }
}

/// `GET /portal/provider/exports`: the last twelve months.
pub async fn exports(s: Session) -> Markup {
    let lang = s.lang;
    let today = chrono::Utc::now().date_naive();
    let first = today.with_day(1).unwrap_or(today);
    let months: Vec<String> = (1..=12)
        .filter_map(|n| first.checked_sub_months(Months::new(n)))
        .map(|d| d.format("%Y-%m").to_string())
        .collect();
    page(
        &s,
        lang.t("Exportations mensuelles", "Monthly exports"),
        Nav::Exports,
        html! {
            h1 { (lang.t("Exportations mensuelles", "Monthly exports")) }
            p { (lang.t("L'exportation d'un mois est produite par la facturation mensuelle.", "A month's export is produced by the monthly billing.")) }
            ul.cards {
                @for m in &months {
                    li { (lang.month(m)) " · " a href={(BASE) "/provider/exports/" (m) "/csv"} download { (lang.t("Télécharger en CSV", "Download as CSV")) } }
                }
            }
        },
    )
}

/// `GET /portal/provider/exports/{month}/csv`.
pub async fn export_csv(
    State(portal): State<Portal>,
    s: Session,
    Path(month): Path<String>,
) -> Result<Response, PortalError> {
    let reply = portal
        .backend
        .raw(s.call(Method::GET, format!("/v1/exports/{}", encode(&month))))
        .await
        .map_err(|e| e.in_language(s.lang))?;
    Ok(attachment(reply.body, &format!("finance-{month}.csv")))
}
