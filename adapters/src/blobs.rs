//! Audio and files in S3: prompts, recordings, invoice and finance exports, each
//! at the [`BlobKey`] the domain names it by.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;

use crate::aws::classify;
use crate::error::{Error, Result};
use teleconf_domain::BlobKey;

/// Reads and writes objects.
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Stores `bytes` under `key`.
    async fn put(&self, key: &BlobKey, bytes: Vec<u8>, content_type: &str) -> Result<()>;
    /// The object, if it exists.
    async fn get(&self, key: &BlobKey) -> Result<Option<Vec<u8>>>;
    /// Stores the file at `path` under `key`, reading it part by part (never
    /// whole in memory): a multipart upload past [`MULTIPART_PART`] bytes.
    async fn put_file(&self, key: &BlobKey, path: &Path, content_type: &str) -> Result<()>;
    /// A URL that downloads the object without credentials for `ttl`.
    async fn download_url(&self, key: &BlobKey, ttl: Duration) -> Result<String>;
    /// Removes the object (nothing if it is not there).
    async fn delete(&self, key: &BlobKey) -> Result<()>;
}

/// The part size of a multipart upload (S3's minimum is 5 MiB but for the last
/// part); a file up to this size goes in one PutObject.
pub const MULTIPART_PART: usize = 8 * 1024 * 1024;

/// Reads up to `buffer.len()` bytes (less only at the end of the file).
async fn read_part(file: &mut tokio::fs::File, buffer: &mut [u8]) -> std::io::Result<usize> {
    use tokio::io::AsyncReadExt;
    let mut filled = 0;
    while filled < buffer.len() {
        match file.read(&mut buffer[filled..]).await? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

fn io_error(path: &Path, error: std::io::Error) -> Error {
    Error::Unavailable(format!("{}: {error}", path.display()))
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

    /// Uploads `path` as the parts of `upload_id`, one [`MULTIPART_PART`] at a time.
    async fn upload_parts(
        &self,
        key: &BlobKey,
        upload_id: &str,
        path: &Path,
    ) -> Result<Vec<aws_sdk_s3::types::CompletedPart>> {
        let mut file = tokio::fs::File::open(path)
            .await
            .map_err(|e| io_error(path, e))?;
        let mut buffer = vec![0u8; MULTIPART_PART];
        let mut parts = Vec::new();
        for number in 1.. {
            let n = read_part(&mut file, &mut buffer)
                .await
                .map_err(|e| io_error(path, e))?;
            if n == 0 {
                break;
            }
            let part = self
                .client
                .upload_part()
                .bucket(&self.bucket)
                .key(key.as_str())
                .upload_id(upload_id)
                .part_number(number)
                .body(ByteStream::from(buffer[..n].to_vec()))
                .send()
                .await
                .map_err(|e| classify("UploadPart", e))?;
            parts.push(
                aws_sdk_s3::types::CompletedPart::builder()
                    .part_number(number)
                    .set_e_tag(part.e_tag().map(str::to_string))
                    .build(),
            );
            if n < MULTIPART_PART {
                break;
            }
        }
        Ok(parts)
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

    async fn put_file(&self, key: &BlobKey, path: &Path, content_type: &str) -> Result<()> {
        let size = tokio::fs::metadata(path)
            .await
            .map_err(|e| io_error(path, e))?
            .len();
        if size <= MULTIPART_PART as u64 {
            let body = ByteStream::from_path(path)
                .await
                .map_err(|e| Error::Unavailable(format!("{}: {e}", path.display())))?;
            self.client
                .put_object()
                .bucket(&self.bucket)
                .key(key.as_str())
                .content_type(content_type)
                .body(body)
                .send()
                .await
                .map_err(|e| classify("PutObject", e))?;
            return Ok(());
        }
        let upload = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key.as_str())
            .content_type(content_type)
            .send()
            .await
            .map_err(|e| classify("CreateMultipartUpload", e))?;
        let upload_id = upload
            .upload_id()
            .ok_or_else(|| Error::Unavailable("CreateMultipartUpload: no upload id".into()))?
            .to_string();
        let parts = self.upload_parts(key, &upload_id, path).await;
        let completed = match parts {
            Ok(parts) => self
                .client
                .complete_multipart_upload()
                .bucket(&self.bucket)
                .key(key.as_str())
                .upload_id(&upload_id)
                .multipart_upload(
                    aws_sdk_s3::types::CompletedMultipartUpload::builder()
                        .set_parts(Some(parts))
                        .build(),
                )
                .send()
                .await
                .map(|_| ())
                .map_err(|e| classify("CompleteMultipartUpload", e)),
            Err(error) => Err(error),
        };
        if completed.is_err() {
            // Parts left behind cost storage: drop them (best effort).
            let _ = self
                .client
                .abort_multipart_upload()
                .bucket(&self.bucket)
                .key(key.as_str())
                .upload_id(&upload_id)
                .send()
                .await;
        }
        completed
    }

    async fn download_url(&self, key: &BlobKey, ttl: Duration) -> Result<String> {
        let config = PresigningConfig::expires_in(ttl)
            .map_err(|e| teleconf_domain::Error::invalid("ttl", e.to_string()))?;
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

    async fn delete(&self, key: &BlobKey) -> Result<()> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await
            .map_err(|e| classify("DeleteObject", e))?;
        Ok(())
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

    async fn put_file(&self, key: &BlobKey, path: &Path, content_type: &str) -> Result<()> {
        let bytes = tokio::fs::read(path).await.map_err(|e| io_error(path, e))?;
        self.put(key, bytes, content_type).await
    }

    async fn download_url(&self, key: &BlobKey, _ttl: Duration) -> Result<String> {
        Ok(format!("memory:///{}", key.as_str()))
    }

    async fn delete(&self, key: &BlobKey) -> Result<()> {
        self.objects.lock().expect("blobs lock").remove(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_blobs_read_back() {
        let blobs = MemoryBlobs::default();
        let key = BlobKey::prompt(
            teleconf_domain::AccountId::new(),
            teleconf_domain::PromptId::new(),
        );
        assert_eq!(blobs.get(&key).await.unwrap(), None);
        blobs.put(&key, vec![1, 2, 3], "audio/wav").await.unwrap();
        assert_eq!(blobs.get(&key).await.unwrap(), Some(vec![1, 2, 3]));
        blobs.delete(&key).await.unwrap();
        blobs.delete(&key).await.unwrap();
        assert_eq!(blobs.get(&key).await.unwrap(), None);
    }
}
