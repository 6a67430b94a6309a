//! Protecting ID numbers and other identifiers (PIPL):
//! - [`LookupHasher`]: HMAC-SHA256 under a secret key, so equal values can be found without
//!   storing them (a plain hash of an 18-digit ID number is reversible by enumeration);
//! - [`Envelope`]: envelope encryption. A data key from KMS (`GenerateDataKey`) encrypts
//!   values with AES-256-GCM; the KMS-encrypted data key travels with each value, and only
//!   KMS can unwrap it. One data key per container, cached; unwrapped keys cached by blob.

use std::collections::HashMap;
use std::sync::Mutex;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hmac;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

/// Keyed hashing of identifiers for lookups. `purpose` separates uses of the same value.
pub struct LookupHasher(hmac::Key);

impl LookupHasher {
    pub fn new(secret: &[u8]) -> Self {
        Self(hmac::Key::new(hmac::HMAC_SHA256, secret))
    }

    /// Hex HMAC of `purpose`, then each part, each preceded by its length (no ambiguity
    /// between `("ab","c")` and `("a","bc")`).
    pub fn digest(&self, purpose: &str, parts: &[&str]) -> String {
        let mut ctx = hmac::Context::with_key(&self.0);
        for p in std::iter::once(&purpose).chain(parts) {
            ctx.update(&(p.len() as u64).to_be_bytes());
            ctx.update(p.as_bytes());
        }
        hex::encode(ctx.sign().as_ref())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("KMS: {0}")]
    Kms(String),
    #[error("sealed value is malformed or was tampered with")]
    Corrupt,
}

pub struct Envelope {
    kms: aws_sdk_kms::Client,
    key_id: String,
    current: tokio::sync::OnceCell<(Vec<u8>, LessKey)>,
    unwrapped: Mutex<HashMap<Vec<u8>, LessKey>>,
}

type LessKey = std::sync::Arc<LessSafeKey>;

const VERSION: &str = "v1";

fn aead_key(bytes: &[u8]) -> Result<LessKey, SealError> {
    let unbound = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| SealError::Corrupt)?;
    Ok(std::sync::Arc::new(LessSafeKey::new(unbound)))
}

impl Envelope {
    pub fn new(kms: aws_sdk_kms::Client, key_id: impl Into<String>) -> Self {
        Self {
            kms,
            key_id: key_id.into(),
            current: tokio::sync::OnceCell::new(),
            unwrapped: Mutex::new(HashMap::new()),
        }
    }

    async fn data_key(&self) -> Result<&(Vec<u8>, LessKey), SealError> {
        self.current
            .get_or_try_init(|| async {
                let out = self
                    .kms
                    .generate_data_key()
                    .key_id(&self.key_id)
                    .key_spec(DataKeySpec::Aes256)
                    .send()
                    .await
                    .map_err(|e| SealError::Kms(aws_sdk_kms::error::DisplayErrorContext(&e).to_string()))?;
                let plain = out.plaintext.ok_or_else(|| SealError::Kms("no plaintext data key".into()))?;
                let wrapped = out.ciphertext_blob.ok_or_else(|| SealError::Kms("no wrapped data key".into()))?;
                Ok((wrapped.into_inner(), aead_key(plain.as_ref())?))
            })
            .await
    }

    /// `v1.<wrapped data key>.<nonce>.<ciphertext+tag>`, all base64url. `context` (e.g. the
    /// record's key) is bound as associated data, so a value moved to another record fails.
    pub async fn seal(&self, plaintext: &[u8], context: &str) -> Result<String, SealError> {
        let (wrapped, key) = self.data_key().await?;
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).map_err(|_| SealError::Corrupt)?;
        let mut buf = plaintext.to_vec();
        key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(context.as_bytes()), &mut buf)
            .map_err(|_| SealError::Corrupt)?;
        Ok(format!("{VERSION}.{}.{}.{}", B64.encode(wrapped), B64.encode(nonce), B64.encode(buf)))
    }

    pub async fn open(&self, sealed: &str, context: &str) -> Result<Vec<u8>, SealError> {
        let parts: Vec<&str> = sealed.split('.').collect();
        let [VERSION, wrapped, nonce, ct] = parts[..] else { return Err(SealError::Corrupt) };
        let decode = |s: &str| B64.decode(s).map_err(|_| SealError::Corrupt);
        let (wrapped, nonce, mut buf) = (decode(wrapped)?, decode(nonce)?, decode(ct)?);
        let key = self.unwrap_key(wrapped).await?;
        let nonce = Nonce::try_assume_unique_for_key(&nonce).map_err(|_| SealError::Corrupt)?;
        let plain =
            key.open_in_place(nonce, Aad::from(context.as_bytes()), &mut buf).map_err(|_| SealError::Corrupt)?;
        Ok(plain.to_vec())
    }

    async fn unwrap_key(&self, wrapped: Vec<u8>) -> Result<LessKey, SealError> {
        if let Some(k) = self.unwrapped.lock().unwrap_or_else(|p| p.into_inner()).get(&wrapped) {
            return Ok(k.clone());
        }
        let out = self
            .kms
            .decrypt()
            .ciphertext_blob(Blob::new(wrapped.clone()))
            .key_id(&self.key_id)
            .send()
            .await
            .map_err(|e| SealError::Kms(aws_sdk_kms::error::DisplayErrorContext(&e).to_string()))?;
        let key = aead_key(out.plaintext.ok_or(SealError::Corrupt)?.as_ref())?;
        self.unwrapped.lock().unwrap_or_else(|p| p.into_inner()).insert(wrapped, key.clone());
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_digests_are_keyed_separated_by_purpose_and_unambiguous() {
        let (a, b) = (LookupHasher::new(b"key-one-0123456789abcdef"), LookupHasher::new(b"key-two-0123456789abcdef"));
        let id = "11010519491231002X";
        assert_eq!(a.digest("entry", &["c1", id]), a.digest("entry", &["c1", id]));
        assert_ne!(a.digest("entry", &["c1", id]), b.digest("entry", &["c1", id]));
        assert_ne!(a.digest("entry", &["c1", id]), a.digest("examno", &["c1", id]));
        assert_ne!(a.digest("x", &["ab", "c"]), a.digest("x", &["a", "bc"]));
        assert_eq!(a.digest("entry", &["c1", id]).len(), 64);
    }
}
