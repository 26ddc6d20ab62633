//! Outgoing e-mail through SES (v1, the API every emulator serves).

use std::sync::Mutex;

use async_trait::async_trait;
use aws_sdk_ses::types::{Body, Content, Destination, Message};

use crate::aws::classify;
use crate::domain::Email;
use crate::error::{Error, Result};

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
    from: Email,
}

impl SesMailer {
    /// A mailer sending as `from`.
    pub fn new(client: aws_sdk_ses::Client, from: Email) -> Self {
        Self { client, from }
    }
}

fn utf8(text: &str) -> Result<Content> {
    Content::builder()
        .data(text)
        .charset("UTF-8")
        .build()
        .map_err(|e| Error::Store(e.to_string()))
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<String> {
        let message = Message::builder()
            .subject(utf8(&mail.subject)?)
            .body(
                Body::builder()
                    .text(utf8(&mail.text)?)
                    .html(utf8(&mail.html)?)
                    .build(),
            )
            .build();
        let out = self
            .client
            .send_email()
            .source(self.from.as_str())
            .destination(
                Destination::builder()
                    .to_addresses(mail.to.as_str())
                    .build(),
            )
            .message(message)
            .send()
            .await
            .map_err(|e| classify("SendEmail", e))?;
        Ok(out.message_id)
    }
}

/// Keeps sent mail in memory, for tests.
#[derive(Debug, Default)]
pub struct MemoryMailer {
    sent: Mutex<Vec<OutgoingMail>>,
}

impl MemoryMailer {
    /// Everything sent so far.
    pub fn sent(&self) -> Vec<OutgoingMail> {
        self.sent.lock().expect("mailer lock").clone()
    }
}

#[async_trait]
impl Mailer for MemoryMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<String> {
        let mut sent = self.sent.lock().expect("mailer lock");
        sent.push(mail.clone());
        Ok(format!("memory-{}", sent.len()))
    }
}
