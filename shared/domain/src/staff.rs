//! Staff: reviewers, school admins, customer service and operators, who work in the web
//! console. They sign in with WeChat's website QR login (open platform 网站应用), are known by
//! their `unionid`, and get their roles and schools from an operator's one-time invitation
//! (the deployment's first operator from a configured unionid). A sign-in opens a short
//! staff session (a working day, with an idle timeout); every request reads the account
//! afresh, so a revoked account or a removed role or school is refused at the next click.
//!
//! Secrets (session tokens, invitation secrets) are random here and only ever stored hashed:
//! the store is handed the token and keeps its hash.

use std::future::Future;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::user::{InvalidValue, Role, UserId};

/// A WeChat unionid: one person across the open platform's apps.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UnionId(String);

impl UnionId {
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let ok = (6..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if ok { Ok(Self(s.to_owned())) } else { Err(InvalidValue("unionid")) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for UnionId {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<UnionId> for String {
    fn from(id: UnionId) -> Self {
        id.0
    }
}

impl std::fmt::Debug for UnionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}…", &self.0[..4])
    }
}

/// What staff may do, and where. Reviewers and school admins are scoped to schools; customer
/// service and operators work across all of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub roles: Vec<Role>,
    pub school_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    #[error("a staff member needs at least one staff role")]
    NoRole,
    #[error("student is not a staff role")]
    StudentRole,
    #[error("reviewers and school admins need the schools they work for")]
    SchoolsRequired,
    #[error("a school admin acts for exactly one school")]
    OneSchoolForAdmin,
    #[error("customer service and operators see all schools; name no schools for them alone")]
    SchoolsNotApplicable,
    #[error("invalid school id")]
    BadSchoolId,
}

impl Grant {
    pub fn new(roles: Vec<Role>, school_ids: Vec<String>) -> Result<Self, GrantError> {
        let mut roles = roles;
        roles.sort_by_key(|r| *r as u8);
        roles.dedup();
        let mut school_ids: Vec<String> = school_ids.into_iter().map(|s| s.trim().to_owned()).collect();
        school_ids.sort();
        school_ids.dedup();
        if roles.is_empty() {
            return Err(GrantError::NoRole);
        }
        if roles.contains(&Role::Student) {
            return Err(GrantError::StudentRole);
        }
        if school_ids
            .iter()
            .any(|s| s.is_empty() || s.len() > 64 || !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        {
            return Err(GrantError::BadSchoolId);
        }
        let scoped = roles.iter().any(|r| matches!(r, Role::Reviewer | Role::SchoolAdmin));
        if scoped && school_ids.is_empty() {
            return Err(GrantError::SchoolsRequired);
        }
        if !scoped && !school_ids.is_empty() {
            return Err(GrantError::SchoolsNotApplicable);
        }
        if roles.contains(&Role::SchoolAdmin) && school_ids.len() != 1 {
            return Err(GrantError::OneSchoolForAdmin);
        }
        Ok(Self { roles, school_ids })
    }

    pub fn operator() -> Self {
        Self { roles: vec![Role::Operator], school_ids: Vec::new() }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffStatus {
    Active,
    Revoked,
}

/// A staff member. `id` is a [`UserId`] (our id for a person) in its own namespace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaffAccount {
    pub id: UserId,
    pub unionid: UnionId,
    /// The WeChat nickname at the last sign-in, or the invitation's label.
    pub name: String,
    pub roles: Vec<Role>,
    pub school_ids: Vec<String>,
    pub status: StaffStatus,
    pub created_at_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sign_in_at_ms: Option<i64>,
    /// Sessions opened before this are over (set when the member is revoked, so a later
    /// reactivation does not bring old browsers back).
    #[serde(default)]
    pub sessions_since_ms: i64,
}

impl StaffAccount {
    fn new(unionid: UnionId, name: String, grant: Grant, now_ms: i64) -> Self {
        Self {
            id: UserId::random(),
            unionid,
            name,
            roles: grant.roles,
            school_ids: grant.school_ids,
            status: StaffStatus::Active,
            created_at_ms: now_ms,
            last_sign_in_at_ms: None,
            sessions_since_ms: 0,
        }
    }

    pub fn grant(&self) -> Grant {
        Grant { roles: self.roles.clone(), school_ids: self.school_ids.clone() }
    }
}

/// A random secret handed to a browser or a person once; stores keep only its hash.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// 244 random bits (two v4 UUIDs from the OS's CSPRNG), hex.
    pub fn random() -> Self {
        Self(format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple()))
    }

    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let ok = s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
        if ok { Ok(Self(s.to_owned())) } else { Err(InvalidValue("secret")) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Equal in time independent of where the first difference is.
    pub fn matches(&self, other: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), other.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// An operator's one-time invitation: the next QR sign-in through its link gets `grant`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invitation {
    pub id: String,
    pub grant: Grant,
    pub label: String,
    pub invited_by: UserId,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_by: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_at_ms: Option<i64>,
    #[serde(default)]
    pub cancelled: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationStatus {
    Pending,
    Used,
    Expired,
    Cancelled,
}

/// How long an invitation link stays usable.
pub const INVITATION_TTL: Duration = Duration::from_secs(72 * 3600);

impl Invitation {
    pub fn new(grant: Grant, label: String, invited_by: UserId, now_ms: i64) -> Self {
        Self {
            id: format!("i_{}", uuid::Uuid::new_v4().simple()),
            grant,
            label,
            invited_by,
            created_at_ms: now_ms,
            expires_at_ms: now_ms + INVITATION_TTL.as_millis() as i64,
            used_by: None,
            used_at_ms: None,
            cancelled: false,
        }
    }

    pub fn status(&self, now_ms: i64) -> InvitationStatus {
        if self.used_by.is_some() {
            InvitationStatus::Used
        } else if self.cancelled {
            InvitationStatus::Cancelled
        } else if now_ms >= self.expires_at_ms {
            InvitationStatus::Expired
        } else {
            InvitationStatus::Pending
        }
    }
}

/// The link form of an invitation: `<id>.<secret>`.
#[derive(Clone, PartialEq, Eq)]
pub struct InvitationToken {
    pub id: String,
    pub secret: Secret,
}

impl InvitationToken {
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let (id, secret) = s.split_once('.').ok_or(InvalidValue("invitation"))?;
        let id_ok = id.len() == 34 && id.starts_with("i_") && id[2..].bytes().all(|b| b.is_ascii_hexdigit());
        if !id_ok {
            return Err(InvalidValue("invitation"));
        }
        Ok(Self { id: id.to_owned(), secret: Secret::parse(secret).map_err(|_| InvalidValue("invitation"))? })
    }

    pub fn render(&self) -> String {
        format!("{}.{}", self.id, self.secret.as_str())
    }
}

impl std::fmt::Debug for InvitationToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "InvitationToken({}.…)", self.id)
    }
}

