//! A mail as the product writes it: recipient, subject, a plain-text and an HTML
//! body, attachments (the calendar invitation, the invoice PDF); and its bytes as one
//! MIME message, built by `mail-builder`, which encodes non-ASCII headers (RFC 2047)
//! and bodies (quoted-printable or base64) so French text survives every relay.
//! Sending it is the adapters' (`teleconf_adapters::mail`).

use mail_builder::MessageBuilder;

use crate::{Email, Error, Result};

/// A file attached to a mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The file name shown to the recipient (`invitation.ics`).
    pub filename: String,
    /// Its MIME type, with parameters (`text/calendar; method=REQUEST; charset=utf-8`).
    pub content_type: String,
    /// Its bytes.
    pub data: Vec<u8>,
}

/// One message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// Recipient.
    pub to: Email,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
    /// Files attached after the bodies.
    pub attachments: Vec<Attachment>,
}

/// Who a mail comes from: the verified address and the name shown beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    /// The display name (the provider's, « Omnivigil Solutions »); empty for none.
    pub name: String,
    /// The verified sending address.
    pub address: Email,
}

impl OutgoingMail {
    /// The whole message as MIME bytes, ready for `SendRawEmail`.
    pub fn to_mime(&self, from: &Sender) -> Result<Vec<u8>> {
        let mut builder = MessageBuilder::new()
            .from((from.name.as_str(), from.address.as_str()))
            .to(self.to.as_str())
            .subject(self.subject.as_str())
            .text_body(self.text.as_str())
            .html_body(self.html.as_str());
        for a in &self.attachments {
            builder = builder.attachment(
                a.content_type.as_str(),
                a.filename.as_str(),
                a.data.as_slice(),
            );
        }
        builder
            .write_to_vec()
            .map_err(|e| Error::Internal(format!("cannot build the MIME message: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mail_becomes_one_mime_message_with_both_bodies_and_its_attachment() {
        let mail = OutgoingMail {
            to: "invite@client.example".parse().unwrap(),
            subject: "Téléconférence « Réunion »".into(),
            text: "Bonjour,\nNuméro Téléconférence: 3832257\n".into(),
            html: "<p>Bonjour,</p>".into(),
            attachments: vec![Attachment {
                filename: "invitation.ics".into(),
                content_type: "text/calendar; method=REQUEST; charset=utf-8".into(),
                data: b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n".to_vec(),
            }],
        };
        let from = Sender {
            name: "Omnivigil Solutions".into(),
            address: "conferences@teleconf.example".parse().unwrap(),
        };
        let mime = String::from_utf8(mail.to_mime(&from).unwrap()).unwrap();
        assert!(mime.contains("To: <invite@client.example>"), "{mime}");
        assert!(
            mime.contains("From: \"Omnivigil Solutions\" <conferences@teleconf.example>"),
            "{mime}"
        );
        // The subject is RFC 2047-encoded: no raw non-ASCII in the headers.
        let subject = mime.lines().find(|l| l.starts_with("Subject:")).unwrap();
        assert!(subject.is_ascii(), "{subject}");
        assert!(mime.contains("multipart/mixed"));
        assert!(mime.contains("multipart/alternative"));
        assert!(mime.contains("text/plain"));
        assert!(mime.contains("text/html"));
        assert!(mime.contains("text/calendar; method=REQUEST"));
        assert!(mime.contains("filename=\"invitation.ics\""));
    }
}
