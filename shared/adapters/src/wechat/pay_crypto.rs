//! WeChat Pay API v3 cryptography: SHA256withRSA request signatures and `paySign` with the
//! merchant key, verification of WeChat's signatures (notifications, responses) with the
//! platform public keys chosen by `Wechatpay-Serial`, and AEAD_AES_256_GCM for the
//! `resource` of notifications. The same functions serve the fake WeChat Pay server, in the
//! other direction; fixed vectors made with openssl and Python's `cryptography` pin them.

use std::collections::HashMap;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayCryptoError {
    #[error("the key is not a usable RSA key")]
    BadKey,
    #[error("no platform key has serial {0}")]
    UnknownSerial(String),
    #[error("the signature does not verify")]
    BadSignature,
    #[error("the resource does not decrypt (wrong key, nonce, associated data, or tampered)")]
    Undecryptable,
}

/// A private RSA key that signs (the merchant's; the platform's in the fake server).
pub struct RsaSigner(RsaKeyPair);

impl RsaSigner {
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, PayCryptoError> {
        RsaKeyPair::from_pkcs8(der).map(Self).map_err(|_| PayCryptoError::BadKey)
    }

    /// Base64 SHA256withRSA (PKCS #1 v1.5) signature of `message`.
    pub fn sign(&self, message: &str) -> String {
        let mut sig = vec![0u8; self.0.public_modulus_len()];
        // Signing with a parsed key into a buffer of the modulus size does not fail.
        let _ = self.0.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), message.as_bytes(), &mut sig);
        B64.encode(sig)
    }
}

/// A public RSA key that verifies (DER: SubjectPublicKeyInfo or PKCS #1).
pub struct RsaVerifier(UnparsedPublicKey<Vec<u8>>);

impl RsaVerifier {
    pub fn from_der(der: &[u8]) -> Self {
        Self(UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der.to_vec()))
    }

    pub fn verify(&self, message: &str, signature_b64: &str) -> Result<(), PayCryptoError> {
        let sig = B64.decode(signature_b64.trim()).map_err(|_| PayCryptoError::BadSignature)?;
        self.0.verify(message.as_bytes(), &sig).map_err(|_| PayCryptoError::BadSignature)
    }
}

/// What a v3 request signature covers: `METHOD\nURL\ntimestamp\nnonce\nbody\n`, URL being
/// the path with its query string.
pub fn request_message(method: &str, path_and_query: &str, timestamp: i64, nonce: &str, body: &str) -> String {
    format!("{method}\n{path_and_query}\n{timestamp}\n{nonce}\n{body}\n")
}

/// The `Authorization` header of a v3 request.
pub fn authorization(
    mchid: &str,
    serial: &str,
    signer: &RsaSigner,
    message_parts: (&str, &str, i64, &str, &str),
) -> String {
    let (method, path, timestamp, nonce, body) = message_parts;
    let signature = signer.sign(&request_message(method, path, timestamp, nonce, body));
    format!(
        "WECHATPAY2-SHA256-RSA2048 mchid=\"{mchid}\",nonce_str=\"{nonce}\",signature=\"{signature}\",timestamp=\"{timestamp}\",serial_no=\"{serial}\""
    )
}

/// The fields of an `Authorization` header (for the fake server's check).
pub fn parse_authorization(header: &str) -> Option<HashMap<String, String>> {
    let rest = header.strip_prefix("WECHATPAY2-SHA256-RSA2048 ")?;
    let mut fields = HashMap::new();
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        fields.insert(k.to_owned(), v.trim_matches('"').to_owned());
    }
    Some(fields)
}

/// What `paySign` covers for `wx.requestPayment`: `appId\ntimeStamp\nnonceStr\npackage\n`.
pub fn pay_sign_message(appid: &str, timestamp: &str, nonce: &str, package: &str) -> String {
    format!("{appid}\n{timestamp}\n{nonce}\n{package}\n")
}

