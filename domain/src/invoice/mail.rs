//! The mail that carries the invoice's PDF to each of the account's owners
//! (« Votre facture de novembre 2026 » / "Your invoice for November 2026").
//!
//! Everything here is pure: the mail is rendered from the issued [`Invoice`] alone
//! (its language is the account's, copied in at issue), so the mailer that sends it
//! (functions/mailer, on the invoice item's insertion in the table's stream) and the
//! tests render the same bytes.

use super::words::{money, month_name, pdf_file_name, subject, words};
use crate::mail::{Attachment, OutgoingMail};
use crate::messages::words::date_words;
use crate::messages::{Branding, Rendered, escape_html};
use crate::{Invoice, Language, Role, User};

/// The mail announcing `invoice` (its PDF goes as an attachment, see [`invoice_mails`]).
pub fn render(invoice: &Invoice, branding: &Branding) -> Rendered {
    let lang = invoice.language;
    let w = words(lang);
    let month = month_name(invoice.month, lang);
    let total = money(invoice.total, &invoice.currency, lang);
    let due = date_words(invoice.due_on, lang);
    let (greeting, body, attached, thanks) = match lang {
        Language::Fr => (
            "Bonjour,",
            format!(
                "Votre facture de téléconférence pour {month} ({} {}) est jointe en PDF.",
                w.number.to_lowercase(),
                invoice.number
            ),
            "Le détail de l'utilisation est disponible en ligne dans l'Espace client.",
            "Merci de votre confiance,",
        ),
        Language::En => (
            "Hello,",
            format!(
                "Your teleconference invoice for {month} (invoice number {}) is attached as a PDF.",
                invoice.number
            ),
            "The usage detail is available online in the customer portal.",
            "Thank you for your business,",
        ),
    };
    let facts = [
        (w.account, invoice.account_name.clone()),
        (w.total, total),
        (w.due_on, due),
    ];
    let mut text = format!("{greeting}\n\n{body}\n\n");
    for (label, value) in &facts {
        text.push_str(&format!("{label}: {value}\n"));
    }
    text.push_str(&format!(
        "\n{attached}\n\n{thanks}\n{}\n{}\n{}\n",
        branding.provider_name, branding.support_phone, branding.support_email
    ));

    let mut html = format!(
        "<!DOCTYPE html>\n<html lang=\"{}\"><body style=\"font-family: sans-serif\">\n<p>{}</p>\n<p>{}</p>\n<table>\n",
        lang.as_str(),
        escape_html(greeting),
        escape_html(&body)
    );
    for (label, value) in &facts {
        html.push_str(&format!(
            "<tr><th style=\"text-align: left\">{}</th><td>{}</td></tr>\n",
            escape_html(label),
            escape_html(value)
        ));
    }
    html.push_str(&format!(
        "</table>\n<p>{}</p>\n<p>{}<br>{}<br>{}<br>{}</p>\n</body></html>\n",
        escape_html(attached),
        escape_html(thanks),
        escape_html(&branding.provider_name),
        escape_html(&branding.support_phone),
        escape_html(branding.support_email.as_str())
    ));
    Rendered {
        subject: subject(invoice.month, lang),
        text,
        html,
    }
}

/// One mail per owner among `users` (the account's users), each with `pdf` attached.
/// Other roles get none: invoices are the owners' (the seed's permission table).
pub fn invoice_mails(
    invoice: &Invoice,
    users: &[User],
    pdf: &[u8],
    branding: &Branding,
) -> Vec<OutgoingMail> {
    let rendered = render(invoice, branding);
    let attachment = Attachment {
        filename: pdf_file_name(invoice),
        content_type: "application/pdf".into(),
        data: pdf.to_vec(),
    };
    users
        .iter()
        .filter(|u| u.role == Role::Owner && u.account_id == invoice.account_id)
        .map(|owner| {
            let mut mail = rendered.clone().into_mail(owner.email.clone());
            mail.attachments.push(attachment.clone());
            mail
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AccountId, YearMonth};
    use chrono::{NaiveDate, TimeZone, Utc};
    use rust_decimal::dec;

    fn invoice(language: Language, month: &str) -> Invoice {
        let account = AccountId::new();
        let month: YearMonth = month.parse().unwrap();
        Invoice {
            number: Invoice::number_for(account, month),
            account_id: account,
            account_name: "Omnivigil <Solutions> & fils".into(),
            language,
            time_zone: chrono_tz::America::Toronto,
            month,
            currency: "USD".into(),
            lines: vec![],
            usage_amount: dec!(1234.5),
            plan_fee: dec!(0),
            taxes: vec![],
            total: dec!(1234.5),
            issued_at: Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap(),
            due_on: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
        }
    }

    #[test]
    fn the_mail_goes_to_each_owner_with_the_pdf_and_escaped_html() {
        let inv = invoice(Language::Fr, "2026-11");
        let owner = |email: &str, role| {
            User::new(
                inv.account_id,
                email.parse().unwrap(),
                "X",
                role,
                "correct horse battery",
                Utc::now(),
            )
            .unwrap()
        };
        let users = [
            owner("a@example.com", Role::Owner),
            owner("b@example.com", Role::ConferenceAdmin),
            owner("c@example.com", Role::Owner),
        ];
        let mails = invoice_mails(&inv, &users, b"%PDF-1.7", &Branding::default());
        let to: Vec<&str> = mails.iter().map(|m| m.to.as_str()).collect();
        assert_eq!(to, ["a@example.com", "c@example.com"]);
        let m = &mails[0];
        assert_eq!(m.subject, "Votre facture de novembre 2026");
        assert!(m.text.contains("1 234,50 $ US"), "{}", m.text);
        assert!(m.text.contains("31 décembre 2026"));
        assert!(m.html.contains("Omnivigil &lt;Solutions&gt; &amp; fils"));
        assert_eq!(m.attachments.len(), 1);
        assert_eq!(
            m.attachments[0].filename,
            format!("facture-{}.pdf", inv.number)
        );
        let sender = crate::mail::Sender {
            name: String::new(),
            address: "billing@teleconf.example".parse().unwrap(),
        };
        let mime = String::from_utf8(m.to_mime(&sender).unwrap()).unwrap();
        assert!(mime.contains("multipart/mixed"));
        assert!(mime.contains("application/pdf"));
        assert!(mime.contains("To: <a@example.com>") || mime.contains("To: a@example.com"));

        let en = render(&invoice(Language::En, "2026-11"), &Branding::default());
        assert_eq!(en.subject, "Your invoice for November 2026");
        assert!(en.text.contains("US$1,234.50"));
    }
}
