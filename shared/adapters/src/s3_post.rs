//! Presigned S3 **POST** uploads (the mini-program's `wx.uploadFile` sends multipart/form-data
//! POST only, and the AWS SDK for Rust presigns only PUT/GET): the POST policy and its AWS
//! Signature Version 4, computed here. The policy pins the exact key, a size range, an
//! `image/` content type and a short expiry; S3 enforces them.

use std::collections::BTreeMap;

use aws_lc_rs::hmac;
use base64::Engine;
use serde_json::json;
use time::macros::format_description;
use time::{Duration, OffsetDateTime};

/// Who signs: the function's own (temporary) credentials.
pub struct PostCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

/// What an upload may be.
pub struct UploadRules<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub region: &'a str,
    pub min_bytes: u64,
    pub max_bytes: u64,
    pub expires_in: Duration,
    /// `None`: any `image/*` (photos); `Some(t)`: exactly `t` (files such as rosters).
    pub content_type: Option<&'a str>,
}

/// The form to send: POST `url` with `fields` first and the file last (field `file`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct PresignedPost {
    pub url: String,
    pub fields: BTreeMap<String, String>,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data).as_ref().to_vec()
}

/// SigV4 signature of a POST policy (the base64 policy is the string to sign).
pub fn sign_policy(secret_access_key: &str, date: &str, region: &str, policy_b64: &str) -> String {
    let k_date = hmac_sha256(format!("AWS4{secret_access_key}").as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, b"s3");
    let k_signing = hmac_sha256(&k_service, b"aws4_request");
    hex::encode(hmac_sha256(&k_signing, policy_b64.as_bytes()))
}

/// The URL the form posts to: path-style under an overridden endpoint (LocalStack), the
/// bucket's virtual host in AWS.
pub fn bucket_url(endpoint: Option<&str>, bucket: &str, region: &str) -> String {
    match endpoint {
        Some(e) => format!("{}/{bucket}", e.trim_end_matches('/')),
        None => format!("https://{bucket}.s3.{region}.amazonaws.com"),
    }
}

pub fn presign_post(
    url: String,
    rules: &UploadRules<'_>,
    creds: &PostCredentials,
    now: OffsetDateTime,
) -> PresignedPost {
    let now = now.replace_nanosecond(0).unwrap_or(now);
    let date = now.format(format_description!("[year][month][day]")).unwrap_or_default();
    let amz_date = now.format(format_description!("[year][month][day]T[hour][minute][second]Z")).unwrap_or_default();
    let expires_at = now + rules.expires_in;
    let credential = format!("{}/{date}/{}/s3/aws4_request", creds.access_key_id, rules.region);
    let mut fields = BTreeMap::from([
        ("key".to_owned(), rules.key.to_owned()),
        ("Content-Type".to_owned(), rules.content_type.unwrap_or("image/jpeg").to_owned()),
        ("x-amz-algorithm".to_owned(), "AWS4-HMAC-SHA256".to_owned()),
        ("x-amz-credential".to_owned(), credential.clone()),
        ("x-amz-date".to_owned(), amz_date.clone()),
    ]);
    let mut conditions = vec![
        json!({"bucket": rules.bucket}),
        json!(["eq", "$key", rules.key]),
        json!(["content-length-range", rules.min_bytes, rules.max_bytes]),
        match rules.content_type {
            None => json!(["starts-with", "$Content-Type", "image/"]),
            Some(t) => json!({"Content-Type": t}),
        },
        json!({"x-amz-algorithm": "AWS4-HMAC-SHA256"}),
        json!({"x-amz-credential": credential}),
        json!({"x-amz-date": amz_date}),
    ];
    if let Some(token) = &creds.session_token {
        conditions.push(json!({"x-amz-security-token": token}));
        fields.insert("x-amz-security-token".into(), token.clone());
    }
    let expiration = expires_at
        .format(format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].000Z"))
        .unwrap_or_default();
    let policy = json!({"expiration": expiration, "conditions": conditions});
    let policy_b64 = base64::engine::general_purpose::STANDARD.encode(policy.to_string());
    let signature = sign_policy(&creds.secret_access_key, &date, rules.region, &policy_b64);
    fields.insert("policy".into(), policy_b64);
    fields.insert("x-amz-signature".into(), signature);
    PresignedPost { url, fields, expires_at }
}

/// Presigns POST uploads into one bucket with the function's own credentials (fetched per
/// call: Lambda's are temporary and the SDK caches and refreshes them).
pub struct Presigner {
    pub credentials: aws_credential_types::provider::SharedCredentialsProvider,
    pub region: String,
    /// `AWS_ENDPOINT_URL` when running against LocalStack.
    pub endpoint: Option<String>,
    pub bucket: String,
}

impl Presigner {
    pub fn from_sdk(
        sdk: &aws_config::SdkConfig,
        bucket: impl Into<String>,
    ) -> Result<Self, crate::config::ConfigError> {
        use crate::config::ConfigError;
        Ok(Self {
            credentials: sdk.credentials_provider().ok_or(ConfigError::Missing("AWS credentials"))?,
            region: sdk.region().map(|r| r.to_string()).ok_or(ConfigError::Missing("AWS_REGION"))?,
            endpoint: crate::config::optional("AWS_ENDPOINT_URL"),
            bucket: bucket.into(),
        })
    }

