//! Staff requests: the console's session cookie (HttpOnly, so page scripts never hold the
//! credential) checked against the stored session and account on every request, and the
//! CSRF header on every state-changing one. Students keep their bearer tokens
//! ([`crate::SessionKeys`]); the two never stand in for each other.

use lambda_http::Request;
use lambda_http::http::{Method, header};
use yunzhao_domain::staff::{self, Secret, SessionPolicy, StaffAuthError, StaffStore};

use crate::{ApiError, Code, Principal};

/// The session cookie: `__Host-` pins it to this origin, path `/`, Secure.
pub const SESSION_COOKIE: &str = "__Host-yz_staff";
/// The sign-in state cookie, bound to one QR round trip (SameSite=Lax: it must come back on
/// WeChat's top-level redirect to the callback).
pub const SIGNIN_COOKIE: &str = "__Host-yz_signin";
/// Page scripts send the session's CSRF token in this header.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The value of cookie `name` in the request, if sent.
pub fn cookie(req: &Request, name: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
}

/// `Set-Cookie` for the session (or, with `None`, the one that clears it).
pub fn session_cookie(token: Option<&Secret>, max_age_seconds: i64) -> String {
    match token {
        Some(t) => format!(
            "{SESSION_COOKIE}={}; Path=/; Max-Age={max_age_seconds}; HttpOnly; Secure; SameSite=Strict",
            t.as_str()
        ),
        None => format!("{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict"),
    }
}

/// `Set-Cookie` for the sign-in state (or, with `None`, the one that clears it).
pub fn signin_cookie(value: Option<&str>) -> String {
    match value {
        Some(v) => format!("{SIGNIN_COOKIE}={v}; Path=/; Max-Age=600; HttpOnly; Secure; SameSite=Lax"),
        None => format!("{SIGNIN_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax"),
    }
}

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

pub fn not_signed_in() -> ApiError {
    ApiError::from(Code::NotSignedIn)
}

pub fn auth_error(e: StaffAuthError) -> ApiError {
    match e {
        StaffAuthError::NotSignedIn => not_signed_in(),
        StaffAuthError::Expired => ApiError::from(Code::SessionExpired),
        StaffAuthError::Revoked => ApiError::from(Code::SessionRevoked),
        StaffAuthError::CsrfFailed => ApiError::from(Code::CsrfFailed),
        StaffAuthError::Store(e) => ApiError::store(e),
    }
}

/// Checks staff requests of one function against the session store.
pub struct StaffGate<S> {
    pub store: S,
    pub policy: SessionPolicy,
}

impl<S: StaffStore> StaffGate<S> {
    pub fn new(store: S, policy: SessionPolicy) -> Self {
        Self { store, policy }
    }

    /// The staff member calling, with their roles and schools as they are now.
    pub async fn authenticate(&self, req: &Request) -> Result<Principal, ApiError> {
        self.caller(req).await.map(|(p, _)| p)
    }

    /// The caller and the session's token and record (for the session routes themselves).
    pub async fn caller(&self, req: &Request) -> Result<(Principal, staff::StaffCaller), ApiError> {
        let token = cookie(req, SESSION_COOKIE).ok_or_else(not_signed_in)?;
        let token = Secret::parse(&token).map_err(|_| not_signed_in())?;
        let csrf = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        let now = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
        let caller = staff::authenticate(&self.store, &token, csrf, changes_state(req.method()), self.policy, now)
            .await
            .map_err(auth_error)?;
        let principal = Principal {
            user_id: caller.account.id.clone(),
            roles: caller.account.roles.clone(),
            school_ids: caller.account.school_ids.clone(),
        };
        Ok((principal, caller))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request_with_cookie(value: &str) -> Request {
        let mut req = Request::default();
        req.headers_mut().insert(header::COOKIE, value.parse().expect("header"));
        req
    }

    #[test]
    fn the_session_cookie_is_read_among_others() {
        let req = request_with_cookie("a=1; __Host-yz_staff=abc ; b=2");
        assert_eq!(cookie(&req, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&req, SIGNIN_COOKIE), None);
    }

    #[test]
    fn session_cookies_are_http_only_secure_and_strict() {
        let c = session_cookie(Some(&Secret::random()), 36000);
        for part in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/", "Max-Age=36000"] {
            assert!(c.contains(part), "{c}");
        }
        assert!(session_cookie(None, 0).contains("Max-Age=0"));
    }

    #[test]
    fn reads_are_not_state_changing_writes_are() {
        assert!(!changes_state(&Method::GET));
        for m in [Method::POST, Method::PUT, Method::DELETE, Method::PATCH] {
            assert!(changes_state(&m), "{m}");
        }
    }
}
