//! S3 as the functions use it: objects read (one version, a size limit), written, a version
//! removed, and short-lived links. Built from the SDK configuration here, so no function names
//! the SDK.

use std::time::Duration;

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use time::OffsetDateTime;
use yunzhao_domain::upload::{Original, Posted};

#[derive(Debug, thiserror::Error)]
#[error("object store: {0}")]
pub struct BlobError(String);

fn err(e: impl std::error::Error) -> BlobError {
    BlobError(aws_sdk_s3::error::DisplayErrorContext(e).to_string())
}

/// An object as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    pub bytes: Vec<u8>,
    pub version: Option<String>,
    pub last_modified: Option<OffsetDateTime>,
}

/// What a read found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    Found(Blob),
    /// No such key (or version).
    Missing,
    /// Over the caller's limit: its size, and nothing read.
    TooLarge(u64),
}

#[derive(Clone)]
pub struct Blobs {
    client: aws_sdk_s3::Client,
}

impl Blobs {
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        Self { client: crate::aws::s3_client(sdk) }
    }

    /// The object (`version` of it when given), read only when at most `max_bytes`.
    pub async fn get(
        &self,
        bucket: &str,
        key: &str,
        version: Option<&str>,
        max_bytes: u64,
    ) -> Result<Fetched, BlobError> {
        self.read(self.get_request(bucket, key, version), max_bytes).await
    }

    /// The object's first `n` bytes (enough to tell an image by its signature).
    pub async fn first_bytes(&self, bucket: &str, key: &str, n: u64) -> Result<Fetched, BlobError> {
        let get = self.client.get_object().bucket(bucket).key(key).range(format!("bytes=0-{}", n.saturating_sub(1)));
        self.read(get, u64::MAX).await
    }

    /// A read of the object, of `version` of it when given.
    fn get_request(
        &self,
        bucket: &str,
        key: &str,
        version: Option<&str>,
    ) -> aws_sdk_s3::operation::get_object::builders::GetObjectFluentBuilder {
        self.client.get_object().bucket(bucket).key(key).set_version_id(version.map(str::to_owned))
    }

    async fn read(
        &self,
        get: aws_sdk_s3::operation::get_object::builders::GetObjectFluentBuilder,
        max_bytes: u64,
    ) -> Result<Fetched, BlobError> {
        let object = match get.send().await {
            Ok(o) => o,
            Err(e) if matches!(e.code(), Some("NoSuchKey" | "NoSuchVersion")) => return Ok(Fetched::Missing),
            Err(e) => return Err(err(e)),
        };
        let length = u64::try_from(object.content_length().unwrap_or(0)).unwrap_or(0);
        if length > max_bytes {
            return Ok(Fetched::TooLarge(length));
        }
        let last_modified = object.last_modified().and_then(|t| OffsetDateTime::from_unix_timestamp(t.secs()).ok());
        let version = object.version_id.clone();
        let bytes = object.body.collect().await.map_err(|e| BlobError(e.to_string()))?.into_bytes().to_vec();
        Ok(Fetched::Found(Blob { bytes, version, last_modified }))
    }

    /// Writes an object; `download_as` names the file a browser saves it as.
    pub async fn put(
        &self,
        bucket: &str,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
        download_as: Option<&str>,
    ) -> Result<(), BlobError> {
        let disposition = download_as.map(|name| format!("attachment; filename=\"{name}\""));
        self.client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .set_content_disposition(disposition)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(err)?;
        Ok(())
    }

    /// Deletes one version of an object (already gone is fine: the same event twice).
    pub async fn delete_version(&self, bucket: &str, key: &str, version: &str) -> Result<(), BlobError> {
        match self.client.delete_object().bucket(bucket).key(key).version_id(version).send().await {
            Ok(_) => Ok(()),
            Err(e) if matches!(e.code(), Some("NoSuchVersion" | "NoSuchKey")) => Ok(()),
            Err(e) => Err(err(e)),
        }
    }

    /// A link that reads the object (`version` of it when given) for `ttl`.
    pub async fn link(
        &self,
        bucket: &str,
        key: &str,
        version: Option<&str>,
        ttl: Duration,
    ) -> Result<String, BlobError> {
        let config = PresigningConfig::expires_in(ttl).map_err(|e| BlobError(e.to_string()))?;
        Ok(self
            .get_request(bucket, key, version)
            .presigned(config)
            .await
            .map_err(|e| BlobError(e.to_string()))?
            .uri()
            .to_owned())
    }
}

/// Uploads over this are not read (the upload form already refuses more than 15 MB).
const MAX_UPLOAD_BYTES: u64 = 20 * 1024 * 1024;

/// The two buckets as processing an upload sees them: originals read (the posted version)
/// and removed, results written.
pub struct UploadPhotos {
    pub blobs: Blobs,
    pub results_bucket: String,
}

impl yunzhao_domain::upload::Photos for UploadPhotos {
    async fn original(&self, posted: &Posted) -> Result<Original, String> {
        let fetched = self.blobs.get(&posted.bucket, &posted.key, posted.version.as_deref(), MAX_UPLOAD_BYTES);
        Ok(match fetched.await.map_err(|e| e.to_string())? {
            Fetched::Found(photo) => Original::Found { bytes: photo.bytes, uploaded_at: photo.last_modified },
            Fetched::TooLarge(_) => Original::TooLarge,
            Fetched::Missing => Original::Missing,
        })
    }

    async fn remove_version(&self, posted: &Posted, version: &str) -> Result<(), String> {
        self.blobs.delete_version(&posted.bucket, &posted.key, version).await.map_err(|e| e.to_string())
    }

    async fn put_result(&self, key: &str, body: Vec<u8>, content_type: &'static str) -> Result<(), String> {
        self.blobs.put(&self.results_bucket, key, body, content_type, None).await.map_err(|e| e.to_string())
    }
}