    /// A photo upload (`image/*`).
    pub async fn post(
        &self,
        key: &str,
        min_bytes: u64,
        max_bytes: u64,
        expires_in: Duration,
    ) -> Result<PresignedPost, String> {
        self.post_as(key, min_bytes, max_bytes, expires_in, None).await
    }

    /// An upload of exactly `content_type` (`None`: any image).
    pub async fn post_as(
        &self,
        key: &str,
        min_bytes: u64,
        max_bytes: u64,
        expires_in: Duration,
        content_type: Option<&str>,
    ) -> Result<PresignedPost, String> {
        use aws_credential_types::provider::ProvideCredentials;
        let creds = self.credentials.provide_credentials().await.map_err(|e| e.to_string())?;
        let creds = PostCredentials {
            access_key_id: creds.access_key_id().to_owned(),
            secret_access_key: creds.secret_access_key().to_owned(),
            session_token: creds.session_token().map(str::to_owned),
        };
        let rules = UploadRules {
            bucket: &self.bucket,
            key,
            region: &self.region,
            min_bytes,
            max_bytes,
            expires_in,
            content_type,
        };
        let url = bucket_url(self.endpoint.as_deref(), &self.bucket, &self.region);
        Ok(presign_post(url, &rules, &creds, OffsetDateTime::now_utc()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_a_published_example() {
        // The example of the `s3-post-policy` npm package (AWS's documented example keys).
        let policy = "eyJleHBpcmF0aW9uIjoiMjAxMy0wOC0wNlQxMjowMDowMC4wMDBaIiwiY29uZGl0aW9ucyI6W3siYWNsIjoicHVibGljLXJlYWQifSxbInN0YXJ0cy13aXRoIiwiJENvbnRlbnQtVHlwZSIsImltYWdlLyJdLFsic3RhcnRzLXdpdGgiLCIka2V5IiwidXNlci91c2VyMS8iXSxbInN0YXJ0cy13aXRoIiwiJHgtYW16LW1ldGEtdGFnIiwiIl0seyJ4LWFtei1tZXRhLXV1aWQiOiIxNDM2NTEyMzY1MTI3NCJ9LHsiYnVja2V0IjoiZXhhbXBsZWJ1Y2tldCJ9LHsieC1hbXotYWxnb3JpdGhtIjoiQVdTNC1ITUFDLVNIQTI1NiJ9LHsieC1hbXotY3JlZGVudGlhbCI6IkFLSUFJT1NGT0ROTjdFWEFNUExFLzIwMTMwODA2L3VzLWVhc3QtMS9zMy9hd3M0X3JlcXVlc3QifSx7IngtYW16LWRhdGUiOiIyMDEzMDgwNlQxMjAwMDBaIn1dfQ==";
        let sig = sign_policy("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130806", "us-east-1", policy);
        assert_eq!(sig, "5bc8a7be4a6fc6445b94d0f4096f8cf3dfa00303529f8a68ea7dc0c23bb83cd9");
    }

    #[test]
    fn the_policy_pins_key_size_type_expiry_and_credentials() {
        let rules = UploadRules {
            bucket: "uploads",
            key: "photos/c1/YZ1/a1",
            region: "cn-north-1",
            min_bytes: 10_240,
            max_bytes: 15 * 1024 * 1024,
            expires_in: Duration::minutes(10),
            content_type: None,
        };
        let creds = PostCredentials {
            access_key_id: "AKID".into(),
            secret_access_key: "SECRET".into(),
            session_token: Some("TOKEN".into()),
        };
        let now = time::macros::datetime!(2026-11-23 12:34:56.789 UTC);
        let post = presign_post(bucket_url(None, "uploads", "cn-north-1"), &rules, &creds, now);
        assert_eq!(post.url, "https://uploads.s3.cn-north-1.amazonaws.com");
        let policy: serde_json::Value = serde_json::from_slice(
            &base64::engine::general_purpose::STANDARD.decode(&post.fields["policy"]).expect("b64"),
        )
        .expect("json");
        assert_eq!(policy["expiration"], "2026-11-23T12:44:56.000Z");
        let conditions = policy["conditions"].as_array().expect("conditions");
        assert!(conditions.contains(&json!(["eq", "$key", "photos/c1/YZ1/a1"])));
        assert!(conditions.contains(&json!(["content-length-range", 10_240, 15 * 1024 * 1024])));
        assert!(conditions.contains(&json!(["starts-with", "$Content-Type", "image/"])));
        assert!(conditions.contains(&json!({"x-amz-security-token": "TOKEN"})));
        assert_eq!(post.fields["x-amz-credential"], "AKID/20261123/cn-north-1/s3/aws4_request");
        assert_eq!(post.fields["x-amz-date"], "20261123T123456Z");
        assert_eq!(
            post.fields["x-amz-signature"],
            sign_policy("SECRET", "20261123", "cn-north-1", &post.fields["policy"])
        );
        assert_eq!(bucket_url(Some("http://127.0.0.1:4566/"), "uploads", "x"), "http://127.0.0.1:4566/uploads");
    }
}
