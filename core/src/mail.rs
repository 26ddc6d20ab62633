//! Outgoing e-mail through SES (v1, the API every emulator serves).
//!
//! Every mail is sent as one raw MIME message (`SendRawEmail`): a plain-text and an
//! HTML alternative, then the attachments (the calendar invitation). The message is
//! built by `mail-builder`, which encodes non-ASCII headers (RFC 2047) and bodies
//! (quoted-printable or base64) so French text survives every relay.

use std::sync::Mutex;

use async_trait::async_trait;
use aws_sdk_ses::primitives::Blob;
use aws_sdk_ses::types::RawMessage;
use mail_builder::MessageBuilder;

use crate::aws::classify;
use crate::domain::Email;
use crate::error::{Error, Result};

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
            .map_err(|e| Error::Store(format!("cannot build the MIME message: {e}")))
    }
}

/// Sends mail; returns the provider's message id.
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends one message.
    async fn send(&self, mail: &OutgoingMail) -> Result<String>;
}

/// SES from a verified sender.
#[derive(Debug, Clone)]
pub struct SesMailer {
    client: aws_sdk_ses::Client,
    from: Sender,
}

impl SesMailer {
    /// A mailer sending as `from`, without a display name.
    pub fn new(client: aws_sdk_ses::Client, from: Email) -> Self {
        Self::with_name(client, from, "")
    }

    /// A mailer sending as `name <from>`.
    pub fn with_name(client: aws_sdk_ses::Client, from: Email, name: impl Into<String>) -> Self {
        Self {
            client,
            from: Sender {
                name: name.into(),
                address: from,
            },
        }
    }
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<String> {
        let raw = RawMessage::builder()
            .data(Blob::new(mail.to_mime(&self.from)?))
            .build()
            .map_err(|e| Error::Store(e.to_string()))?;
        let out = self
            .client
            .send_raw_email()
            .source(self.from.address.as_str())
            .destinations(mail.to.as_str())
            .raw_message(raw)
            .send()
            .await
            .map_err(|e| classify("SendRawEmail", e))?;
        Ok(out.message_id)
    }
}

/// Keeps sent mail in memory, for tests; can be told to fail like an SES outage.
#[derive(Debug, Default)]
pub struct MemoryMailer {
    sent: Mutex<Vec<OutgoingMail>>,
    failing: Mutex<bool>,
}

impl MemoryMailer {
    /// Everything sent so far.
    pub fn sent(&self) -> Vec<OutgoingMail> {
        self.sent.lock().expect("mailer lock").clone()
    }

    /// Makes every later send fail as a throttled SES would (or succeed again).
    pub fn set_failing(&self, failing: bool) {
        *self.failing.lock().expect("mailer lock") = failing;
    }
}

#[async_trait]
impl Mailer for MemoryMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<String> {
        if *self.failing.lock().expect("mailer lock") {
            return Err(Error::Unavailable(
                "SendRawEmail: the in-memory mailer is failing".into(),
            ));
        }
        let mut sent = self.sent.lock().expect("mailer lock");
        sent.push(mail.clone());
        Ok(format!("memory-{}", sent.len()))
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

    #[tokio::test]
    async fn the_memory_mailer_keeps_mail_and_fails_on_demand() {
        let mailer = MemoryMailer::default();
        let mail = OutgoingMail {
            to: "a@b.example".parse().unwrap(),
            subject: "s".into(),
            text: "t".into(),
            html: "h".into(),
            attachments: Vec::new(),
        };
        mailer.set_failing(true);
        assert!(mailer.send(&mail).await.unwrap_err().is_retryable());
        mailer.set_failing(false);
        assert_eq!(mailer.send(&mail).await.unwrap(), "memory-1");
        assert_eq!(mailer.sent(), vec![mail]);
    }
}
