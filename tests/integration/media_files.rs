//! Prompts and recordings in S3 on the emulator.

use std::time::Duration;

use teleconf_core::blobs::{BlobKey, BlobStore};
use teleconf_core::domain::{AccountId, PromptId};
use teleconf_tests::stack::Stack;

#[tokio::test]
async fn a_stored_prompt_reads_back_and_downloads_by_presigned_url() {
    let stack = Stack::new().await;
    let key = BlobKey::prompt(AccountId::new(), PromptId::new());
    assert_eq!(stack.blobs.get(&key).await.unwrap(), None);

    let wav = b"RIFF\x24\x00\x00\x00WAVEfmt ".to_vec();
    stack
        .blobs
        .put(&key, wav.clone(), "audio/wav")
        .await
        .unwrap();
    assert_eq!(stack.blobs.get(&key).await.unwrap(), Some(wav.clone()));

    let url = stack
        .blobs
        .download_url(&key, Duration::from_secs(300))
        .await
        .unwrap();
    let fetched = reqwest::get(&url)
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(fetched.to_vec(), wav);
}
