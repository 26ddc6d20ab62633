//! Audio prompts (greetings, intro messages): uploaded as WAV in any common format,
//! stored as 8 kHz mono 16-bit PCM in the account's blobs; those named by a
//! conference or an access number must exist in the account.

use std::future::Future;

use chrono::{DateTime, Utc};
use teleconf_adapters::blobs::BlobStore;
use teleconf_adapters::store::ActivityStore;
use teleconf_domain::audio::{MAX_PROMPT_BYTES, normalize_prompt};
use teleconf_domain::permissions::{Action, decide};
use teleconf_domain::{AccountId, ActivityKind, BlobKey, PromptId};

use super::Caller;
use super::activity::record;
use crate::error::Error;

/// A prompt stored.
#[derive(Debug, Clone, Copy)]
pub struct Uploaded {
    /// Its id.
    pub id: PromptId,
    /// Length of the audio.
    pub duration_ms: u64,
}

/// The refusal of a file over [`MAX_PROMPT_BYTES`].
pub fn too_large() -> Error {
    Error::Domain(teleconf_domain::Error::TooLarge {
        field: "audio".into(),
        message: format!(
            "a prompt file is at most {} MB",
            MAX_PROMPT_BYTES / (1024 * 1024)
        ),
    })
}

fn may_upload(caller: &Caller) -> Result<(), Error> {
    Error::check(
        decide(&caller.actor(), Action::UploadPrompts(caller.account.id)),
        "prompt",
    )
}

/// Stores the WAV `bytes` as a new prompt of the caller's account. The body is
/// read only once the caller may upload.
pub async fn upload<S: ActivityStore + ?Sized>(
    store: &S,
    blobs: &dyn BlobStore,
    now: DateTime<Utc>,
    caller: &Caller,
    bytes: impl Future<Output = Result<Vec<u8>, Error>>,
) -> Result<Uploaded, Error> {
    may_upload(caller)?;
    let bytes = bytes.await?;
    if bytes.len() > MAX_PROMPT_BYTES {
        return Err(too_large());
    }
    let prompt = normalize_prompt(&bytes)?;
    let id = PromptId::new();
    blobs
        .put(
            &BlobKey::prompt(caller.account.id, id),
            prompt.wav,
            "audio/wav",
        )
        .await?;
    record(
        store,
        now,
        caller,
        ActivityKind::PromptUploaded,
        None,
        format!("prompt {id} ({} s)", prompt.duration_ms / 1000),
    )
    .await;
    Ok(Uploaded {
        id,
        duration_ms: prompt.duration_ms,
    })
}

/// Prompt `id` of the caller's account, as 8 kHz mono WAV.
pub async fn get(blobs: &dyn BlobStore, caller: &Caller, id: &str) -> Result<Vec<u8>, Error> {
    may_upload(caller)?;
    let id: PromptId = id.parse().map_err(|_| Error::NotFound("prompt"))?;
    // The key holds the caller's account: another account's prompt is simply absent.
    blobs
        .get(&BlobKey::prompt(caller.account.id, id))
        .await?
        .ok_or(Error::NotFound("prompt"))
}

/// Refused on `field` unless prompt `id` was uploaded to `account`.
pub async fn ensure_prompt(
    blobs: &dyn BlobStore,
    account: AccountId,
    id: PromptId,
    field: &'static str,
) -> Result<(), Error> {
    if blobs.get(&BlobKey::prompt(account, id)).await?.is_none() {
        return Err(Error::invalid(
            field,
            "no such prompt in this account: upload it with POST /v1/prompts",
        ));
    }
    Ok(())
}
