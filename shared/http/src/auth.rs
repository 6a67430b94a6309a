//! Session tokens: short-lived HS256 JWTs we issue after a WeChat login, and the check every
//! route but login and the payment webhook runs first.

use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use lambda_http::Request;
use lambda_http::http::header;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use yunzhao_domain::{Role, User, UserId};

use crate::Code;

const ISSUER: &str = "yunzhao";
const AUDIENCE: &str = "yunzhao-api";
/// A signing key shorter than this is a configuration mistake, refused at start-up.
const MIN_KEY_BYTES: usize = 32;

/// Who is calling, as proven by their token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: UserId,
    pub roles: Vec<Role>,
    /// The schools a reviewer or school admin works for (staff only).
    pub school_ids: Vec<String>,
}

impl Principal {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Whether the caller acts as `role` for `school_id`: operators everywhere, the role's
    /// holders in the schools they were granted.
    pub fn acts_for(&self, role: Role, school_id: &str) -> bool {
        self.has(Role::Operator) || (self.has(role) && self.school_ids.iter().any(|s| s == school_id))
    }

    /// Customer service and operators work across every school.
    pub fn serves_all_schools(&self) -> bool {
        self.has(Role::Operator) || self.has(Role::CustomerService)
    }

    /// Refuses callers without `role` (403: they are known, just not allowed).
    pub fn require(&self, role: Role) -> Result<(), crate::ApiError> {
        if self.has(role) { Ok(()) } else { Err(crate::ApiError::forbidden()) }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    roles: Vec<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    school_id: Option<String>,
    iss: String,
    aud: String,
    iat: i64,
    exp: i64,
    jti: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct IssuedToken {
    pub token: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("SESSION_SIGNING_KEY must be base64")]
    NotBase64,
    #[error("SESSION_SIGNING_KEY must hold at least {MIN_KEY_BYTES} bytes")]
    TooShort,
}

/// The key that signs and verifies session tokens, and how long a session lasts.
pub struct SessionKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl SessionKeys {
    pub fn from_base64(secret: &str, ttl: Duration) -> Result<Self, KeyError> {
        let bytes = base64::engine::general_purpose::STANDARD.decode(secret.trim()).map_err(|_| KeyError::NotBase64)?;
        if bytes.len() < MIN_KEY_BYTES {
            return Err(KeyError::TooShort);
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = 5;
        Ok(Self {
            encoding: EncodingKey::from_secret(&bytes),
            decoding: DecodingKey::from_secret(&bytes),
            validation,
            ttl,
        })
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A token for `user`, valid from `now` for the session lifetime.
    pub fn issue(&self, user: &User, now: OffsetDateTime) -> IssuedToken {
        let expires_at = now + self.ttl;
        let claims = Claims {
            sub: user.id.to_string(),
            roles: user.roles.clone(),
            school_id: user.school_id.clone(),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now.unix_timestamp(),
            exp: expires_at.unix_timestamp(),
            jti: uuid::Uuid::new_v4().simple().to_string(),
        };
        // HS256 over our own serialisable claims cannot fail.
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).unwrap_or_default();
        IssuedToken { token, expires_at }
    }

    /// Checks signature, algorithm, issuer, audience and expiry (against the system clock).
    pub fn verify(&self, token: &str) -> Result<Principal, crate::ApiError> {
        let data =
            jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => token_expired(),
                _ => invalid_token().with_detail(format!("{:?}", e.kind())),
            })?;
        let claims = data.claims;
        let user_id = UserId::parse(&claims.sub).map_err(|_| invalid_token().with_detail("bad sub"))?;
        // A bearer token is a student's: staff powers come only from a staff session.
        let roles = claims.roles.into_iter().filter(|r| *r == Role::Student).collect();
        Ok(Principal { user_id, roles, school_ids: Vec::new() })
    }

