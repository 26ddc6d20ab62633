//! Invoices (owner): the running estimate of the current month, the issued
//! invoices, one invoice's detail and its CSV.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use maud::{Markup, html};

use crate::Portal;
use crate::backend::encode;
use crate::error::PortalError;
use crate::html::{Nav, page};
use crate::i18n::L;
use crate::pages::logs::attachment;
use crate::session::{BASE, Session};
use teleconf_views::invoices::{InvoiceLineView, InvoiceStatus, InvoiceView};

fn lines(lang: L, lines: &[InvoiceLineView]) -> Markup {
    html! {
        div.scroll { table {
            thead { tr {
                th scope="col" { (lang.t("Téléconférence", "Conference")) }
                th scope="col" { (lang.t("Description", "Description")) }
                th scope="col" { (lang.t("Appels", "Calls")) }
                th scope="col" { (lang.t("Minutes facturables", "Billable minutes")) }
                th scope="col" { (lang.t("Montant", "Amount")) }
            } }
            tbody {
                @for l in lines {
                    tr {
                        td { (l.conference_number.as_deref().unwrap_or("—")) }
                        td { (l.description) }
                        td { (l.legs) }
                        td { (lang.number(l.billable_minutes)) }
                        td.amount { (lang.money(l.amount)) }
                    }
                }
            }
        } }
    }
}

/// The totals of an invoice or of the estimate: usage, fee, each tax, total.
fn totals(lang: L, i: &InvoiceView) -> Markup {
    html! {
        dl.facts {
            dt { (lang.t("Utilisation", "Usage")) } dd { (lang.money(i.usage_amount)) }
            dt { (lang.t("Frais mensuels", "Monthly fee")) } dd { (lang.money(i.plan_fee)) }
            @for t in &i.taxes { dt { (t.name) " (" (lang.number(t.rate * rust_decimal::Decimal::from(100))) " %)" } dd { (lang.money(t.amount)) } }
            dt { (lang.t("Total", "Total")) } dd { strong { (lang.money(i.total)) } }
            @if let Some(due) = i.due_on { dt { (lang.t("Échéance", "Due")) } dd { (lang.date(due)) } }
        }
    }
}

/// `GET /portal/invoices`: the current month's running estimate, then the issued ones.
pub async fn list(State(portal): State<Portal>, s: Session) -> Result<Markup, PortalError> {
    let lang = s.lang;
    let all: Vec<InvoiceView> = portal
        .backend
        .send(s.call(Method::GET, "/v1/invoices"))
        .await
        .map_err(|e| e.in_language(lang))?;
    let (estimates, invoices): (Vec<_>, Vec<_>) = all
        .into_iter()
        .partition(|i| i.status == InvoiceStatus::Estimate);
    Ok(page(
        &s,
        lang.t("Factures", "Invoices"),
        Nav::Invoices,
        html! {
            h1 { (lang.t("Factures", "Invoices")) }
            @for estimate in &estimates {
                section.card #estimate {
                    h2 { (lang.t("Mois en cours : estimation", "Current month: estimate")) " – " (lang.month(&estimate.month)) }
                    p.hint { (lang.t("Les appels du mois jusqu'ici ; la facture est émise au début du mois prochain.", "The month's calls so far; the invoice is issued early next month.")) }
                    (lines(lang, &estimate.lines))
                    (totals(lang, estimate))
                }
            }
            section {
                h2 { (lang.t("Factures émises", "Issued invoices")) }
                @if invoices.is_empty() { p { (lang.t("Aucune facture pour le moment.", "No invoice yet.")) } } @else {
                    div.scroll { table {
                        thead { tr {
                            th scope="col" { (lang.t("Mois", "Month")) }
                            th scope="col" { (lang.t("Numéro", "Number")) }
                            th scope="col" { (lang.t("Total", "Total")) }
                            th scope="col" { (lang.t("Échéance", "Due")) }
                            th scope="col" { "PDF" }
                            th scope="col" { "CSV" }
                        } }
                        tbody {
                            @for i in &invoices {
                                tr {
                                    td { a href={(BASE) "/invoices/" (i.month)} { (lang.month(&i.month)) } }
                                    td { (i.number) }
                                    td.amount { (lang.money(i.total)) }
                                    td { @if let Some(due) = i.due_on { (lang.date(due)) } }
                                    td { @if let Some(pdf) = &i.pdf_url { a href=(pdf) { (lang.t("Ouvrir", "Open")) } } }
                                    td { a href={(BASE) "/invoices/" (i.month) "/csv"} download { (lang.t("Télécharger", "Download")) } }
                                }
                            }
                        }
                    } }
                }
            }
        },
    ))
}

/// `GET /portal/invoices/{month}`.
pub async fn detail(
    State(portal): State<Portal>,
    s: Session,
    Path(month): Path<String>,
) -> Result<Markup, PortalError> {
    let lang = s.lang;
    let i: InvoiceView = portal
        .backend
        .send(s.call(Method::GET, format!("/v1/invoices/{}", encode(&month))))
        .await
        .map_err(|e| e.in_language(lang))?;
    Ok(page(
        &s,
        lang.t("Facture", "Invoice"),
        Nav::Invoices,
        html! {
            h1 { (lang.t("Facture", "Invoice")) " " (i.number) " – " (lang.month(&i.month)) }
            (lines(lang, &i.lines))
            (totals(lang, &i))
            p {
                @if let Some(pdf) = &i.pdf_url { a.button href=(pdf) { (lang.t("Ouvrir le PDF", "Open the PDF")) } " " }
                a.button href={(BASE) "/invoices/" (i.month) "/csv"} download { (lang.t("Télécharger en CSV", "Download as CSV")) }
            }
        },
    ))
}

/// `GET /portal/invoices/{month}/csv`.
pub async fn csv(
    State(portal): State<Portal>,
    s: Session,
    Path(month): Path<String>,
) -> Result<Response, PortalError> {
    let reply = portal
        .backend
        .raw(
            s.call(Method::GET, format!("/v1/invoices/{}", encode(&month)))
                .csv(),
        )
        .await
        .map_err(|e| e.in_language(s.lang))?;
    Ok(attachment(reply.body, &format!("invoice-{month}.csv")))
}
