//! The mail the emulator captured instead of sending. The only place that knows
//! where each emulator keeps it: moto at `GET /moto-api/data.json` (`ses.Message`),
//! LocalStack at `GET /_aws/ses`.

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
    /// Text body, or the raw MIME message for raw sends.
    pub body: String,
}

/// Every message the emulator captured, oldest first.
pub async fn sent_mail() -> anyhow::Result<Vec<SentMail>> {
    let emulator = Emulator::from_env();
    let path = match emulator {
        Emulator::Moto => "/moto-api/data.json",
        Emulator::LocalStack => "/_aws/ses",
    };
    let data: Value = reqwest::get(format!("{}{path}", endpoint()))
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

/// moto: `{"ses": {"Message": [{"source", "destinations": {"ToAddresses": […]}, "subject", "body"}, …]}}`;
/// raw sends (`SendRawEmail`, e.g. with an attachment) are under `RawMessage`, with
/// `raw_data` and `destinations` as a list.
fn parse_moto(data: &Value) -> Vec<SentMail> {
    let list = |pointer: &str| {
        data.pointer(pointer)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    list("/ses/Message")
        .into_iter()
        .chain(list("/ses/RawMessage"))
        .collect::<Vec<_>>()
        .iter()
        .map(|m| {
            let to = match &m["destinations"] {
                Value::Array(_) => strings(&m["destinations"]),
                d => strings(&d["ToAddresses"]),
            };
            SentMail {
                source: text(&m["source"]),
                to,
                subject: text(&m["subject"]),
                body: if m["body"].is_null() {
                    text(&m["raw_data"])
                } else {
                    text(&m["body"])
                },
            }
        })
        .collect()
}

/// LocalStack: `{"messages": [{"Source", "Destination": {"ToAddresses": […]}, "Subject", "Body": {"text_part", "html_part"}, "RawData"}, …]}`.
fn parse_localstack(data: &Value) -> Vec<SentMail> {
    let Some(messages) = data["messages"].as_array() else {
        return Vec::new();
    };
    messages
        .iter()
        .map(|m| SentMail {
            source: text(&m["Source"]),
            to: strings(&m["Destination"]["ToAddresses"]),
            subject: text(&m["Subject"]),
            body: match &m["Body"]["text_part"] {
                Value::String(s) => s.clone(),
                _ => text(&m["RawData"]),
            },
        })
        .collect()
}
