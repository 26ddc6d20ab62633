//! Where each file the service stores is named: prompts, recordings, invoice and
//! finance exports. Keys are built only from typed ids, so no caller input ever
//! becomes a path.

use crate::{AccountId, ConferenceId, PromptId, RecordingId, YearMonth};

/// Where an object lives in the bucket. Built only from typed ids, so no caller
/// input ever becomes a path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlobKey(String);

impl BlobKey {
    /// A prompt (greeting or intro message), 8 kHz mono WAV.
    pub fn prompt(account: AccountId, prompt: PromptId) -> Self {
        Self(format!("accounts/{account}/prompts/{prompt}.wav"))
    }

    /// A conference recording, 8 kHz WAV.
    pub fn recording(account: AccountId, conference: ConferenceId, recording: RecordingId) -> Self {
        Self(format!(
            "accounts/{account}/conferences/{conference}/recordings/{recording}.wav"
        ))
    }

    /// Segment `index` of a conference recording, 8 kHz WAV, beside the whole
    /// recording's key (zero-padded: the keys list in order).
    pub fn recording_segment(
        account: AccountId,
        conference: ConferenceId,
        recording: RecordingId,
        index: u32,
    ) -> Self {
        Self(format!(
            "accounts/{account}/conferences/{conference}/recordings/{recording}/segment-{index:05}.wav"
        ))
    }

    /// An account's invoice for a month, as CSV.
    pub fn invoice_csv(account: AccountId, month: YearMonth) -> Self {
        Self(format!("accounts/{account}/invoices/{month}/invoice.csv"))
    }

    /// An account's invoice for a month, as PDF (beside its CSV).
    pub fn invoice_pdf(account: AccountId, month: YearMonth) -> Self {
        Self(format!("accounts/{account}/invoices/{month}/invoice.pdf"))
    }

    /// The CDR detail behind an account's invoice for a month, as CSV.
    pub fn invoice_cdrs(account: AccountId, month: YearMonth) -> Self {
        Self(format!("accounts/{account}/invoices/{month}/cdrs.csv"))
    }

    /// The finance team's export of a month, across accounts.
    pub fn finance_export(month: YearMonth) -> Self {
        Self(format!("finance/exports/{month}.csv"))
    }

    /// The object key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_built_from_ids_only() {
        let a = AccountId::new();
        let p = PromptId::new();
        assert_eq!(
            BlobKey::prompt(a, p).as_str(),
            format!("accounts/{a}/prompts/{p}.wav")
        );
        assert_eq!(
            BlobKey::finance_export("2026-11".parse().unwrap()).as_str(),
            "finance/exports/2026-11.csv"
        );
    }
}