/// What WeChat signs on notifications and responses: `timestamp\nnonce\nbody\n`.
pub fn wechat_message(timestamp: &str, nonce: &str, body: &str) -> String {
    format!("{timestamp}\n{nonce}\n{body}\n")
}

/// The platform public keys, by serial: more than one during a rotation.
pub struct PlatformKeys(HashMap<String, RsaVerifier>);

impl PlatformKeys {
    /// `SERIAL:base64(DER)` entries separated by `;`.
    pub fn parse(spec: &str) -> Result<Self, PayCryptoError> {
        let mut keys = HashMap::new();
        for entry in spec.split(';').map(str::trim).filter(|e| !e.is_empty()) {
            let (serial, der) = entry.split_once(':').ok_or(PayCryptoError::BadKey)?;
            let der = B64.decode(der.trim()).map_err(|_| PayCryptoError::BadKey)?;
            keys.insert(serial.trim().to_owned(), RsaVerifier::from_der(&der));
        }
        if keys.is_empty() { Err(PayCryptoError::BadKey) } else { Ok(Self(keys)) }
    }

    pub fn verify(
        &self,
        serial: &str,
        timestamp: &str,
        nonce: &str,
        body: &str,
        signature: &str,
    ) -> Result<(), PayCryptoError> {
        let key = self.0.get(serial).ok_or_else(|| PayCryptoError::UnknownSerial(serial.to_owned()))?;
        key.verify(&wechat_message(timestamp, nonce, body), signature)
    }
}

fn aes_key(apiv3_key: &[u8]) -> Result<LessSafeKey, PayCryptoError> {
    Ok(LessSafeKey::new(UnboundKey::new(&AES_256_GCM, apiv3_key).map_err(|_| PayCryptoError::BadKey)?))
}

/// Decrypts a notification `resource` (AEAD_AES_256_GCM; the tag is the last 16 bytes of the
/// ciphertext; the nonce is the 12-character string as bytes).
pub fn decrypt_resource(
    apiv3_key: &[u8],
    nonce: &str,
    associated_data: &str,
    ciphertext_b64: &str,
) -> Result<Vec<u8>, PayCryptoError> {
    let key = aes_key(apiv3_key)?;
    let nonce = Nonce::try_assume_unique_for_key(nonce.as_bytes()).map_err(|_| PayCryptoError::Undecryptable)?;
    let mut buf = B64.decode(ciphertext_b64).map_err(|_| PayCryptoError::Undecryptable)?;
    let plain = key
        .open_in_place(nonce, Aad::from(associated_data.as_bytes()), &mut buf)
        .map_err(|_| PayCryptoError::Undecryptable)?;
    Ok(plain.to_vec())
}

/// Encrypts a `resource` as WeChat Pay does (the fake server's side).
pub fn encrypt_resource(
    apiv3_key: &[u8],
    nonce: &str,
    associated_data: &str,
    plaintext: &[u8],
) -> Result<String, PayCryptoError> {
    let key = aes_key(apiv3_key)?;
    let nonce = Nonce::try_assume_unique_for_key(nonce.as_bytes()).map_err(|_| PayCryptoError::BadKey)?;
    let mut buf = plaintext.to_vec();
    key.seal_in_place_append_tag(nonce, Aad::from(associated_data.as_bytes()), &mut buf)
        .map_err(|_| PayCryptoError::BadKey)?;
    Ok(B64.encode(buf))
}

