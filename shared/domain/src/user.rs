//! Users: one per WeChat openid, known to the rest of the system by our own [`UserId`].

use std::fmt;
use std::future::Future;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::login::WeChatIdentity;

/// Our id for a person. Tokens and records carry this, never the openid.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UserId(String);

impl UserId {
    pub fn random() -> Self {
        Self(format!("u_{}", uuid::Uuid::new_v4().simple()))
    }

    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let ok = s.len() == 34
            && s.starts_with("u_")
            && s[2..].bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
        if ok { Ok(Self(s.to_owned())) } else { Err(InvalidValue("user id")) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for UserId {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<UserId> for String {
    fn from(id: UserId) -> Self {
        id.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A WeChat openid (per mini-program). It identifies a person to WeChat, so `Debug` masks it.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OpenId(String);

impl OpenId {
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let ok = (6..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if ok { Ok(Self(s.to_owned())) } else { Err(InvalidValue("openid")) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for OpenId {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<OpenId> for String {
    fn from(id: OpenId) -> Self {
        id.0
    }
}

impl fmt::Debug for OpenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}…", &self.0[..4])
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid {0}")]
pub struct InvalidValue(pub &'static str);

/// What a person may do. Students are everyone who logs in; staff roles are granted by an
/// operator and are separate (a reviewer is not a school admin).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Student,
    Reviewer,
    SchoolAdmin,
    CustomerService,
    Operator,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub openid: OpenId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unionid: Option<String>,
    pub roles: Vec<Role>,
    /// The school a school admin acts for; `None` for everyone else.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub school_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_login_at: OffsetDateTime,
    pub login_count: u64,
}

impl User {
    /// A person logging in for the first time: a student, nothing more.
    pub fn first_login(identity: &WeChatIdentity, now: OffsetDateTime) -> Self {
        Self {
            id: UserId::random(),
            openid: identity.openid.clone(),
            unionid: identity.unionid.clone(),
            roles: vec![Role::Student],
            school_id: None,
            created_at: now,
            last_login_at: now,
            login_count: 1,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UserRepoError {
    /// The store did not answer or refused for now; the caller may retry.
    #[error("user store unavailable: {0}")]
    Unavailable(String),
    /// A stored record that does not parse: a bug or a manual edit, not the caller's fault.
    #[error("user record corrupt: {0}")]
    Corrupt(String),
}

impl From<UserRepoError> for crate::StoreError {
    fn from(e: UserRepoError) -> Self {
        match e {
            UserRepoError::Unavailable(d) => Self::Unavailable(d),
            UserRepoError::Corrupt(d) => Self::Corrupt(d),
        }
    }
}

/// Port: where users live.
pub trait UserRepo: Send + Sync {
    /// Creates the user on first login (exactly one user per openid, even when two logins race)
    /// or records another login; returns the user as stored.
    fn record_login(
        &self,
        identity: &WeChatIdentity,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<User, UserRepoError>> + Send;

    fn get(&self, id: &UserId) -> impl Future<Output = Result<Option<User>, UserRepoError>> + Send;
}

#[cfg(any(test, feature = "memory"))]
pub mod memory {
    //! Users in memory: one per openid, as the real store keeps it.

    use std::sync::Mutex;

    use super::*;

    #[derive(Default)]
    pub struct MemoryUsers(pub Mutex<Vec<User>>);

    impl MemoryUsers {
        /// A store holding the user that first logged in as `openid` at the epoch.
        pub fn with_student(openid: &str) -> (Self, User) {
            let identity = WeChatIdentity { openid: OpenId::parse(openid).expect("valid openid"), unionid: None };
            let user = User::first_login(&identity, OffsetDateTime::UNIX_EPOCH);
            (Self(Mutex::new(vec![user.clone()])), user)
        }
    }

    impl UserRepo for MemoryUsers {
        async fn record_login(&self, identity: &WeChatIdentity, now: OffsetDateTime) -> Result<User, UserRepoError> {
            let mut users = self.0.lock().expect("lock");
            if let Some(u) = users.iter_mut().find(|u| u.openid == identity.openid) {
                u.login_count += 1;
                u.last_login_at = now;
                return Ok(u.clone());
            }
            let u = User::first_login(identity, now);
            users.push(u.clone());
            Ok(u)
        }

        async fn get(&self, id: &UserId) -> Result<Option<User>, UserRepoError> {
            Ok(self.0.lock().expect("lock").iter().find(|u| &u.id == id).cloned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_user_ids_parse_back_and_differ() {
        let (a, b) = (UserId::random(), UserId::random());
        assert_eq!(UserId::parse(a.as_str()), Ok(a.clone()));
        assert_ne!(a, b);
    }

    #[test]
    fn user_id_rejects_foreign_shapes() {
        for bad in ["", "u_", "u_XYZ", "x_0123456789abcdef0123456789abcdef", "u_0123456789ABCDEF0123456789abcdef"] {
            assert!(UserId::parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn openid_debug_is_masked() {
        let id = OpenId::parse("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o").expect("valid openid");
        assert_eq!(format!("{id:?}"), "oUpF…");
    }

    #[test]
    fn openid_rejects_injection_and_empty() {
        for bad in ["", "abc", "o#1234567", "oUpF8uMu AJO", "oUpF8uMu\"x"] {
            assert!(OpenId::parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn first_login_is_a_student_only() {
        let identity = WeChatIdentity { openid: OpenId::parse("oStudent0001").expect("valid"), unionid: None };
        let now = OffsetDateTime::UNIX_EPOCH;
        let user = User::first_login(&identity, now);
        assert_eq!(user.roles, vec![Role::Student]);
        assert_eq!(user.login_count, 1);
        assert_eq!(user.school_id, None);
    }
}
