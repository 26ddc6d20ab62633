//! Outgoing e-mail through SES (v1, the API every emulator serves).
//!
//! Every mail is sent as one raw MIME message (`SendRawEmail`), the bytes
//! [`OutgoingMail::to_mime`] makes of it: a plain-text and an HTML alternative,
//! then the attachments (the calendar invitation, the invoice PDF).

use std::sync::Mutex;

use async_trait::async_trait;
use aws_sdk_ses::primitives::Blob;
use aws_sdk_ses::types::RawMessage;
use teleconf_domain::Email;
use teleconf_domain::mail::{OutgoingMail, Sender};

use crate::aws::classify;
use crate::error::{Error, Result};

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
