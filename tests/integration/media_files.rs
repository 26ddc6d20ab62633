//! Prompts and recordings in S3 on the emulator.

use std::time::Duration;

use teleconf_domain::BlobKey;

use teleconf_adapters::blobs::{BlobStore, MULTIPART_PART};
use teleconf_domain::{AccountId, ConferenceId, PromptId, RecordingId};
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

#[tokio::test]
async fn a_file_past_one_part_is_uploaded_in_parts_and_reads_back_whole() {
    let stack = Stack::new().await;
    let dir = std::env::temp_dir().join(format!("teleconf-upload-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    for size in [1_000, MULTIPART_PART * 2 + 4_321] {
        let path = dir.join(format!("{size}.wav"));
        let bytes: Vec<u8> = (0..size).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        let key = BlobKey::recording(AccountId::new(), ConferenceId::new(), RecordingId::new());
        stack
            .blobs
            .put_file(&key, &path, "audio/wav")
            .await
            .unwrap();
        let back = stack.blobs.get(&key).await.unwrap().unwrap();
        assert_eq!(back.len(), size);
        assert!(back == bytes, "{size} bytes read back differ");
    }
    std::fs::remove_dir_all(dir).unwrap();
}