/// How long staff sessions last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// From sign-in, whatever happens (a working day).
    pub lifetime: Duration,
    /// Without a request, the session ends after this.
    pub idle: Duration,
}

impl SessionPolicy {
    pub const fn new(lifetime: Duration, idle: Duration) -> Self {
        Self { lifetime, idle }
    }
}

/// A signed-in browser. Keyed in the store by the hash of its token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaffSession {
    pub staff_id: UserId,
    /// Sent back by page scripts on every state-changing request (the cookie is HttpOnly).
    pub csrf_token: String,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
    pub last_seen_at_ms: i64,
}

/// Requests within this of the last recorded one do not write `last_seen_at` again.
pub const TOUCH_EVERY_MS: i64 = 60_000;

impl StaffSession {
    fn open(staff_id: UserId, policy: SessionPolicy, now_ms: i64) -> Self {
        Self {
            staff_id,
            csrf_token: Secret::random().0,
            created_at_ms: now_ms,
            expires_at_ms: now_ms + policy.lifetime.as_millis() as i64,
            last_seen_at_ms: now_ms,
        }
    }

    pub fn is_live(&self, policy: SessionPolicy, now_ms: i64) -> bool {
        now_ms < self.expires_at_ms && now_ms - self.last_seen_at_ms < policy.idle.as_millis() as i64
    }
}

/// A website-login `code` from WeChat's redirect: about ten minutes.
pub type WebCode = crate::login::WeChatCode;

