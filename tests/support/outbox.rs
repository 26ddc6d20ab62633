//! The mail the emulator captured instead of sending. The only place that knows
//! where each emulator keeps it: moto at `GET /moto-api/data.json` (`ses.Message` for
//! formatted sends, `ses.RawMessage` for raw MIME sends), LocalStack at `GET /_aws/ses`.
//! A raw message is parsed (`mail-parser`) into its subject, text and HTML parts and
//! attachments.

use serde_json::Value;

use crate::stack::{Emulator, endpoint};

/// One captured message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMail {
    /// Sender.
    pub source: String,
    /// Recipients.
    pub to: Vec<String>,
    /// Subject (empty for raw messages the emulator did not parse).
    pub subject: String,
    /// Text body (for raw sends: the decoded text/plain part).
    pub body: String,
    /// HTML body (raw sends only; empty otherwise).
    pub html: String,
    /// Attachments as (file name, content type, decoded text) (raw sends only).
    pub attachments: Vec<(String, String, String)>,
    /// The raw MIME message, for raw sends.
    pub raw: Option<String>,
}

impl SentMail {
    /// A formatted send.
    fn formatted(source: String, to: Vec<String>, subject: String, body: String) -> Self {
        Self {
            source,
            to,
            subject,
            body,
            html: String::new(),
            attachments: Vec::new(),
            raw: None,
        }
    }

    /// A raw send, parsed.
    fn raw(source: String, to: Vec<String>, raw: String) -> Self {
        use mail_parser::{MessageParser, MimeHeaders};
        let parsed = MessageParser::default().parse(raw.as_bytes());
        let (subject, body, html, attachments) = match &parsed {
            Some(m) => (
                m.subject().unwrap_or_default().to_string(),
                m.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
                m.body_html(0).map(|t| t.into_owned()).unwrap_or_default(),
                m.attachments()
                    .map(|a| {
                        (
                            a.attachment_name().unwrap_or_default().to_string(),
                            a.content_type()
                                .map(|c| match c.subtype() {
                                    Some(sub) => format!("{}/{sub}", c.ctype()),
                                    None => c.ctype().to_string(),
                                })
                                .unwrap_or_default(),
                            String::from_utf8_lossy(a.contents()).into_owned(),
                        )
                    })
                    .collect(),
            ),
            None => (String::new(), raw.clone(), String::new(), Vec::new()),
        };
        let mut to = to;
        if to.is_empty() {
            // A raw send naming no destinations goes to the message's own To, Cc
            // and Bcc (SES's rule); LocalStack keeps the message without them.
            for addresses in parsed.iter().flat_map(|m| [m.to(), m.cc(), m.bcc()]) {
                to.extend(
                    addresses
                        .into_iter()
                        .flat_map(|a| a.iter())
                        .filter_map(|a| a.address())
                        .map(str::to_string),
                );
            }
        }
        to.dedup();
        Self {
            source,
            to,
            subject,
            body,
            html,
            attachments,
            raw: Some(raw),
        }
    }

    /// The `.ics` attachment's text, if any.
    pub fn calendar(&self) -> Option<&str> {
        self.attachments
            .iter()
            .find(|(name, ctype, _)| name.ends_with(".ics") || ctype == "text/calendar")
            .map(|(_, _, text)| text.as_str())
    }
}

/// Every message the emulator captured, oldest first.
pub async fn sent_mail() -> anyhow::Result<Vec<SentMail>> {
    sent_mail_at(&endpoint(), Emulator::from_env()).await
}

/// Every message `emulator` at `endpoint` captured, oldest first.
pub async fn sent_mail_at(endpoint: &str, emulator: Emulator) -> anyhow::Result<Vec<SentMail>> {
    let path = match emulator {
        Emulator::Moto => "/moto-api/data.json",
        Emulator::LocalStack => "/_aws/ses",
    };
    let data: Value = reqwest::get(format!("{endpoint}{path}"))
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(match emulator {
        Emulator::Moto => parse_moto(&data),
        Emulator::LocalStack => parse_localstack(&data),
    })
}

/// Messages sent to `to`.
pub async fn sent_to(to: &str) -> anyhow::Result<Vec<SentMail>> {
    Ok(sent_mail()
        .await?
        .into_iter()
        .filter(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(to)))
        .collect())
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(text).collect())
        .unwrap_or_default()
}

/// moto: `{"ses": {"Message": [{"source", "destinations": {"ToAddresses": […]}, "subject", "body"}, …],
/// "RawMessage": [{"source", "destinations": […], "raw_data"}, …]}}`.
fn parse_moto(data: &Value) -> Vec<SentMail> {
    let formatted = data
        .pointer("/ses/Message")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|m| {
            SentMail::formatted(
                text(&m["source"]),
                strings(&m["destinations"]["ToAddresses"]),
                text(&m["subject"]),
                text(&m["body"]),
            )
        });
    let raw = data
        .pointer("/ses/RawMessage")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|m| {
            SentMail::raw(
                text(&m["source"]),
                strings(&m["destinations"]),
                text(&m["raw_data"]),
            )
        });
    formatted.chain(raw).collect()
}

/// LocalStack: `{"messages": [{"Source", "Destination": {"ToAddresses": […]}, "Subject", "Body": {"text_part", "html_part"}}, …]}`
/// for formatted sends, `{"Source", "RawData"}` for raw ones (no destinations: the
/// message's headers name them).
fn parse_localstack(data: &Value) -> Vec<SentMail> {
    let Some(messages) = data["messages"].as_array() else {
        return Vec::new();
    };
    messages
        .iter()
        .map(|m| match &m["Body"]["text_part"] {
            Value::String(body) => SentMail::formatted(
                text(&m["Source"]),
                strings(&m["Destination"]["ToAddresses"]),
                text(&m["Subject"]),
                body.clone(),
            ),
            _ => SentMail::raw(
                text(&m["Source"]),
                strings(&m["Destination"]["ToAddresses"]),
                text(&m["RawData"]),
            ),
        })
        .collect()
}
