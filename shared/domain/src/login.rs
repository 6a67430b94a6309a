//! Logging in with WeChat: a `wx.login` code is exchanged at WeChat for the person's openid.
//! The session_key WeChat returns alongside is dropped by the adapter: nothing here needs it,
//! so it is neither stored nor passed on.

use std::future::Future;
use std::time::Duration;

use time::OffsetDateTime;

use crate::user::{OpenId, User, UserRepo, UserRepoError};

/// A code WeChat hands a client for one exchange (the mini-program's `wx.login` code, the
/// website login's redirect code): single use, valid for minutes, never shown in logs.
#[derive(Clone, PartialEq, Eq)]
pub struct WeChatCode(String);

impl WeChatCode {
    pub fn parse(s: &str) -> Option<Self> {
        let ok = (1..=128).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic());
        ok.then(|| Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for WeChatCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WeChatCode(…)")
    }
}

/// A `wx.login` code as the mini-program sends it: about five minutes.
pub type LoginCode = WeChatCode;

/// Who WeChat says the code belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeChatIdentity {
    pub openid: OpenId,
    pub unionid: Option<String>,
}

/// Why a login failed. WeChat's errcodes map onto these in the adapter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    #[error("the login code is not valid")]
    InvalidCode,
    #[error("the login code was already used")]
    CodeUsed,
    #[error("WeChat is rate-limiting logins")]
    RateLimited,
    #[error("WeChat is busy")]
    Busy,
    /// Wrong appid or secret: an operator must fix the configuration.
    #[error("WeChat rejected our app credentials (errcode {0})")]
    Misconfigured(i64),
    #[error("WeChat answered errcode {errcode}")]
    Upstream { errcode: i64 },
    /// WeChat could not be reached or answered something that is not its protocol.
    #[error("WeChat unreachable: {0}")]
    Unreachable(String),
    #[error(transparent)]
    Store(#[from] UserRepoErrorKind),
}

/// The part of a store failure a login caller needs (kept `Clone` for retries and tests).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserRepoErrorKind {
    #[error("user store unavailable")]
    Unavailable,
    #[error("user record corrupt")]
    Corrupt,
}

impl From<UserRepoError> for LoginError {
    fn from(e: UserRepoError) -> Self {
        match e {
            UserRepoError::Unavailable(_) => LoginError::Store(UserRepoErrorKind::Unavailable),
            UserRepoError::Corrupt(_) => LoginError::Store(UserRepoErrorKind::Corrupt),
        }
    }
}

impl LoginError {
    /// Worth one quick retry: WeChat documents -1 as "system busy, try again".
    pub fn is_transient(&self) -> bool {
        matches!(self, LoginError::Busy | LoginError::Unreachable(_))
    }
}

/// Port: WeChat's `jscode2session`.
pub trait WeChatLogin: Send + Sync {
    fn code_to_session(&self, code: &LoginCode) -> impl Future<Output = Result<WeChatIdentity, LoginError>> + Send;
}

/// Pause before the single retry of a transient WeChat failure; short, the mini-program waits.
pub const RETRY_PAUSE: Duration = Duration::from_millis(200);

/// The login use case: exchange the code (one retry when WeChat is busy), then create or
/// update the user. `pause` is how the caller waits (tokio's sleep in the function).
pub async fn log_in<W, R, P, F>(
    wechat: &W,
    users: &R,
    code: &LoginCode,
    now: OffsetDateTime,
    pause: P,
) -> Result<User, LoginError>
where
    W: WeChatLogin,
    R: UserRepo,
    P: FnOnce(Duration) -> F,
    F: Future<Output = ()>,
{
    let identity = match wechat.code_to_session(code).await {
        Err(e) if e.is_transient() => {
            pause(RETRY_PAUSE).await;
            wechat.code_to_session(code).await?
        }
        other => other?,
    };
    Ok(users.record_login(&identity, now).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::run;
    use crate::user::memory::MemoryUsers as Users;
    use std::sync::Mutex;

    struct ScriptedWeChat(Mutex<Vec<Result<WeChatIdentity, LoginError>>>);

    impl WeChatLogin for ScriptedWeChat {
        async fn code_to_session(&self, _code: &LoginCode) -> Result<WeChatIdentity, LoginError> {
            self.0.lock().expect("lock").remove(0)
        }
    }

    fn identity() -> WeChatIdentity {
        WeChatIdentity { openid: OpenId::parse("oStudent0001").expect("valid"), unionid: None }
    }

    async fn no_pause(_: Duration) {}

    #[test]
    fn given_busy_once_when_logging_in_then_retries_and_succeeds() {
        let wechat = ScriptedWeChat(Mutex::new(vec![Err(LoginError::Busy), Ok(identity())]));
        let users = Users::default();
        let code = LoginCode::parse("code-1").expect("valid");
        let user = run(log_in(&wechat, &users, &code, OffsetDateTime::UNIX_EPOCH, no_pause)).expect("login");
        assert_eq!(user.openid, identity().openid);
    }

    #[test]
    fn given_busy_twice_when_logging_in_then_busy_is_reported() {
        let wechat = ScriptedWeChat(Mutex::new(vec![Err(LoginError::Busy), Err(LoginError::Busy)]));
        let code = LoginCode::parse("code-1").expect("valid");
        let err = run(log_in(&wechat, &Users::default(), &code, OffsetDateTime::UNIX_EPOCH, no_pause));
        assert_eq!(err, Err(LoginError::Busy));
    }

    #[test]
    fn given_a_used_code_when_logging_in_then_no_retry_and_no_user() {
        let wechat = ScriptedWeChat(Mutex::new(vec![Err(LoginError::CodeUsed), Ok(identity())]));
        let users = Users::default();
        let code = LoginCode::parse("code-1").expect("valid");
        let err = run(log_in(&wechat, &users, &code, OffsetDateTime::UNIX_EPOCH, no_pause));
        assert_eq!(err, Err(LoginError::CodeUsed));
        assert!(users.0.lock().expect("lock").is_empty());
    }

    #[test]
    fn given_two_logins_of_one_person_then_one_user_counted_twice() {
        let wechat = ScriptedWeChat(Mutex::new(vec![Ok(identity()), Ok(identity())]));
        let users = Users::default();
        let code = LoginCode::parse("code-1").expect("valid");
        let first = run(log_in(&wechat, &users, &code, OffsetDateTime::UNIX_EPOCH, no_pause)).expect("login");
        let second = run(log_in(&wechat, &users, &code, OffsetDateTime::UNIX_EPOCH, no_pause)).expect("login");
        assert_eq!(first.id, second.id);
        assert_eq!(second.login_count, 2);
    }

    #[test]
    fn login_code_rejects_empty_overlong_and_control_characters() {
        assert_eq!(LoginCode::parse(""), None);
        assert_eq!(LoginCode::parse(&"a".repeat(129)), None);
        assert_eq!(LoginCode::parse("ab\ncd"), None);
        assert!(LoginCode::parse("081aBc000abcDEF1").is_some());
    }
}