/// Who WeChat says scanned the QR code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebIdentity {
    pub openid: String,
    /// Absent when the website app is not bound to the open-platform account: a setup error.
    pub unionid: Option<UnionId>,
    /// The WeChat nickname (`/sns/userinfo`), empty when WeChat did not give one.
    pub nickname: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignInError {
    #[error("the sign-in code is not valid")]
    InvalidCode,
    #[error("the sign-in code was already used")]
    CodeUsed,
    #[error("the sign-in code expired")]
    CodeExpired,
    #[error("WeChat is busy or unreachable: {0}")]
    Unavailable(String),
    #[error("WeChat rejected our website app's credentials (errcode {0})")]
    Misconfigured(i64),
    #[error("WeChat gave no unionid: bind the website app to the open-platform account")]
    NoUnionId,
    #[error("the invitation is not valid (used, expired, cancelled or unknown)")]
    InvitationInvalid,
    #[error("this WeChat account is not staff")]
    NotStaff,
    #[error("this staff account was revoked")]
    Revoked,
    /// An invitation opened by someone already staff: their grant is an operator's to change.
    #[error("already staff: an operator changes roles in the staff list")]
    AlreadyStaff,
    #[error(transparent)]
    Store(#[from] StaffStoreError),
}

/// What an operator changes on a member: the grant, or the access itself. Kept apart so two
/// operators acting at once cannot undo each other's revocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberChange {
    Grant(Grant),
    /// Revoked at this time: every session opened before it ends.
    Revoke {
        at_ms: i64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StaffStoreError {
    #[error("staff store unavailable: {0}")]
    Unavailable(String),
    #[error("staff record corrupt: {0}")]
    Corrupt(String),
}

/// Port: WeChat's `/sns/oauth2/access_token` for the website app.
pub trait WeChatWebLogin: Send + Sync {
    fn exchange(&self, code: &WebCode) -> impl Future<Output = Result<WebIdentity, SignInError>> + Send;
}

/// Port: staff accounts, invitations and sessions.
pub trait StaffStore: Send + Sync {
    fn by_unionid(
        &self,
        unionid: &UnionId,
    ) -> impl Future<Output = Result<Option<StaffAccount>, StaffStoreError>> + Send;
    fn get(&self, id: &UserId) -> impl Future<Output = Result<Option<StaffAccount>, StaffStoreError>> + Send;
    /// Creates the account and its unionid pointer; `false` when the unionid has one already.
    fn create(&self, account: &StaffAccount) -> impl Future<Output = Result<bool, StaffStoreError>> + Send;
    /// The invitation `token` names, if its secret matches.
    fn invitation(
        &self,
        token: &InvitationToken,
    ) -> impl Future<Output = Result<Option<Invitation>, StaffStoreError>> + Send;
    /// In one transaction: marks the invitation used by `account` (only while it is pending)
    /// and writes the account (creating its unionid pointer when `new`, else only while the
    /// stored account is still revoked); `false` when the invitation was taken, cancelled or
    /// expired meanwhile, or the account changed.
    fn accept_invitation(
        &self,
        invitation: &Invitation,
        account: &StaffAccount,
        new: bool,
        now_ms: i64,
    ) -> impl Future<Output = Result<bool, StaffStoreError>> + Send;
    fn record_sign_in(
        &self,
        id: &UserId,
        name: &str,
        now_ms: i64,
    ) -> impl Future<Output = Result<(), StaffStoreError>> + Send;
    fn put_session(
        &self,
        token: &Secret,
        session: &StaffSession,
    ) -> impl Future<Output = Result<(), StaffStoreError>> + Send;
    fn session(&self, token: &Secret) -> impl Future<Output = Result<Option<StaffSession>, StaffStoreError>> + Send;
    fn touch_session(&self, token: &Secret, now_ms: i64) -> impl Future<Output = Result<(), StaffStoreError>> + Send;
    fn delete_session(&self, token: &Secret) -> impl Future<Output = Result<(), StaffStoreError>> + Send;
}

/// Port: what operators manage — members, their grants, and invitations.
pub trait StaffDirectory: Send + Sync {
    fn members(&self) -> impl Future<Output = Result<Vec<StaffAccount>, StaffStoreError>> + Send;
    /// Applies `change` to the member; `None` when there is no such member.
    fn update_member(
        &self,
        id: &UserId,
        change: &MemberChange,
    ) -> impl Future<Output = Result<Option<StaffAccount>, StaffStoreError>> + Send;
    fn put_invitation(
        &self,
        invitation: &Invitation,
        secret: &Secret,
    ) -> impl Future<Output = Result<(), StaffStoreError>> + Send;
    fn invitations(&self) -> impl Future<Output = Result<Vec<Invitation>, StaffStoreError>> + Send;
    /// Cancels a pending invitation; `false` when it is not pending (or unknown).
    fn cancel_invitation(&self, id: &str, now_ms: i64) -> impl Future<Output = Result<bool, StaffStoreError>> + Send;
    /// The ids among `school_ids` that name no school.
    fn unknown_schools(
        &self,
        school_ids: &[String],
    ) -> impl Future<Output = Result<Vec<String>, StaffStoreError>> + Send;
}

/// A successful sign-in: the account as it now stands, and the new session's token.
#[derive(Debug)]
pub struct SignedIn {
    pub account: StaffAccount,
    pub token: Secret,
    pub session: StaffSession,
}

/// What a sign-in needs besides the code.
pub struct SignInContext<'a> {
    pub invitation: Option<&'a InvitationToken>,
    /// The unionid whose first sign-in becomes the deployment's first operator.
    pub first_operator: Option<&'a UnionId>,
    pub policy: SessionPolicy,
    pub now_ms: i64,
}

/// The sign-in use case: exchange the code (one retry when WeChat is busy), find or make the
/// staff account (an invitation applies its grant; the configured first operator's first
/// sign-in makes them operator; anyone else must already be staff), open a session.
pub async fn sign_in<W: WeChatWebLogin, S: StaffStore>(
    wechat: &W,
    store: &S,
    code: &WebCode,
    cx: SignInContext<'_>,
) -> Result<SignedIn, SignInError> {
    let identity = match wechat.exchange(code).await {
        Err(SignInError::Unavailable(_)) => wechat.exchange(code).await?,
        other => other?,
    };
    let unionid = identity.unionid.ok_or(SignInError::NoUnionId)?;
    let nickname = identity.nickname.trim().chars().take(40).collect::<String>();
    let existing = store.by_unionid(&unionid).await?;
    let account = match (cx.invitation, existing) {
        (Some(token), existing) => {
            let invitation = store.invitation(token).await?.ok_or(SignInError::InvitationInvalid)?;
            match existing {
                // Their own invitation link again (a bookmark, a retry): an ordinary sign-in.
                Some(a) if invitation.used_by.as_ref() == Some(&a.id) => {
                    if a.status == StaffStatus::Revoked {
                        return Err(SignInError::Revoked);
                    }
                    a
                }
                Some(a) if a.status == StaffStatus::Active => return Err(SignInError::AlreadyStaff),
                existing => {
                    if invitation.status(cx.now_ms) != InvitationStatus::Pending {
                        return Err(SignInError::InvitationInvalid);
                    }
                    let new = existing.is_none();
                    let account = match existing {
                        // A revoked member invited back: the new grant, their old sessions stay over.
                        Some(mut a) => {
                            a.roles = invitation.grant.roles.clone();
                            a.school_ids = invitation.grant.school_ids.clone();
                            a.status = StaffStatus::Active;
                            a
                        }
                        None => {
                            StaffAccount::new(unionid, invitation.label.clone(), invitation.grant.clone(), cx.now_ms)
                        }
                    };
                    if !store.accept_invitation(&invitation, &account, new, cx.now_ms).await? {
                        return Err(SignInError::InvitationInvalid);
                    }
                    account
                }
            }
        }
        (None, Some(a)) if a.status == StaffStatus::Revoked => return Err(SignInError::Revoked),
        (None, Some(a)) => a,
        (None, None) if cx.first_operator == Some(&unionid) => {
            let account = StaffAccount::new(unionid.clone(), nickname.clone(), Grant::operator(), cx.now_ms);
            if store.create(&account).await? {
                account
            } else {
                // Two first sign-ins raced: the other one made the account.
                store.by_unionid(&unionid).await?.ok_or(SignInError::NotStaff)?
            }
        }
        (None, None) => return Err(SignInError::NotStaff),
    };
    let name = if nickname.is_empty() { account.name.clone() } else { nickname };
    store.record_sign_in(&account.id, &name, cx.now_ms).await?;
    let token = Secret::random();
    let session = StaffSession::open(account.id.clone(), cx.policy, cx.now_ms);
    store.put_session(&token, &session).await?;
    Ok(SignedIn { account, token, session })
}

/// Why a staff request is refused before it is looked at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StaffAuthError {
    #[error("no staff session")]
    NotSignedIn,
    #[error("the staff session ended (lifetime or idle timeout)")]
    Expired,
    #[error("the staff account was revoked")]
    Revoked,
    #[error("the CSRF token is missing or wrong")]
    CsrfFailed,
    #[error(transparent)]
    Store(#[from] StaffStoreError),
}

/// Who is calling, and the session they call with.
#[derive(Debug, Clone)]
pub struct StaffCaller {
    pub account: StaffAccount,
    pub session: StaffSession,
}

/// The check every staff request runs: a live session (touched so the idle timer restarts),
/// the CSRF token on state-changing requests, and the account as it is now (not as it was
/// at sign-in): a revoked account or a removed role takes effect at once.
pub async fn authenticate<S: StaffStore>(
    store: &S,
    token: &Secret,
    csrf: Option<&str>,
    changes_state: bool,
    policy: SessionPolicy,
    now_ms: i64,
) -> Result<StaffCaller, StaffAuthError> {
    let session = store.session(token).await?.ok_or(StaffAuthError::NotSignedIn)?;
    if !session.is_live(policy, now_ms) {
        return Err(StaffAuthError::Expired);
    }
    if changes_state && !csrf.is_some_and(|c| Secret(session.csrf_token.clone()).matches(c)) {
        return Err(StaffAuthError::CsrfFailed);
    }
    let account = store.get(&session.staff_id).await?.ok_or(StaffAuthError::Revoked)?;
    let before_revocation = session.created_at_ms < account.sessions_since_ms;
    if account.status == StaffStatus::Revoked || account.roles.is_empty() || before_revocation {
        return Err(StaffAuthError::Revoked);
    }
    if now_ms - session.last_seen_at_ms >= TOUCH_EVERY_MS {
        store.touch_session(token, now_ms).await?;
    }
    Ok(StaffCaller { account, session })
}

#[cfg(any(test, feature = "memory"))]
pub mod memory {
    //! An in-memory [`StaffStore`] and a scripted WeChat, for specifications.
    use super::*;
    use std::collections::HashMap;
    use std::sync::Mutex;

    #[derive(Default)]
    pub struct MemoryStaff {
        pub accounts: Mutex<Vec<StaffAccount>>,
        pub invitations: Mutex<Vec<(Secret, Invitation)>>,
        pub sessions: Mutex<HashMap<String, StaffSession>>,
        pub schools: Vec<String>,
    }

    impl StaffStore for MemoryStaff {
        async fn by_unionid(&self, u: &UnionId) -> Result<Option<StaffAccount>, StaffStoreError> {
            Ok(self.accounts.lock().expect("lock").iter().find(|a| &a.unionid == u).cloned())
        }
        async fn get(&self, id: &UserId) -> Result<Option<StaffAccount>, StaffStoreError> {
            Ok(self.accounts.lock().expect("lock").iter().find(|a| &a.id == id).cloned())
        }
        async fn create(&self, account: &StaffAccount) -> Result<bool, StaffStoreError> {
            let mut all = self.accounts.lock().expect("lock");
            if all.iter().any(|a| a.unionid == account.unionid) {
                return Ok(false);
            }
            all.push(account.clone());
            Ok(true)
        }
        async fn invitation(&self, token: &InvitationToken) -> Result<Option<Invitation>, StaffStoreError> {
            let all = self.invitations.lock().expect("lock");
            Ok(all.iter().find(|(s, i)| i.id == token.id && s.matches(token.secret.as_str())).map(|(_, i)| i.clone()))
        }
        async fn accept_invitation(
            &self,
            invitation: &Invitation,
            account: &StaffAccount,
            new: bool,
            now_ms: i64,
        ) -> Result<bool, StaffStoreError> {
            let mut all = self.invitations.lock().expect("lock");
            let Some((_, stored)) = all.iter_mut().find(|(_, i)| i.id == invitation.id) else { return Ok(false) };
            if stored.status(now_ms) != InvitationStatus::Pending {
                return Ok(false);
            }
            stored.used_by = Some(account.id.clone());
            stored.used_at_ms = Some(now_ms);
            let mut accounts = self.accounts.lock().expect("lock");
            if new && accounts.iter().any(|a| a.unionid == account.unionid) {
                return Ok(false);
            }
            if !new && !accounts.iter().any(|a| a.id == account.id && a.status == StaffStatus::Revoked) {
                return Ok(false);
            }
            accounts.retain(|a| a.id != account.id);
            accounts.push(account.clone());
            Ok(true)
        }
        async fn record_sign_in(&self, id: &UserId, name: &str, now_ms: i64) -> Result<(), StaffStoreError> {
            for a in self.accounts.lock().expect("lock").iter_mut().filter(|a| &a.id == id) {
                a.last_sign_in_at_ms = Some(now_ms);
                a.name = name.to_owned();
            }
            Ok(())
        }
        async fn put_session(&self, token: &Secret, session: &StaffSession) -> Result<(), StaffStoreError> {
            self.sessions.lock().expect("lock").insert(token.as_str().to_owned(), session.clone());
            Ok(())
        }
        async fn session(&self, token: &Secret) -> Result<Option<StaffSession>, StaffStoreError> {
            Ok(self.sessions.lock().expect("lock").get(token.as_str()).cloned())
        }
        async fn touch_session(&self, token: &Secret, now_ms: i64) -> Result<(), StaffStoreError> {
            if let Some(s) = self.sessions.lock().expect("lock").get_mut(token.as_str()) {
                s.last_seen_at_ms = now_ms;
            }
            Ok(())
        }
        async fn delete_session(&self, token: &Secret) -> Result<(), StaffStoreError> {
            self.sessions.lock().expect("lock").remove(token.as_str());
            Ok(())
        }
    }

    impl StaffDirectory for MemoryStaff {
        async fn members(&self) -> Result<Vec<StaffAccount>, StaffStoreError> {
            Ok(self.accounts.lock().expect("lock").clone())
        }
        async fn update_member(
            &self,
            id: &UserId,
            change: &MemberChange,
        ) -> Result<Option<StaffAccount>, StaffStoreError> {
            let mut all = self.accounts.lock().expect("lock");
            let Some(a) = all.iter_mut().find(|a| &a.id == id) else { return Ok(None) };
            match change {
                MemberChange::Grant(g) => {
                    a.roles = g.roles.clone();
                    a.school_ids = g.school_ids.clone();
                }
                MemberChange::Revoke { at_ms } => {
                    a.status = StaffStatus::Revoked;
                    a.sessions_since_ms = *at_ms;
                }
            }
            Ok(Some(a.clone()))
        }
        async fn put_invitation(&self, invitation: &Invitation, secret: &Secret) -> Result<(), StaffStoreError> {
            self.invitations.lock().expect("lock").push((secret.clone(), invitation.clone()));
            Ok(())
        }
        async fn invitations(&self) -> Result<Vec<Invitation>, StaffStoreError> {
            Ok(self.invitations.lock().expect("lock").iter().map(|(_, i)| i.clone()).collect())
        }
        async fn cancel_invitation(&self, id: &str, now_ms: i64) -> Result<bool, StaffStoreError> {
            let mut all = self.invitations.lock().expect("lock");
            match all.iter_mut().find(|(_, i)| i.id == id) {
                Some((_, i)) if i.status(now_ms) == InvitationStatus::Pending => {
                    i.cancelled = true;
                    Ok(true)
                }
                _ => Ok(false),
            }
        }
        async fn unknown_schools(&self, school_ids: &[String]) -> Result<Vec<String>, StaffStoreError> {
            Ok(school_ids.iter().filter(|s| !self.schools.contains(s)).cloned().collect())
        }
    }

    /// A working day, 30 minutes idle.
    pub fn policy_for_tests() -> SessionPolicy {
        SessionPolicy::new(Duration::from_secs(10 * 3600), Duration::from_secs(1800))
    }

    /// WeChat answering each exchange from a script, in order.
    pub struct ScriptedWeb(pub Mutex<Vec<Result<WebIdentity, SignInError>>>);

    impl WeChatWebLogin for ScriptedWeb {
        async fn exchange(&self, _code: &WebCode) -> Result<WebIdentity, SignInError> {
            self.0.lock().expect("lock").remove(0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::memory::{MemoryStaff, ScriptedWeb};
    use super::*;
    use crate::test_support::run;
    use std::sync::Mutex;

    const POLICY: SessionPolicy = SessionPolicy::new(Duration::from_secs(10 * 3600), Duration::from_secs(1800));
    const HOUR_MS: i64 = 3_600_000;

    fn union(s: &str) -> UnionId {
        UnionId::parse(s).expect("unionid")
    }

    fn wechat(unionid: &str) -> ScriptedWeb {
        ScriptedWeb(Mutex::new(vec![Ok(WebIdentity {
            openid: "oWeb0001".into(),
            unionid: Some(union(unionid)),
            nickname: "王老师".into(),
        })]))
    }

    fn code() -> WebCode {
        WebCode::parse("web-code-1").expect("code")
    }

    fn cx<'a>(invitation: Option<&'a InvitationToken>, first: Option<&'a UnionId>, now_ms: i64) -> SignInContext<'a> {
        SignInContext { invitation, first_operator: first, policy: POLICY, now_ms }
    }

    fn invite(store: &MemoryStaff, grant: Grant, now_ms: i64) -> InvitationToken {
        let inv = Invitation::new(grant, "王老师".into(), UserId::random(), now_ms);
        let token = InvitationToken { id: inv.id.clone(), secret: Secret::random() };
        store.invitations.lock().expect("lock").push((token.secret.clone(), inv));
        token
    }

    fn reviewer_of(school: &str) -> Grant {
        Grant::new(vec![Role::Reviewer], vec![school.into()]).expect("grant")
    }

    #[test]
    fn given_the_configured_first_operator_when_they_first_sign_in_then_they_are_operator() {
        let store = MemoryStaff::default();
        let first = union("first_operator_01");
        let signed = run(sign_in(&wechat("first_operator_01"), &store, &code(), cx(None, Some(&first), 0)));
        let signed = signed.expect("signed in");
        assert_eq!(signed.account.roles, vec![Role::Operator]);
        assert_eq!(store.sessions.lock().expect("lock").len(), 1);
    }

    #[test]
    fn given_someone_unknown_without_invitation_then_not_staff_and_no_session() {
        let store = MemoryStaff::default();
        let first = union("first_operator_01");
        let r = run(sign_in(&wechat("stranger_0001"), &store, &code(), cx(None, Some(&first), 0)));
        assert_eq!(r.map(|_| ()), Err(SignInError::NotStaff));
        assert!(store.sessions.lock().expect("lock").is_empty());
    }

    #[test]
    fn given_an_invitation_when_signing_in_then_its_grant_applies_and_it_is_used_up() {
        let store = MemoryStaff::default();
        let token = invite(&store, reviewer_of("s_a"), 0);
        let signed =
            run(sign_in(&wechat("reviewer_0001"), &store, &code(), cx(Some(&token), None, 1000))).expect("signed in");
        assert_eq!(
            (signed.account.roles.clone(), signed.account.school_ids.clone()),
            (vec![Role::Reviewer], vec!["s_a".to_owned()])
        );
        let again = run(sign_in(&wechat("someone_else1"), &store, &code(), cx(Some(&token), None, 2000)));
        assert_eq!(again.map(|_| ()), Err(SignInError::InvitationInvalid));
    }

    #[test]
    fn given_an_expired_or_forged_invitation_then_invitation_invalid() {
        let store = MemoryStaff::default();
        let token = invite(&store, reviewer_of("s_a"), 0);
        let late = INVITATION_TTL.as_millis() as i64 + 1;
        let r = run(sign_in(&wechat("reviewer_0001"), &store, &code(), cx(Some(&token), None, late)));
        assert_eq!(r.map(|_| ()), Err(SignInError::InvitationInvalid));
        let forged = InvitationToken { id: token.id.clone(), secret: Secret::random() };
        let r = run(sign_in(&wechat("reviewer_0001"), &store, &code(), cx(Some(&forged), None, 10)));
        assert_eq!(r.map(|_| ()), Err(SignInError::InvitationInvalid));
    }

    #[test]
    fn given_a_revoked_member_when_signing_in_again_then_revoked() {
        let store = MemoryStaff::default();
        let token = invite(&store, reviewer_of("s_a"), 0);
        let signed = run(sign_in(&wechat("reviewer_0001"), &store, &code(), cx(Some(&token), None, 0))).expect("in");
        store.accounts.lock().expect("lock")[0].status = StaffStatus::Revoked;
        let r = run(sign_in(&wechat("reviewer_0001"), &store, &code(), cx(None, None, 10)));
        assert_eq!(r.map(|_| ()), Err(SignInError::Revoked));
        // …and the session they still hold is refused at its next request.
        let auth = run(authenticate(&store, &signed.token, None, false, POLICY, 20));
        assert_eq!(auth.map(|_| ()), Err(StaffAuthError::Revoked));
    }

    #[test]
    fn given_a_member_who_opens_someone_elses_invitation_then_already_staff_and_the_link_stays_unused() {
        let store = MemoryStaff::default();
        let mine = invite(&store, reviewer_of("s_a"), 0);
        run(sign_in(&wechat("reviewer_0001"), &store, &code(), cx(Some(&mine), None, 0))).expect("in");
        let theirs = invite(&store, Grant::operator(), 0);
        let r = run(sign_in(&wechat("reviewer_0001"), &store, &code(), cx(Some(&theirs), None, 10)));
        assert_eq!(r.map(|_| ()), Err(SignInError::AlreadyStaff));
        assert_eq!(store.accounts.lock().expect("lock")[0].roles, vec![Role::Reviewer]);
        // Their own link again is just a sign-in.
        assert!(run(sign_in(&wechat("reviewer_0001"), &store, &code(), cx(Some(&mine), None, 20))).is_ok());
    }

    #[test]
    fn given_a_revoked_member_invited_back_then_active_again_but_old_sessions_stay_over() {
        let store = MemoryStaff::default();
        let first = invite(&store, reviewer_of("s_a"), 0);
        let old = run(sign_in(&wechat("reviewer_0001"), &store, &code(), cx(Some(&first), None, 0))).expect("in");
        let id = old.account.id.clone();
        run(StaffDirectory::update_member(&store, &id, &MemberChange::Revoke { at_ms: 100 })).expect("revoke");
        let again = invite(&store, reviewer_of("s_a"), 200);
        let back = run(sign_in(&wechat("reviewer_0001"), &store, &code(), cx(Some(&again), None, 300))).expect("back");
        assert!(run(authenticate(&store, &back.token, None, false, POLICY, 400)).is_ok());
        let r = run(authenticate(&store, &old.token, None, false, POLICY, 400));
        assert_eq!(r.map(|_| ()), Err(StaffAuthError::Revoked));
    }

    #[test]
    fn given_wechat_busy_once_then_one_retry_signs_in() {
        let store = MemoryStaff::default();
        let first = union("first_operator_01");
        let identity = WebIdentity { openid: "oWeb0001".into(), unionid: Some(first.clone()), nickname: String::new() };
        let web = ScriptedWeb(Mutex::new(vec![Err(SignInError::Unavailable("-1".into())), Ok(identity)]));
        assert!(run(sign_in(&web, &store, &code(), cx(None, Some(&first), 0))).is_ok());
    }

    #[test]
    fn given_no_unionid_then_the_setup_error_is_named() {
        let web = ScriptedWeb(Mutex::new(vec![Ok(WebIdentity {
            openid: "oWeb0001".into(),
            unionid: None,
            nickname: String::new(),
        })]));
        let r = run(sign_in(&web, &MemoryStaff::default(), &code(), cx(None, None, 0)));
        assert_eq!(r.map(|_| ()), Err(SignInError::NoUnionId));
    }

    fn signed_in_reviewer(store: &MemoryStaff) -> SignedIn {
        let token = invite(store, reviewer_of("s_a"), 0);
        run(sign_in(&wechat("reviewer_0001"), store, &code(), cx(Some(&token), None, 0))).expect("in")
    }

    #[test]
    fn a_session_ends_after_its_lifetime_even_when_busy() {
        let store = MemoryStaff::default();
        let s = signed_in_reviewer(&store);
        // A request every 20 minutes for the whole working day keeps it alive…
        for step in 1..30 {
            let at = step * 20 * 60_000;
            assert!(run(authenticate(&store, &s.token, None, false, POLICY, at)).is_ok(), "minute {}", step * 20);
        }
        // …and at ten hours it ends all the same.
        let r = run(authenticate(&store, &s.token, None, false, POLICY, 10 * HOUR_MS));
        assert_eq!(r.map(|_| ()), Err(StaffAuthError::Expired));
    }

    #[test]
    fn a_session_idle_for_the_timeout_ends() {
        let store = MemoryStaff::default();
        let s = signed_in_reviewer(&store);
        let r = run(authenticate(&store, &s.token, None, false, POLICY, 30 * 60_000));
        assert_eq!(r.map(|_| ()), Err(StaffAuthError::Expired));
    }

    #[test]
    fn state_changing_requests_need_the_sessions_csrf_token() {
        let store = MemoryStaff::default();
        let s = signed_in_reviewer(&store);
        let missing = run(authenticate(&store, &s.token, None, true, POLICY, 1));
        assert_eq!(missing.map(|_| ()), Err(StaffAuthError::CsrfFailed));
        let forged = run(authenticate(&store, &s.token, Some(Secret::random().as_str()), true, POLICY, 1));
        assert_eq!(forged.map(|_| ()), Err(StaffAuthError::CsrfFailed));
        assert!(run(authenticate(&store, &s.token, Some(&s.session.csrf_token), true, POLICY, 1)).is_ok());
    }

    #[test]
    fn roles_come_from_the_account_now_not_from_the_sign_in() {
        let store = MemoryStaff::default();
        let s = signed_in_reviewer(&store);
        store.accounts.lock().expect("lock")[0].school_ids = vec!["s_b".into()];
        let caller = run(authenticate(&store, &s.token, None, false, POLICY, 1)).expect("caller");
        assert_eq!(caller.account.school_ids, vec!["s_b".to_owned()]);
    }

    #[test]
    fn grants_keep_scoped_roles_to_schools() {
        assert_eq!(Grant::new(vec![], vec![]), Err(GrantError::NoRole));
        assert_eq!(Grant::new(vec![Role::Reviewer], vec![]), Err(GrantError::SchoolsRequired));
        assert_eq!(
            Grant::new(vec![Role::SchoolAdmin], vec!["a".into(), "b".into()]),
            Err(GrantError::OneSchoolForAdmin)
        );
        assert_eq!(Grant::new(vec![Role::Operator], vec!["a".into()]), Err(GrantError::SchoolsNotApplicable));
        assert_eq!(Grant::new(vec![Role::Student], vec![]), Err(GrantError::StudentRole));
        assert_eq!(Grant::new(vec![Role::Reviewer], vec!["a#b".into()]), Err(GrantError::BadSchoolId));
        let g = Grant::new(vec![Role::Reviewer, Role::Reviewer, Role::CustomerService], vec!["b".into(), "a".into()]);
        assert_eq!(
            g.map(|g| (g.roles, g.school_ids)),
            Ok((vec![Role::Reviewer, Role::CustomerService], vec!["a".into(), "b".into()]))
        );
    }

    #[test]
    fn invitation_tokens_round_trip_and_refuse_other_shapes() {
        let t = InvitationToken { id: format!("i_{}", uuid::Uuid::new_v4().simple()), secret: Secret::random() };
        assert_eq!(InvitationToken::parse(&t.render()).map(|p| p.render()), Ok(t.render()));
        for bad in ["", "i_x.y", "abc", &format!("{}.{}", t.id, "Z".repeat(64))] {
            assert!(InvitationToken::parse(bad).is_err(), "{bad:?}");
        }
    }
}
