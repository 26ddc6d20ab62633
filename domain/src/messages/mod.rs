//! The product's message catalogue: what teleconf says to people, in French (the
//! default, the seed is written for Québec) and English.
//!
//! ## Layout
//! - this module: the texts several messages share, each written once as a function
//!   of the language: the name of a caller role ([`role_name`]) and what the role
//!   may do on the line ([`role_meaning`]), reused by the confirmation, the
//!   invitations and the IVR; and [`escape_html`], which every HTML rendering runs
//!   each interpolated value through.
//! - [`confirmation`]: the confirmation shown on screen and mailed once a conference
//!   is scheduled (the seed's « Bonjour, Voici les détails de la téléconférence … »),
//!   rendered as a subject, a plain-text body and an HTML body; the same details
//!   introduced as an invitation, an update or a cancellation ([`Notice`]); and the
//!   provider's [`Branding`] that signs every mail.
//! - [`keypad`]: the moderator's keypad commands, explained in a moderator's mail.
//! - [`calendar`]: the `.ics` invitation attached to those mails, with the one-tap
//!   dial string.
//! - [`attendance`]: the attendance report mailed to the creator once the conference
//!   has ended: every leg with its caller, role, join, leave and duration.
//! - [`recording_ready`]: the notice that a recording can be played, with a link to
//!   the portal (never to the file itself).
//! - [`words`]: dates, months and amounts written out in each language (the invoice
//!   and the portal share them).
//!
//! The monthly invoice's words and its mail sit with the invoice, in
//! [`crate::invoice`].
//!
//! Rendering is pure: no I/O, no clock; times are converted to the time zone the
//! caller passes in.

pub mod attendance;
pub mod calendar;
pub mod confirmation;
#[cfg(test)]
mod fixtures;
pub mod keypad;
mod layout;
pub mod recording_ready;
#[cfg(test)]
mod snapshot_tests;
pub mod words;

pub use confirmation::{Confirmation, Notice, Rendered};
pub use layout::Branding;

use crate::{CallerRole, Language};

/// The name of a role as the product shows it: « Participant », « Auditeur »,
/// « Modérateur » / "Participant", "Listener", "Moderator".
pub fn role_name(role: CallerRole, language: Language) -> &'static str {
    match (language, role) {
        (Language::Fr, CallerRole::Participant) => "Participant",
        (Language::Fr, CallerRole::Listener) => "Auditeur",
        (Language::Fr, CallerRole::Moderator) => "Modérateur",
        (Language::En, CallerRole::Participant) => "Participant",
        (Language::En, CallerRole::Listener) => "Listener",
        (Language::En, CallerRole::Moderator) => "Moderator",
    }
}

/// What a caller joining with `role` may do, as the confirmation explains it after the
/// role's code (the French participant and listener texts are the seed's own).
pub fn role_meaning(role: CallerRole, language: Language) -> &'static str {
    match (language, role) {
        (Language::Fr, CallerRole::Participant) => {
            "Les participants entendent et sont entendus par tous"
        }
        (Language::Fr, CallerRole::Listener) => {
            "Les auditeurs ne peuvent qu'écouter mais ne sont pas entendus"
        }
        (Language::Fr, CallerRole::Moderator) => {
            "Les modérateurs entendent, sont entendus et contrôlent la conférence au clavier téléphonique"
        }
        (Language::En, CallerRole::Participant) => "participants hear and are heard by all",
        (Language::En, CallerRole::Listener) => "listeners can only listen and are not heard",
        (Language::En, CallerRole::Moderator) => {
            "moderators hear, are heard and control the conference from the telephone keypad"
        }
    }
}

/// `text` made safe to put in HTML element content or in a quoted attribute value:
/// `&`, `<`, `>`, `"` and `'` become character references.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_five_special_characters_are_escaped() {
        assert_eq!(
            escape_html(r#"<b>Q&A</b> "x" 'y' é"#),
            "&lt;b&gt;Q&amp;A&lt;/b&gt; &quot;x&quot; &#39;y&#39; é"
        );
        assert_eq!(escape_html("&amp;"), "&amp;amp;");
    }

    #[test]
    fn every_role_has_a_name_and_a_meaning_in_both_languages() {
        for language in [Language::Fr, Language::En] {
            for role in CallerRole::ALL {
                assert!(!role_name(role, language).is_empty());
                assert!(!role_meaning(role, language).is_empty());
            }
        }
        assert_eq!(role_name(CallerRole::Listener, Language::Fr), "Auditeur");
    }
}