/// A random 32-character nonce, as WeChat Pay's examples use.
pub fn nonce_str() -> String {
    let mut bytes = [0u8; 16];
    let _ = aws_lc_rs::rand::fill(&mut bytes);
    hex::encode_upper(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    // A key made for these tests only (openssl genpkey), with signatures made by openssl.
    const TEST_KEY: &[u8] = include_bytes!("testdata/test_merchant_key.pk8.der");
    const TEST_PUB: &[u8] = include_bytes!("testdata/test_merchant_pub.spki.der");
    const JSAPI_BODY: &str = r#"{"appid":"wxd678efh567hg6787","mchid":"1230000109"}"#;
    const OPENSSL_REQUEST_SIG: &str = "Lavo4K5cVv//cOLvmFqY15po3nA9WmoRrxDTKrd0FxwLHd2zQxIFc8JWOjYuBLuAc5Xjd+VIzEDDOwjrI6CDJd2xkQaAeaRA/PZkXAAGYyJs0KZaFgN+V8f9Sp9yBGUpc2AoPbz5J0XFIPjTmq/2tu0g6aG/3Ow+RX/rYv5Zs+rtHpkZkbSx2YAv6AbdOL8JfRc9m0pQ/fbJrxJ9q9rKn0YC9usOaRNEP2quxacJngObZVHr5v7SkJomKyrCz8qnZLNtQHTCl0h+XxPRqZVxfg1tFvj8iBdUOjGjVVdQaQfYwcCSQxx3IOyOdPJ1EDXKYLWjgY1d9Yq6zLvRLcGWsw==";
    const OPENSSL_PAY_SIG: &str = "JM8lij8FjXSqhB/b54r/gQvCmCEX9RvAKAnkju7TLIjS0Qvj19pRtXiud/T+tyz8EeJ08z4x9q2Gb12hFYwrnKVBoFpWWUrygRYGq8+p0dmF0YI8Zke5+nvX0nSazB1Q/mR9xdtwhK++HwUrNpTwNppuIsvfb5QouM5FMnX0bmGEEhJFGAg5Xt/c6kKjY+0/NK4I8pibrw1sIliMIYTt82m8s8kgw0lZk7ulpU/sqdoAfLAXJuMoYoxgmvWCNgzaKyFXmirF3JVD5lP2wijzrrqcUwjkB9Hum4RoNqDZ4YQHxMJ6lWuIASKcNQFIM68cipRT7O7A6B16Crmds0SKcw==";
    // AESGCM from Python's `cryptography` over a transaction notification resource.
    const APIV3_KEY: &[u8] = b"0123456789abcdefghijklmnopqrstuv";
    const PY_CIPHERTEXT: &str = "kdUy8AAEd+F97t+v/8pygRXtZH4tC3RtMchS24m9Vng9yHRmM42GF+z/oI6VV5XRrTHDjRbuQcOvBYq9jNsZHTq6GmO36/m1ViZB2L4CNPkOZO99RAPGM1S7fznIYCMiYBhv8pEqNr0Kq/UGhNIRHMnWJ3rIsIFkO1DkxKPMIxAYB6sHecPRALsYyPTs3Ubf49Bjow2MquA7+oJA7mOYZO5qcMF1ILuPvmv/bUZAf9judEewUj5A/ZNGnO/hWH8X2rkAo0Gduhr0OLDlMWoajwFmeM++QR4ijGLUcbKmFV6PRf0cOJR64wgM83ZAq8KWWMF2uMFnRqDtZqhI7Ex340NfjDcsIGl7pj0=";

    #[test]
    fn request_signature_matches_openssl() {
        let signer = RsaSigner::from_pkcs8_der(TEST_KEY).expect("key");
        let message = request_message(
            "POST",
            "/v3/pay/transactions/jsapi",
            1554208460,
            "593BEC0C930BF1AFEB40B4A08C8FB242",
            JSAPI_BODY,
        );
        assert_eq!(signer.sign(&message), OPENSSL_REQUEST_SIG);
        let header = authorization(
            "1230000109",
            "SERIAL1",
            &signer,
            ("POST", "/v3/pay/transactions/jsapi", 1554208460, "593BEC0C930BF1AFEB40B4A08C8FB242", JSAPI_BODY),
        );
        let fields = parse_authorization(&header).expect("parses");
        assert_eq!(fields["signature"], OPENSSL_REQUEST_SIG);
        assert_eq!(
            (fields["mchid"].as_str(), fields["serial_no"].as_str(), fields["timestamp"].as_str()),
            ("1230000109", "SERIAL1", "1554208460")
        );
    }

    #[test]
    fn pay_sign_matches_openssl() {
        let signer = RsaSigner::from_pkcs8_der(TEST_KEY).expect("key");
        let message = pay_sign_message(
            "wx8888888888888888",
            "1414561699",
            "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
            "prepay_id=wx201410272009395522657a690389285100",
        );
        assert_eq!(signer.sign(&message), OPENSSL_PAY_SIG);
    }

    #[test]
    fn notification_signatures_verify_by_serial_and_fail_when_anything_changes() {
        let signer = RsaSigner::from_pkcs8_der(TEST_KEY).expect("key");
        let keys =
            PlatformKeys::parse(&format!("OLD:{};NEW:{}", B64.encode(TEST_PUB), B64.encode(TEST_PUB))).expect("keys");
        let body = r#"{"id":"EV-2018022511223320873","event_type":"TRANSACTION.SUCCESS"}"#;
        let sig = signer.sign(&wechat_message("1554209980", "c5ac7061fccab6bf3e254dcf98995b8c", body));
        assert_eq!(keys.verify("NEW", "1554209980", "c5ac7061fccab6bf3e254dcf98995b8c", body, &sig), Ok(()));
        assert_eq!(keys.verify("OLD", "1554209980", "c5ac7061fccab6bf3e254dcf98995b8c", body, &sig), Ok(()));
        assert_eq!(
            keys.verify("X", "1554209980", "c5ac7061fccab6bf3e254dcf98995b8c", body, &sig),
            Err(PayCryptoError::UnknownSerial("X".into()))
        );
        let tampered = body.replace("SUCCESS", "SUCCESS ");
        assert_eq!(
            keys.verify("NEW", "1554209980", "c5ac7061fccab6bf3e254dcf98995b8c", &tampered, &sig),
            Err(PayCryptoError::BadSignature)
        );
        assert_eq!(
            keys.verify("NEW", "1554209981", "c5ac7061fccab6bf3e254dcf98995b8c", body, &sig),
            Err(PayCryptoError::BadSignature)
        );
        // The fixed openssl signature over the request message verifies with the public key.
        let message = request_message(
            "POST",
            "/v3/pay/transactions/jsapi",
            1554208460,
            "593BEC0C930BF1AFEB40B4A08C8FB242",
            JSAPI_BODY,
        );
        assert_eq!(RsaVerifier::from_der(TEST_PUB).verify(&message, OPENSSL_REQUEST_SIG), Ok(()));
    }

    #[test]
    fn resource_decrypts_pythons_aes_gcm_and_refuses_tampering() {
        let plain = decrypt_resource(APIV3_KEY, "fdasflkja484", "transaction", PY_CIPHERTEXT).expect("decrypts");
        let v: serde_json::Value = serde_json::from_slice(&plain).expect("json");
        assert_eq!((v["trade_state"].as_str(), v["amount"]["total"].as_u64()), (Some("SUCCESS"), Some(100)));
        assert_eq!(
            decrypt_resource(APIV3_KEY, "fdasflkja484", "refund", PY_CIPHERTEXT),
            Err(PayCryptoError::Undecryptable)
        );
        assert_eq!(
            decrypt_resource(b"1123456789abcdefghijklmnopqrstuv", "fdasflkja484", "transaction", PY_CIPHERTEXT),
            Err(PayCryptoError::Undecryptable)
        );
        let mut raw = B64.decode(PY_CIPHERTEXT).expect("b64");
        raw[10] ^= 1;
        assert_eq!(
            decrypt_resource(APIV3_KEY, "fdasflkja484", "transaction", &B64.encode(raw)),
            Err(PayCryptoError::Undecryptable)
        );
        let again = encrypt_resource(APIV3_KEY, "fdasflkja484", "transaction", &plain).expect("encrypts");
        assert_eq!(again, PY_CIPHERTEXT, "GCM with the same key and nonce is deterministic");
    }
}
