//! What every mail shares: the provider's branding, the greeting, the thanks and
//! the signature, the conference's title line, local times, and the HTML document
//! around the content with its inline styles (mail clients ignore style sheets).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::escape_html;
use crate::{Conference, Email, Language};

/// Who every message is signed by and where callers get help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branding {
    /// Signature's first line (« Omnivigil Solutions »).
    pub provider_name: String,
    /// The support line as written in the mail (« 1-877-380-6060 option 2 »).
    pub support_phone: String,
    /// The signature's address.
    pub support_email: Email,
}

impl Default for Branding {
    /// The seed's provider.
    fn default() -> Self {
        Self {
            provider_name: "Omnivigil Solutions".to_string(),
            support_phone: "1-877-380-6060 option 2".to_string(),
            support_email: "services@omnigil.com"
                .parse()
                .expect("the seed's support address is valid"),
        }
    }
}

/// The body's style.
pub(super) const BODY: &str = "margin:0;padding:16px;font-family:Arial,Helvetica,sans-serif;\
                               font-size:14px;line-height:1.5;color:#222222;";
/// A paragraph's style.
pub(super) const P: &str = "margin:0 0 12px 0;";
/// A table's style.
pub(super) const TABLE: &str = "border-collapse:collapse;margin:0 0 12px 0;";
/// A header cell's style.
pub(super) const TH: &str = "text-align:left;vertical-align:top;padding:2px 12px 2px 0;\
                             font-weight:bold;white-space:nowrap;";
/// A cell's style.
pub(super) const TD: &str = "vertical-align:top;padding:2px 12px 2px 0;";
/// A link's style.
pub(super) const A: &str = "color:#1a5fb4;";

/// « Bonjour, » / "Hello,".
pub(super) fn greeting(language: Language) -> &'static str {
    match language {
        Language::Fr => "Bonjour,",
        Language::En => "Hello,",
    }
}

/// The seed's closing sentence.
pub(super) fn thanks(language: Language) -> &'static str {
    match language {
        Language::Fr => "Nous vous remercions de la confiance que vous nous accordez.",
        Language::En => "Thank you for your trust.",
    }
}

/// `at` on the wall clock of `zone`.
pub(super) fn local_time(at: DateTime<Utc>, zone: Tz, format: &str) -> String {
    at.with_timezone(&zone).format(format).to_string()
}

/// The description in the language's quotation marks: « X » / “X”.
pub(super) fn quoted(description: &str, language: Language) -> String {
    match language {
        Language::Fr => format!("« {description} »"),
        Language::En => format!("“{description}”"),
    }
}

/// `Téléconférence « X » – YYYY-MM-DD HH:MM` / `Conference “X” – …`: the subject's
/// core, with control characters (which would break a header line) as spaces.
pub(super) fn conference_title(conference: &Conference, zone: Tz, language: Language) -> String {
    let description: String = conference
        .description
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let word = match language {
        Language::Fr => "Téléconférence",
        Language::En => "Conference",
    };
    format!(
        "{word} {} – {}",
        quoted(&description, language),
        local_time(conference.schedule.start(), zone, "%Y-%m-%d %H:%M")
    )
}

/// The end of a plain-text mail, from the blank line before the thanks to the last
/// newline.
pub(super) fn closing_text(language: Language, branding: &Branding) -> String {
    format!(
        "\n{}\n\n{}\n{}\n",
        thanks(language),
        branding.provider_name,
        branding.support_email.as_str()
    )
}

/// A complete small HTML document: the greeting, `inner` (already escaped), the thanks
/// and the signature.
pub(super) fn html_document(
    language: Language,
    title: &str,
    inner: &str,
    branding: &Branding,
) -> String {
    let e = escape_html;
    let mut h = String::with_capacity(inner.len() + 1024);
    h.push_str("<!DOCTYPE html>\n");
    h.push_str(&format!("<html lang=\"{}\">\n", language.as_str()));
    h.push_str("<head>\n<meta charset=\"utf-8\">\n");
    h.push_str(&format!("<title>{}</title>\n", e(title)));
    h.push_str("</head>\n");
    h.push_str(&format!("<body style=\"{BODY}\">\n"));
    h.push_str(&format!("<p style=\"{P}\">{}</p>\n", e(greeting(language))));
    h.push_str(inner);
    h.push_str(&format!("<p style=\"{P}\">{}</p>\n", e(thanks(language))));
    let email = branding.support_email.as_str();
    h.push_str(&format!(
        "<p style=\"{P}\">{}<br>\n<a href=\"mailto:{}\" style=\"{A}\">{}</a></p>\n",
        e(&branding.provider_name),
        e(email),
        e(email),
    ));
    h.push_str("</body>\n</html>\n");
    h
}