    /// The caller of `req`, from `Authorization: Bearer <token>`.
    pub fn authenticate(&self, req: &Request) -> Result<Principal, crate::ApiError> {
        let value = req
            .headers()
            .get(header::AUTHORIZATION)
            .ok_or_else(missing_token)?
            .to_str()
            .map_err(|_| invalid_token())?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or_else(|| invalid_token().with_detail("not a bearer token"))?;
        self.verify(token.trim())
    }
}

fn missing_token() -> crate::ApiError {
    crate::ApiError::from(Code::MissingToken)
}

fn invalid_token() -> crate::ApiError {
    crate::ApiError::from(Code::InvalidToken)
}

fn token_expired() -> crate::ApiError {
    crate::ApiError::from(Code::TokenExpired)
}

#[cfg(test)]
mod tests {
    use super::*;
    use yunzhao_domain::{OpenId, WeChatIdentity};

    const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="; // 32 bytes, tests only
    const OTHER_KEY: &str = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=";

    fn keys(secret: &str) -> SessionKeys {
        SessionKeys::from_base64(secret, Duration::hours(2)).expect("valid key")
    }

    fn user() -> User {
        let identity = WeChatIdentity { openid: OpenId::parse("oStudent0001").expect("valid"), unionid: None };
        User::first_login(&identity, OffsetDateTime::now_utc())
    }

    #[test]
    fn given_a_fresh_token_then_it_verifies_to_its_user_and_roles() {
        let (k, u) = (keys(KEY), user());
        let issued = k.issue(&u, OffsetDateTime::now_utc());
        let p = k.verify(&issued.token).expect("valid token");
        assert_eq!(p.user_id, u.id);
        assert_eq!(p.roles, vec![Role::Student]);
        assert!(!p.has(Role::Reviewer));
    }

    #[test]
    fn given_a_token_signed_with_another_key_then_invalid_token() {
        let issued = keys(OTHER_KEY).issue(&user(), OffsetDateTime::now_utc());
        assert_eq!(keys(KEY).verify(&issued.token).map_err(|e| e.code), Err("invalid_token"));
    }

    #[test]
    fn given_an_expired_token_then_token_expired() {
        let k = keys(KEY);
        let issued = k.issue(&user(), OffsetDateTime::now_utc() - Duration::hours(3));
        assert_eq!(
            k.verify(&issued.token).map_err(|e| (e.status, e.code)),
            Err((lambda_http::http::StatusCode::UNAUTHORIZED, "token_expired"))
        );
    }

    #[test]
    fn given_a_token_with_a_changed_role_then_invalid_token() {
        let k = keys(KEY);
        let token = k.issue(&user(), OffsetDateTime::now_utc()).token;
        let parts: Vec<&str> = token.split('.').collect();
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let payload = String::from_utf8(b64.decode(parts[1]).expect("b64")).expect("utf8");
        let forged = b64.encode(payload.replace("student", "operator"));
        let tampered = format!("{}.{}.{}", parts[0], forged, parts[2]);
        assert_eq!(k.verify(&tampered).map_err(|e| e.code), Err("invalid_token"));
    }

    #[test]
    fn given_an_unsigned_token_then_invalid_token() {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = b64.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let body = b64.encode(format!(
            r#"{{"sub":"{}","roles":["operator"],"iss":"yunzhao","aud":"yunzhao-api","iat":0,"exp":9999999999,"jti":"x"}}"#,
            user().id
        ));
        assert_eq!(keys(KEY).verify(&format!("{header}.{body}.")).map_err(|e| e.code), Err("invalid_token"));
    }

    #[test]
    fn short_or_malformed_keys_are_refused() {
        assert!(matches!(SessionKeys::from_base64("c2hvcnQ=", Duration::hours(1)), Err(KeyError::TooShort)));
        assert!(matches!(SessionKeys::from_base64("not base64!", Duration::hours(1)), Err(KeyError::NotBase64)));
    }
}
