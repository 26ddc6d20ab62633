//! Audio and files in S3: prompts, recordings, invoice and finance exports.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;

use crate::aws::classify;
use crate::domain::{AccountId, ConferenceId, PromptId, RecordingId, YearMonth};
use crate::error::{Error, Result};

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

    /// The finance team's export of a month, across accounts.
    pub fn finance_export(month: YearMonth) -> Self {
        Self(format!("finance/exports/{month}.csv"))
    }

    /// The object key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Reads and writes objects.
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Stores `bytes` under `key`.
    async fn put(&self, key: &BlobKey, bytes: Vec<u8>, content_type: &str) -> Result<()>;
    /// The object, if it exists.
    async fn get(&self, key: &BlobKey) -> Result<Option<Vec<u8>>>;
    /// A URL that downloads the object without credentials for `ttl`.
    async fn download_url(&self, key: &BlobKey, ttl: Duration) -> Result<String>;
}

/// The bucket on S3.
#[derive(Debug, Clone)]
pub struct S3Blobs {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Blobs {
    /// Objects of `bucket` through `client`.
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }
}

#[async_trait]
impl BlobStore for S3Blobs {
    async fn put(&self, key: &BlobKey, bytes: Vec<u8>, content_type: &str) -> Result<()> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| classify("PutObject", e))?;
        Ok(())
    }

    async fn get(&self, key: &BlobKey) -> Result<Option<Vec<u8>>> {
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await
        {
            Ok(out) => {
                let body = out
                    .body
                    .collect()
                    .await
                    .map_err(|e| Error::Unavailable(format!("GetObject body: {e}")))?;
                Ok(Some(body.into_bytes().to_vec()))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(classify("GetObject", e)),
        }
    }

    async fn download_url(&self, key: &BlobKey, ttl: Duration) -> Result<String> {
        let config =
            PresigningConfig::expires_in(ttl).map_err(|e| Error::invalid("ttl", e.to_string()))?;
        let req = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .presigned(config)
            .await
            .map_err(|e| classify("PresignGetObject", e))?;
        Ok(req.uri().to_string())
    }
}

/// Objects in memory, for tests.
#[derive(Debug, Default)]
pub struct MemoryBlobs {
    objects: Mutex<HashMap<BlobKey, (Vec<u8>, String)>>,
}

#[async_trait]
impl BlobStore for MemoryBlobs {
    async fn put(&self, key: &BlobKey, bytes: Vec<u8>, content_type: &str) -> Result<()> {
        self.objects
            .lock()
            .expect("blobs lock")
            .insert(key.clone(), (bytes, content_type.into()));
        Ok(())
    }

    async fn get(&self, key: &BlobKey) -> Result<Option<Vec<u8>>> {
        Ok(self
            .objects
            .lock()
            .expect("blobs lock")
            .get(key)
            .map(|(b, _)| b.clone()))
    }

    async fn download_url(&self, key: &BlobKey, _ttl: Duration) -> Result<String> {
        Ok(format!("memory:///{}", key.as_str()))
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

    #[tokio::test]
    async fn memory_blobs_read_back() {
        let blobs = MemoryBlobs::default();
        let key = BlobKey::prompt(AccountId::new(), PromptId::new());
        assert_eq!(blobs.get(&key).await.unwrap(), None);
        blobs.put(&key, vec![1, 2, 3], "audio/wav").await.unwrap();
        assert_eq!(blobs.get(&key).await.unwrap(), Some(vec![1, 2, 3]));
    }
}
