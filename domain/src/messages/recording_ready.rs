//! The notice that a conference's recording can be played: a link to the recordings
//! page of the portal, where the user signs in (never a raw or presigned S3 URL,
//! which would give the audio to whoever the mail is forwarded to).

use chrono_tz::Tz;

use super::Branding;
use super::attendance::hms;
use super::confirmation::Rendered;
use super::{escape_html, layout};
use crate::{Conference, Language, Recording, RecordingState};

/// What to announce.
#[derive(Debug, Clone, Copy)]
pub struct RecordingReady<'a> {
    /// The conference recorded.
    pub conference: &'a Conference,
    /// The recording.
    pub recording: &'a Recording,
    /// The portal's address (`https://portal.example`), without a trailing `/`.
    pub portal_url: &'a str,
    /// The account's zone.
    pub time_zone: Tz,
    /// The notice's language.
    pub language: Language,
    /// Signature.
    pub branding: &'a Branding,
}

impl RecordingReady<'_> {
    /// The portal page that lists the conference's recordings.
    pub fn link(&self) -> String {
        format!(
            "{}/recordings?conference={}",
            self.portal_url.trim_end_matches('/'),
            self.conference.id
        )
    }

    /// Subject, text and HTML.
    pub fn render(&self) -> Rendered {
        let c = self.conference;
        let title = layout::conference_title(c, self.time_zone, self.language);
        let quoted = layout::quoted(&c.description, self.language);
        let length = hms(self.recording.duration_ms);
        let (subject, mut ready, open) = match self.language {
            Language::Fr => (
                format!("Enregistrement disponible – {title}"),
                format!(
                    "L'enregistrement de la téléconférence {quoted} ({}) est prêt. Durée: {length}.",
                    c.number.as_str()
                ),
                "Pour l'écouter ou le télécharger, ouvrez l'Espace client:",
            ),
            Language::En => (
                format!("Recording ready – {title}"),
                format!(
                    "The recording of the conference {quoted} ({}) is ready. Length: {length}.",
                    c.number.as_str()
                ),
                "To play or download it, open the customer portal:",
            ),
        };
        if self.recording.state == RecordingState::Cut {
            ready.push_str(match self.language {
                Language::Fr => {
                    " Le serveur de la conférence a été perdu en cours de route : \
                     l'enregistrement s'arrête à la dernière minute conservée."
                }
                Language::En => {
                    " The conference's media server was lost on the way: the recording \
                     stops at the last minute kept."
                }
            });
        }
        let link = self.link();
        let text = format!(
            "{}\n\n{ready}\n\n{open}\n{link}\n{}",
            layout::greeting(self.language),
            layout::closing_text(self.language, self.branding)
        );
        let e = escape_html;
        let inner = format!(
            "<p style=\"{p}\">{}</p>\n<p style=\"{p}\">{} <a href=\"{}\" style=\"{a}\">{}</a></p>\n",
            e(&ready),
            e(open),
            e(&link),
            e(&link),
            p = layout::P,
            a = layout::A,
        );
        let html = layout::html_document(self.language, &subject, &inner, self.branding);
        Rendered {
            subject,
            text,
            html,
        }
    }
}
