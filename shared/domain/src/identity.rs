//! Proving who you are for a campaign. The answer to a wrong claim is always the same
//! "no match", whichever field was wrong, and attempts are counted so a roster cannot be
//! enumerated: per account and campaign (a person mistyping, or one account guessing) and per
//! network source (many accounts guessing from one place). An attempt is counted *before* the
//! roster is searched, by a conditional increment that refuses past the limit, so attempts
//! arriving at once cannot all slip under it; one that succeeds is given back, so honest
//! students never use up anybody's allowance. Nothing is limited per campaign: strangers
//! cannot lock a campaign's students out.

use std::future::Future;

use serde::Deserialize;
use time::{Date, Duration, OffsetDateTime};

use crate::campaign::{Campaign, IdentityMode};
use crate::id_number::IdNumber;
use crate::roster::PersonName;
use crate::user::UserId;

/// What the student typed.
#[derive(Debug, Default, Deserialize)]
pub struct VerifyInput {
    pub name: Option<String>,
    pub id_number: Option<String>,
    /// 考生号.
    pub exam_number: Option<String>,
    pub collection_code: Option<String>,
}

/// A well-formed claim in the campaign's mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    NameId { name: PersonName, id_number: IdNumber },
    ExamNumber(String),
    CollectionCode(String),
}

/// A claim that cannot be right whatever the roster says (says nothing about the roster).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ClaimError {
    #[error("this campaign asks for your name and ID number")]
    NeedNameAndId,
    #[error("the ID number is not valid; please check it")]
    InvalidIdNumber,
    #[error("this campaign asks for your 考生号")]
    NeedExamNumber,
    #[error("this campaign asks for your 图像采集码")]
    NeedCollectionCode,
}

impl Claim {
    pub fn parse(mode: IdentityMode, input: &VerifyInput, today: Date) -> Result<Self, ClaimError> {
        let text =
            |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_ascii_uppercase);
        match mode {
            IdentityMode::NameIdNumber => {
                let name = input.name.as_deref().and_then(PersonName::parse).ok_or(ClaimError::NeedNameAndId)?;
                let raw = input.id_number.as_deref().ok_or(ClaimError::NeedNameAndId)?;
                let id_number = IdNumber::parse(raw, today).map_err(|_| ClaimError::InvalidIdNumber)?;
                Ok(Claim::NameId { name, id_number })
            }
            IdentityMode::ExamNumber => {
                let n = text(&input.exam_number).filter(|s| s.len() <= 40).ok_or(ClaimError::NeedExamNumber)?;
                Ok(Claim::ExamNumber(n))
            }
            IdentityMode::CollectionCode => {
                let c = text(&input.collection_code).filter(|s| s.len() <= 40).ok_or(ClaimError::NeedCollectionCode)?;
                Ok(Claim::CollectionCode(c))
            }
        }
    }
}

/// A roster entry as verification sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEntry {
    pub entry_id: String,
    pub name: PersonName,
    pub bound_user_id: Option<UserId>,
    /// The masked view the student is shown after a match.
    pub view: serde_json::Value,
    /// Collected offline (已线下采集): the student is not collected online.
    pub collected_offline: bool,
}

/// Does the entry found for a claim really belong to it? The lookup key already matched
/// (ID number, 考生号 or 采集码); the name must match too where the claim has one.
pub fn confirms(claim: &Claim, entry: &StoredEntry) -> bool {
    match claim {
        Claim::NameId { name, .. } => &entry.name == name,
        Claim::ExamNumber(_) | Claim::CollectionCode(_) => true,
    }
}

/// Where a binding stands. In a campaign that asks for photos of the ID card, the roster match
/// binds the entry (nobody else can take it) but the binding waits for both photos: only the
/// student it matched gets upload links, and only a complete binding may order or upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BindingStatus {
    Complete,
    CardPhotosNeeded,
}

impl BindingStatus {
    /// As stored on the enrollment (`status`); a binding without one is complete (made
    /// before card photos were checked at binding, or in a campaign without them).
    pub fn from_stored(status: Option<&str>) -> Self {
        match status {
            Some("card_photos_needed") => Self::CardPhotosNeeded,
            _ => Self::Complete,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Complete => "complete",
            Self::CardPhotosNeeded => "card_photos_needed",
        }
    }

    /// What a new binding in the campaign starts as.
    pub fn initial(campaign: &Campaign) -> Self {
        if campaign.require_id_card_photos { Self::CardPhotosNeeded } else { Self::Complete }
    }
}

/// A student's acceptance of a campaign's privacy agreement (PIPL art. 28–29: separate
/// consent before their ID number and face photos are processed).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Consent {
    pub campaign_id: String,
    pub version: String,
    #[serde(with = "time::serde::rfc3339")]
    pub accepted_at: OffsetDateTime,
}

/// Port: the consents students gave, one record per version accepted.
pub trait Consents: Send + Sync {
    /// `user`'s acceptance of `version` of the campaign's agreement, if they gave it.
    fn accepted(
        &self,
        user: &UserId,
        campaign_id: &str,
        version: &str,
    ) -> impl Future<Output = Result<Option<Consent>, crate::StoreError>> + Send;

    /// Records `consent` (accepting a version again keeps the first acceptance).
    fn record(&self, user: &UserId, consent: &Consent) -> impl Future<Output = Result<(), crate::StoreError>> + Send;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsentError {
    #[error("the campaign asks for no agreement")]
    NoAgreement,
    /// The student read another version than the campaign's current one.
    #[error("the agreement changed: read version {current}")]
    Outdated { current: String },
    #[error(transparent)]
    Store(#[from] crate::StoreError),
}

/// Whether `user` accepted the version of the campaign's agreement now in force (always,
/// where the campaign asks for none).
pub async fn has_consented<S: Consents>(consents: &S, campaign: &Campaign, user: &UserId) -> Result<bool, StoreError> {
    let Some(agreement) = &campaign.privacy_agreement else { return Ok(true) };
    Ok(consents.accepted(user, &campaign.id, &agreement.version).await?.is_some())
}

/// `user` accepts `version` of the campaign's agreement at `now`.
pub async fn accept_agreement<S: Consents>(
    consents: &S,
    campaign: &Campaign,
    user: &UserId,
    version: &str,
    now: OffsetDateTime,
) -> Result<Consent, ConsentError> {
    let agreement = campaign.privacy_agreement.as_ref().ok_or(ConsentError::NoAgreement)?;
    if version.trim() != agreement.version {
        return Err(ConsentError::Outdated { current: agreement.version.clone() });
    }
    // Accepted before: that acceptance stands (it is the one kept).
    if let Some(earlier) = consents.accepted(user, &campaign.id, &agreement.version).await? {
        return Ok(earlier);
    }
    let consent = Consent { campaign_id: campaign.id.clone(), version: agreement.version.clone(), accepted_at: now };
    consents.record(user, &consent).await?;
    tracing::info!(campaign_id = %campaign.id, version = %consent.version, "privacy agreement accepted");
    Ok(consent)
}

/// Port: where each student's binding (enrolment) in a campaign stands.
pub trait Enrolments: Send + Sync {
    fn binding(
        &self,
        user: &crate::UserId,
        campaign_id: &str,
    ) -> impl Future<Output = Result<Option<BindingStatus>, crate::StoreError>> + Send;
}

#[cfg(any(test, feature = "memory"))]
pub mod memory {
    //! Bindings in memory.

    use std::collections::HashMap;

    use super::*;

    /// `(user, campaign)` → where the binding stands; absent: not bound.
    #[derive(Default)]
    pub struct MemoryEnrolments(pub HashMap<(crate::UserId, String), BindingStatus>);

    /// Consents in memory, by (user, campaign, version).
    #[derive(Default)]
    pub struct MemoryConsents(pub std::sync::Mutex<HashMap<(crate::UserId, String, String), Consent>>);

    impl Consents for MemoryConsents {
        async fn accepted(
            &self,
            user: &crate::UserId,
            cid: &str,
            version: &str,
        ) -> Result<Option<Consent>, crate::StoreError> {
            Ok(self.0.lock().expect("lock").get(&(user.clone(), cid.to_owned(), version.to_owned())).cloned())
        }

        async fn record(&self, user: &crate::UserId, consent: &Consent) -> Result<(), crate::StoreError> {
            let key = (user.clone(), consent.campaign_id.clone(), consent.version.clone());
            self.0.lock().expect("lock").entry(key).or_insert_with(|| consent.clone());
            Ok(())
        }
    }

    impl Enrolments for MemoryEnrolments {
        async fn binding(&self, user: &crate::UserId, cid: &str) -> Result<Option<BindingStatus>, crate::StoreError> {
            Ok(self.0.get(&(user.clone(), cid.to_owned())).copied())
        }
    }
}

/// A side of the ID card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CardSide {
    Front,
    Back,
}

impl CardSide {
    pub const BOTH: [CardSide; 2] = [CardSide::Front, CardSide::Back];

    pub fn parse(side: &str) -> Option<Self> {
        match side {
            "front" => Some(Self::Front),
            "back" => Some(Self::Back),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Front => "front",
            Self::Back => "back",
        }
    }
}

/// What is stored for one side of a student's ID card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardPhoto {
    Missing,
    /// Bytes that are not an image (the upload form only bounds the size).
    NotAnImage,
    /// An image, as this version of the object (the bucket is versioned: a later write to the
    /// same key is a new version and does not replace the one checked).
    Image {
        version: String,
    },
}

/// The versions of both sides that completed a binding: what reviewers are shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardVersions {
    pub front: String,
    pub back: String,
}

/// Port: the uploaded ID-card photos.
pub trait CardPhotoStore: Send + Sync {
    fn inspect(
        &self,
        campaign_id: &str,
        user: &UserId,
        side: CardSide,
    ) -> impl Future<Output = Result<CardPhoto, StoreError>> + Send;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bind {
    /// Newly bound to this user.
    Bound,
    /// Already this user's (a repeated verification), as it stands.
    AlreadyYours(BindingStatus),
    /// Bound to another user: customer service resolves it.
    TakenByAnother,
    /// This user already holds another entry of the campaign.
    YouHoldAnother,
}

/// A fixed-window limit on attempts (that did not verify, or of anything counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max_failures: u32,
    pub window: Duration,
}

/// A person gets five tries per quarter hour per campaign.
pub const PER_USER: Limit = Limit::per(5, Duration::minutes(15));
/// Many accounts guessing from one network source. A campus behind one address shares it, so
/// it is far above what its honest students mistype in ten minutes.
pub const PER_SOURCE: Limit = Limit::per(100, Duration::minutes(10));

impl Limit {
    pub const fn per(max: u32, window: Duration) -> Self {
        Self { max_failures: max, window }
    }

    /// The start of the window `now` falls in (unix seconds). Windows are counted from
    /// midnight in Asia/Shanghai, so a daily limit's day is the school's day (for windows
    /// dividing eight hours, as minutes do, this is the same as counting from UTC).
    pub fn window_start(&self, now: OffsetDateTime) -> i64 {
        let w = self.window.whole_seconds();
        let offset = i64::from(crate::campaign::SHANGHAI.whole_seconds());
        (now.unix_timestamp() + offset).div_euclid(w) * w - offset
    }

    /// Seconds until the window `now` falls in ends.
    pub fn retry_after(&self, now: OffsetDateTime) -> u32 {
        let end = self.window_start(now) + self.window.whole_seconds();
        u32::try_from((end - now.unix_timestamp()).max(1)).unwrap_or(1)
    }
}

pub use crate::StoreError;

/// Port: roster entries and bindings.
pub trait RosterLookup: Send + Sync {
    fn find(
        &self,
        campaign: &Campaign,
        claim: &Claim,
    ) -> impl Future<Output = Result<Option<StoredEntry>, StoreError>> + Send;
    /// Binds the entry to the user, the binding starting as `status`.
    fn bind(
        &self,
        campaign: &Campaign,
        entry: &StoredEntry,
        user: &UserId,
        status: BindingStatus,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Bind, StoreError>> + Send;
    /// The user's binding in the campaign, if any.
    fn binding(
        &self,
        campaign: &Campaign,
        user: &UserId,
    ) -> impl Future<Output = Result<Option<BindingStatus>, StoreError>> + Send;
    /// Completes a binding waiting for card photos, recording the versions checked; `false`
    /// when there is no such binding (completed meanwhile, or unbound).
    fn complete(
        &self,
        campaign: &Campaign,
        user: &UserId,
        versions: &CardVersions,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// Port: attempt counters (`scope` names who is limited).
pub trait AttemptCounter: Send + Sync {
    /// Counts one attempt against `scope` unless `limit.max_failures` are counted in this
    /// window already; `false` when refused. Atomic: of attempts arriving at once, only as
    /// many as are left pass.
    fn take(
        &self,
        scope: &str,
        limit: Limit,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Un-counts an attempt that succeeded (never below zero).
    fn give_back(
        &self,
        scope: &str,
        limit: Limit,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

#[derive(Debug, Clone, PartialEq)]
pub enum VerifyOutcome {
    Verified {
        entry: StoredEntry,
        newly: bool,
        /// `CardPhotosNeeded`: matched and bound, but photos of both sides of the ID card are
        /// still to be uploaded (then verify again to complete the binding).
        status: BindingStatus,
    },
    /// Matched and bound, but the uploaded photo of this side is not an image.
    CardPhotoNotAnImage(CardSide),
    NoMatch,
    Conflict,
    YouHoldAnother,
    /// Too many failures: wait this many seconds.
    Limited(u32),
    /// The roster says this student was collected offline: nothing to do online.
    CollectedOffline,
    /// The campaign's privacy agreement (this version) is not accepted yet.
    ConsentRequired,
}

impl VerifyOutcome {
    /// The outcome as the logs name it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Verified { status: BindingStatus::CardPhotosNeeded, .. } => "card_photos_needed",
            Self::Verified { newly: true, .. } => "verified",
            Self::Verified { newly: false, .. } => "already_verified",
            Self::CardPhotoNotAnImage(_) => "card_photo_not_an_image",
            Self::NoMatch => "no_match",
            Self::Conflict => "bound_to_another",
            Self::YouHoldAnother => "holds_another",
            Self::Limited(_) => "rate_limited",
            Self::CollectedOffline => "collected_offline",
            Self::ConsentRequired => "consent_required",
        }
    }
}

/// Who is asking: the account, and the network address the request came from (`None` where
/// the platform gives none).
#[derive(Debug, Clone, Copy)]
pub struct Asker<'a> {
    pub user: &'a UserId,
    pub source: Option<&'a str>,
}

/// The verification use case. In a campaign that asks for card photos, the first match binds
/// the entry pending; a verification once both sides are uploaded (and are images) completes
/// the binding.
/// The ports identity verification reads and writes.
pub struct Ports<'a, R, C, P, S> {
    pub roster: &'a R,
    pub counter: &'a C,
    pub cards: &'a P,
    pub consents: &'a S,
}

pub async fn verify<R: RosterLookup, C: AttemptCounter, P: CardPhotoStore, S: Consents>(
    ports: Ports<'_, R, C, P, S>,
    campaign: &Campaign,
    claim: &Claim,
    asker: Asker<'_>,
    now: OffsetDateTime,
) -> Result<VerifyOutcome, StoreError> {
    let Ports { roster, counter, cards, consents } = ports;
    // Separate consent first: no ID number is looked up before the student accepted.
    if !has_consented(consents, campaign, asker.user).await? {
        return Ok(VerifyOutcome::ConsentRequired);
    }
    let mut scopes = vec![(format!("verify#{}#{}", campaign.id, asker.user), PER_USER)];
    if let Some(source) = asker.source {
        scopes.push((format!("verify-src#{source}"), PER_SOURCE));
    }
    let mut taken = Vec::new();
    for (scope, limit) in &scopes {
        if !counter.take(scope, *limit, now).await? {
            give_back(counter, &taken, now).await?;
            return Ok(VerifyOutcome::Limited(limit.retry_after(now)));
        }
        taken.push((scope.clone(), *limit));
    }
    let entry = match roster.find(campaign, claim).await? {
        Some(entry) if confirms(claim, &entry) => entry,
        // The attempt stays counted.
        _ => return Ok(VerifyOutcome::NoMatch),
    };
    // 已经线下完成信息采集的同学不用再次线上采集: no binding, so no order either. A student who
    // bound before the school marked them keeps their binding.
    // The attempt stays counted, as a conflict's does: else any account could learn, without
    // limit, which guessed details are on the roster.
    if entry.collected_offline && entry.bound_user_id.as_ref() != Some(asker.user) {
        return Ok(VerifyOutcome::CollectedOffline);
    }
    let initial = BindingStatus::initial(campaign);
    let (newly, status) = match roster.bind(campaign, &entry, asker.user, initial, now).await? {
        Bind::Bound => (true, initial),
        Bind::AlreadyYours(status) => (false, status),
        // Someone else's details, or details of another entry while the account holds one:
        // counted like a wrong guess, or either answer would tell any account, without limit,
        // that a guessed name and ID number are real.
        Bind::TakenByAnother => return Ok(VerifyOutcome::Conflict),
        Bind::YouHoldAnother => return Ok(VerifyOutcome::YouHoldAnother),
    };
    // The roster matched: the attempt is given back whatever the card photos say.
    give_back(counter, &taken, now).await?;
    if status == BindingStatus::Complete {
        return Ok(VerifyOutcome::Verified { entry, newly, status });
    }
    Ok(match complete_with_card_photos(roster, cards, campaign, asker.user, now).await? {
        CardCheck::Completed => VerifyOutcome::Verified { entry, newly, status: BindingStatus::Complete },
        CardCheck::Missing => VerifyOutcome::Verified { entry, newly, status: BindingStatus::CardPhotosNeeded },
        CardCheck::NotAnImage(side) => VerifyOutcome::CardPhotoNotAnImage(side),
    })
}

enum CardCheck {
    Completed,
    Missing,
    NotAnImage(CardSide),
}

/// Completes a pending binding once both sides are uploaded images, recording the versions it
/// checked.
async fn complete_with_card_photos<R: RosterLookup, P: CardPhotoStore>(
    roster: &R,
    cards: &P,
    campaign: &Campaign,
    user: &UserId,
    now: OffsetDateTime,
) -> Result<CardCheck, StoreError> {
    let mut versions = Vec::with_capacity(2);
    for side in CardSide::BOTH {
        match cards.inspect(&campaign.id, user, side).await? {
            CardPhoto::Missing => return Ok(CardCheck::Missing),
            CardPhoto::NotAnImage => return Ok(CardCheck::NotAnImage(side)),
            CardPhoto::Image { version } => versions.push(version),
        }
    }
    let [front, back]: [String; 2] = versions.try_into().map_err(|_| StoreError::Unavailable("two sides".into()))?;
    if roster.complete(campaign, user, &CardVersions { front, back }, now).await? {
        return Ok(CardCheck::Completed);
    }
    // Completed by a verification at the same moment, or unbound meanwhile.
    match roster.binding(campaign, user).await? {
        Some(BindingStatus::Complete) => Ok(CardCheck::Completed),
        _ => Ok(CardCheck::Missing),
    }
}

/// Whether a student may have an upload link for a side of their ID card in a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardLink {
    Allowed,
    /// The campaign does not ask for card photos.
    NotNeeded,
    /// No binding yet: the roster must match first.
    VerifyFirst,
    /// The binding is complete: the photos were checked and are kept as they are.
    AlreadyComplete,
}

/// Card-photo links go only to a student the roster matched, whose binding waits for them.
pub async fn card_photo_link<R: RosterLookup>(
    roster: &R,
    campaign: &Campaign,
    user: &UserId,
) -> Result<CardLink, StoreError> {
    if !campaign.require_id_card_photos {
        return Ok(CardLink::NotNeeded);
    }
    Ok(match roster.binding(campaign, user).await? {
        None => CardLink::VerifyFirst,
        Some(BindingStatus::CardPhotosNeeded) => CardLink::Allowed,
        Some(BindingStatus::Complete) => CardLink::AlreadyComplete,
    })
}

async fn give_back<C: AttemptCounter>(
    counter: &C,
    taken: &[(String, Limit)],
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    for (scope, limit) in taken {
        counter.give_back(scope, *limit, now).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn claims_follow_the_campaign_mode() {
        let input = VerifyInput {
            name: Some(" 张三 ".into()),
            id_number: Some("11010519491231002x".into()),
            exam_number: Some("2018001002x".into()),
            collection_code: None,
        };
        let today = date!(2026 - 11 - 23);
        assert!(matches!(Claim::parse(IdentityMode::NameIdNumber, &input, today), Ok(Claim::NameId { .. })));
        assert_eq!(Claim::parse(IdentityMode::ExamNumber, &input, today), Ok(Claim::ExamNumber("2018001002X".into())));
        assert_eq!(Claim::parse(IdentityMode::CollectionCode, &input, today), Err(ClaimError::NeedCollectionCode));
        let bad_id = VerifyInput { id_number: Some("110105194912310021".into()), ..input };
        assert_eq!(Claim::parse(IdentityMode::NameIdNumber, &bad_id, today), Err(ClaimError::InvalidIdNumber));
    }

    use crate::campaign::Window;
    use std::collections::HashMap;
    use std::sync::Mutex;

    /// One roster entry (张三, 11010519491231002X), its binding and the card photos that
    /// completed it.
    #[derive(Default)]
    struct OneEntry {
        bound: Mutex<Option<(UserId, BindingStatus)>>,
        completed_with: Mutex<Option<CardVersions>>,
        /// The roster marks this student collected offline.
        offline: bool,
    }

    impl RosterLookup for OneEntry {
        async fn find(&self, _c: &Campaign, claim: &Claim) -> Result<Option<StoredEntry>, StoreError> {
            let hit = matches!(claim, Claim::NameId { id_number, .. } if id_number.expose() == "11010519491231002X");
            Ok(hit.then(|| StoredEntry {
                entry_id: "e1".into(),
                name: PersonName::parse("张三").expect("name"),
                bound_user_id: self.bound.lock().expect("lock").as_ref().map(|(u, _)| u.clone()),
                view: serde_json::json!({}),
                collected_offline: self.offline,
            }))
        }
        async fn bind(
            &self,
            _c: &Campaign,
            _e: &StoredEntry,
            user: &UserId,
            status: BindingStatus,
            _now: OffsetDateTime,
        ) -> Result<Bind, StoreError> {
            let mut bound = self.bound.lock().expect("lock");
            Ok(match bound.as_ref() {
                None => {
                    *bound = Some((user.clone(), status));
                    Bind::Bound
                }
                Some((u, s)) if u == user => Bind::AlreadyYours(*s),
                Some(_) => Bind::TakenByAnother,
            })
        }
        async fn binding(&self, _c: &Campaign, user: &UserId) -> Result<Option<BindingStatus>, StoreError> {
            Ok(self.bound.lock().expect("lock").as_ref().filter(|(u, _)| u == user).map(|(_, s)| *s))
        }
        async fn complete(
            &self,
            _c: &Campaign,
            user: &UserId,
            versions: &CardVersions,
            _now: OffsetDateTime,
        ) -> Result<bool, StoreError> {
            let mut bound = self.bound.lock().expect("lock");
            match bound.as_mut() {
                Some((u, s)) if u == user && *s == BindingStatus::CardPhotosNeeded => {
                    *s = BindingStatus::Complete;
                    *self.completed_with.lock().expect("lock") = Some(versions.clone());
                    Ok(true)
                }
                _ => Ok(false),
            }
        }
    }

    /// The uploaded card photos by side (none: missing).
    #[derive(Default)]
    struct Cards(Mutex<HashMap<CardSide, CardPhoto>>);

    impl Cards {
        fn put(&self, side: CardSide, photo: CardPhoto) {
            self.0.lock().expect("lock").insert(side, photo);
        }
    }

    impl CardPhotoStore for Cards {
        async fn inspect(&self, _c: &str, _u: &UserId, side: CardSide) -> Result<CardPhoto, StoreError> {
            Ok(self.0.lock().expect("lock").get(&side).cloned().unwrap_or(CardPhoto::Missing))
        }
    }

    /// Attempts counted per (scope, window), taken and given back under one lock.
    #[derive(Default)]
    struct Counters(Mutex<HashMap<(String, i64), u32>>);

    impl Counters {
        fn count(&self, scope: &str, limit: Limit, now: OffsetDateTime) -> u32 {
            *self.0.lock().expect("lock").get(&(scope.to_owned(), limit.window_start(now))).unwrap_or(&0)
        }
    }

    impl AttemptCounter for Counters {
        async fn take(&self, scope: &str, limit: Limit, now: OffsetDateTime) -> Result<bool, StoreError> {
            let mut all = self.0.lock().expect("lock");
            let n = all.entry((scope.to_owned(), limit.window_start(now))).or_default();
            if *n >= limit.max_failures {
                return Ok(false);
            }
            *n += 1;
            Ok(true)
        }
        async fn give_back(&self, scope: &str, limit: Limit, now: OffsetDateTime) -> Result<(), StoreError> {
            let mut all = self.0.lock().expect("lock");
            let n = all.entry((scope.to_owned(), limit.window_start(now))).or_default();
            *n = n.saturating_sub(1);
            Ok(())
        }
    }

    fn campaign() -> Campaign {
        let window = Window::new(datetime!(2026-01-01 0:00 UTC), datetime!(2027-01-01 0:00 UTC)).expect("window");
        Campaign { name: "x".into(), window, price_fen: 100, ..crate::campaign::memory::campaign() }
    }

    fn claim(name: &str) -> Claim {
        Claim::NameId {
            name: PersonName::parse(name).expect("name"),
            id_number: IdNumber::parse("11010519491231002X", date!(2026 - 11 - 23)).expect("id"),
        }
    }

    use crate::identity::memory::MemoryConsents;
    use crate::test_support::run as block_on;

    fn ports<'a>(
        roster: &'a OneEntry,
        counter: &'a Counters,
        cards: &'a Cards,
        consents: &'a MemoryConsents,
    ) -> Ports<'a, OneEntry, Counters, Cards, MemoryConsents> {
        Ports { roster, counter, cards, consents }
    }

    /// One verification of `name` (the roster's ID number) by `user`, no agreement asked.
    fn attempt(
        roster: &OneEntry,
        counters: &Counters,
        cards: &Cards,
        c: &Campaign,
        name: &str,
        user: &UserId,
        now: OffsetDateTime,
    ) -> VerifyOutcome {
        let consents = MemoryConsents::default();
        block_on(verify(ports(roster, counters, cards, &consents), c, &claim(name), asker(user), now)).expect("store")
    }

    fn asker(user: &UserId) -> Asker<'_> {
        Asker { user, source: Some("203.0.113.7") }
    }

    #[test]
    fn given_five_failures_then_the_sixth_attempt_is_limited_even_if_right() {
        let (roster, counters) = (OneEntry::default(), Counters::default());
        let (c, user, now) = (campaign(), UserId::random(), datetime!(2026-11-23 12:07:30 UTC));
        for _ in 0..5 {
            let r = attempt(&roster, &counters, &Cards::default(), &c, "李四", &user, now);
            assert_eq!(r, VerifyOutcome::NoMatch);
        }
        let sixth = attempt(&roster, &counters, &Cards::default(), &c, "张三", &user, now);
        assert_eq!(sixth, VerifyOutcome::Limited(450));
        let later = now + Duration::minutes(8);
        let next_window = attempt(&roster, &counters, &Cards::default(), &c, "张三", &user, later);
        assert!(matches!(next_window, VerifyOutcome::Verified { newly: true, .. }));
    }

    #[test]
    fn given_an_agreement_then_nothing_is_looked_up_until_its_version_is_accepted_and_a_new_version_asks_again() {
        let (roster, counters, consents) = (OneEntry::default(), Counters::default(), MemoryConsents::default());
        let agreement =
            |v: &str| Some(crate::campaign::Agreement { version: v.into(), url: "https://example.edu.cn/p".into() });
        let c = Campaign { privacy_agreement: agreement("v1"), ..campaign() };
        let (user, now) = (UserId::random(), datetime!(2026-11-23 12:00 UTC));
        let try_verify = |c: &Campaign| {
            block_on(verify(
                ports(&roster, &counters, &Cards::default(), &consents),
                c,
                &claim("张三"),
                asker(&user),
                now,
            ))
            .expect("store")
        };
        assert_eq!(try_verify(&c), VerifyOutcome::ConsentRequired);
        assert!(roster.bound.lock().expect("lock").is_none());
        let outdated = block_on(accept_agreement(&consents, &c, &user, "v0", now));
        assert_eq!(outdated, Err(ConsentError::Outdated { current: "v1".into() }));
        let consent = block_on(accept_agreement(&consents, &c, &user, "v1", now)).expect("accepted");
        assert_eq!((consent.version.as_str(), consent.accepted_at), ("v1", now));
        let again = block_on(accept_agreement(&consents, &c, &user, "v1", now + Duration::hours(1))).expect("again");
        assert_eq!(again.accepted_at, now, "the first acceptance is the one kept and shown");
        assert!(matches!(try_verify(&c), VerifyOutcome::Verified { newly: true, .. }));
        let revised = Campaign { privacy_agreement: agreement("v2"), ..campaign() };
        assert_eq!(try_verify(&revised), VerifyOutcome::ConsentRequired, "a new version asks again");
        let none = block_on(accept_agreement(&consents, &campaign(), &user, "v1", now));
        assert_eq!(none, Err(ConsentError::NoAgreement));
    }

    #[test]
    fn given_a_student_collected_offline_then_verification_says_so_and_binds_nothing() {
        let roster = OneEntry { offline: true, ..OneEntry::default() };
        let (counters, c, user) = (Counters::default(), campaign(), UserId::random());
        let now = datetime!(2026-11-23 12:00 UTC);
        let r = attempt(&roster, &counters, &Cards::default(), &c, "张三", &user, now);
        assert_eq!(r, VerifyOutcome::CollectedOffline);
        assert!(roster.bound.lock().expect("lock").is_none(), "no binding, so no order");
        // The attempt stays counted: the mark is no free oracle of which details are real.
        assert_eq!(counters.0.lock().expect("lock").values().copied().max(), Some(1), "{:?}", counters.0);
        // A wrong name is still no match: the mark tells nothing to a guesser.
        let r = attempt(&roster, &counters, &Cards::default(), &c, "李四", &user, now);
        assert_eq!(r, VerifyOutcome::NoMatch);
    }

    #[test]
    fn given_strangers_guessing_from_elsewhere_then_an_honest_student_is_never_limited() {
        let (roster, counters) = (OneEntry::default(), Counters::default());
        let (c, now) = (campaign(), datetime!(2026-11-23 12:00 UTC));
        // Thirty accounts, five wrong guesses each, from one address: the address is limited…
        let strangers: Vec<UserId> = (0..30).map(|_| UserId::random()).collect();
        let mut limited = 0;
        for s in &strangers {
            for _ in 0..5 {
                let r = attempt(&roster, &counters, &Cards::default(), &c, "李四", s, now);
                limited += usize::from(matches!(r, VerifyOutcome::Limited(_)));
            }
        }
        assert_eq!(limited, 150 - PER_SOURCE.max_failures as usize, "the source allows exactly its limit");
        // …while the student, from their own phone's address, verifies at once.
        let student = UserId::random();
        let own = Asker { user: &student, source: Some("198.51.100.20") };
        let r = block_on(verify(
            ports(&roster, &counters, &Cards::default(), &MemoryConsents::default()),
            &c,
            &claim("张三"),
            own,
            now,
        ))
        .expect("store");
        assert!(matches!(r, VerifyOutcome::Verified { newly: true, .. }), "{r:?}");
    }

    #[test]
    fn a_success_gives_its_attempt_back_and_a_limited_attempt_takes_none() {
        let (roster, counters) = (OneEntry::default(), Counters::default());
        let (c, user, now) = (campaign(), UserId::random(), datetime!(2026-11-23 12:00 UTC));
        let scope = format!("verify#c1#{user}");
        attempt(&roster, &counters, &Cards::default(), &c, "李四", &user, now);
        assert_eq!(counters.count(&scope, PER_USER, now), 1);
        let ok = attempt(&roster, &counters, &Cards::default(), &c, "张三", &user, now);
        assert!(matches!(ok, VerifyOutcome::Verified { .. }));
        assert_eq!(counters.count(&scope, PER_USER, now), 1, "the success is not counted");
        assert_eq!(counters.count("verify-src#203.0.113.7", PER_SOURCE, now), 1);
        // A source at its limit refuses without using up the account's allowance.
        for _ in 0..PER_SOURCE.max_failures {
            block_on(counters.take("verify-src#203.0.113.7", PER_SOURCE, now)).expect("take");
        }
        let other = UserId::random();
        let r = attempt(&roster, &counters, &Cards::default(), &c, "李四", &other, now);
        assert!(matches!(r, VerifyOutcome::Limited(_)));
        assert_eq!(counters.count(&format!("verify#c1#{other}"), PER_USER, now), 0);
    }

    #[test]
    fn given_a_bound_entry_then_its_owner_is_verified_again_and_others_conflict() {
        let (roster, counters) = (OneEntry::default(), Counters::default());
        let (c, now) = (campaign(), datetime!(2026-11-23 12:00 UTC));
        let (owner, other) = (UserId::random(), UserId::random());
        attempt(&roster, &counters, &Cards::default(), &c, "张三", &owner, now);
        let again = attempt(&roster, &counters, &Cards::default(), &c, "张三", &owner, now);
        assert!(matches!(again, VerifyOutcome::Verified { newly: false, .. }));
        assert_eq!(counters.count(&format!("verify#c1#{owner}"), PER_USER, now), 0, "successes are not counted");
        // Someone else's real details count like a wrong guess: no free oracle of real pairs.
        for _ in 0..PER_USER.max_failures {
            let theirs = attempt(&roster, &counters, &Cards::default(), &c, "张三", &other, now);
            assert_eq!(theirs, VerifyOutcome::Conflict);
        }
        let then = attempt(&roster, &counters, &Cards::default(), &c, "张三", &other, now);
        assert!(matches!(then, VerifyOutcome::Limited(_)), "{then:?}");
    }

    fn card_campaign() -> Campaign {
        Campaign { require_id_card_photos: true, ..campaign() }
    }

    #[test]
    fn given_a_campaign_asking_for_card_photos_then_links_follow_the_roster_match_and_stop_at_completion() {
        let (roster, counters, cards) = (OneEntry::default(), Counters::default(), Cards::default());
        let (c, user, now) = (card_campaign(), UserId::random(), datetime!(2026-11-23 12:00 UTC));
        // Before any match: no link, whoever asks.
        assert_eq!(block_on(card_photo_link(&roster, &c, &user)).expect("store"), CardLink::VerifyFirst);
        // The match binds, pending: the entry is taken, the student is told photos are needed.
        let first = attempt(&roster, &counters, &cards, &c, "张三", &user, now);
        assert!(
            matches!(first, VerifyOutcome::Verified { newly: true, status: BindingStatus::CardPhotosNeeded, .. }),
            "{first:?}"
        );
        assert_eq!(block_on(card_photo_link(&roster, &c, &user)).expect("store"), CardLink::Allowed);
        let stranger = UserId::random();
        assert_eq!(block_on(card_photo_link(&roster, &c, &stranger)).expect("store"), CardLink::VerifyFirst);
        // One side only: still pending.
        cards.put(CardSide::Front, CardPhoto::Image { version: "vf1".into() });
        let half = attempt(&roster, &counters, &cards, &c, "张三", &user, now);
        assert!(matches!(half, VerifyOutcome::Verified { status: BindingStatus::CardPhotosNeeded, .. }), "{half:?}");
        // Both: complete, with the versions checked; no more links.
        cards.put(CardSide::Back, CardPhoto::Image { version: "vb1".into() });
        let done = attempt(&roster, &counters, &cards, &c, "张三", &user, now);
        assert!(
            matches!(done, VerifyOutcome::Verified { newly: false, status: BindingStatus::Complete, .. }),
            "{done:?}"
        );
        let recorded = roster.completed_with.lock().expect("lock").clone();
        assert_eq!(recorded, Some(CardVersions { front: "vf1".into(), back: "vb1".into() }));
        assert_eq!(block_on(card_photo_link(&roster, &c, &user)).expect("store"), CardLink::AlreadyComplete);
        // A later write to the key (a new version) does not replace what was checked.
        cards.put(CardSide::Front, CardPhoto::Image { version: "vf2".into() });
        attempt(&roster, &counters, &cards, &c, "张三", &user, now);
        let kept = roster.completed_with.lock().expect("lock").clone();
        assert_eq!(kept.map(|v| v.front), Some("vf1".to_owned()));
        assert_eq!(counters.count(&format!("verify#c1#{user}"), PER_USER, now), 0, "matches are not counted");
    }

    #[test]
    fn given_a_card_photo_that_is_not_an_image_then_the_binding_stays_pending() {
        let (roster, counters, cards) = (OneEntry::default(), Counters::default(), Cards::default());
        let (c, user, now) = (card_campaign(), UserId::random(), datetime!(2026-11-23 12:00 UTC));
        attempt(&roster, &counters, &cards, &c, "张三", &user, now);
        cards.put(CardSide::Front, CardPhoto::Image { version: "vf1".into() });
        cards.put(CardSide::Back, CardPhoto::NotAnImage);
        let r = attempt(&roster, &counters, &cards, &c, "张三", &user, now);
        assert_eq!(r, VerifyOutcome::CardPhotoNotAnImage(CardSide::Back));
        assert_eq!(block_on(roster.binding(&c, &user)).expect("store"), Some(BindingStatus::CardPhotosNeeded));
        assert_eq!(block_on(card_photo_link(&roster, &c, &user)).expect("store"), CardLink::Allowed);
    }

    #[test]
    fn given_a_campaign_without_card_photos_then_the_match_completes_and_no_link_is_given() {
        let (roster, counters, cards) = (OneEntry::default(), Counters::default(), Cards::default());
        let (c, user, now) = (campaign(), UserId::random(), datetime!(2026-11-23 12:00 UTC));
        let r = attempt(&roster, &counters, &cards, &c, "张三", &user, now);
        assert!(matches!(r, VerifyOutcome::Verified { status: BindingStatus::Complete, .. }), "{r:?}");
        assert_eq!(block_on(card_photo_link(&roster, &c, &user)).expect("store"), CardLink::NotNeeded);
    }

    #[test]
    fn windows_are_fixed_and_retry_after_counts_to_their_end() {
        let t = datetime!(2026-11-23 12:07:30 UTC);
        assert_eq!(PER_USER.window_start(t), datetime!(2026-11-23 12:00 UTC).unix_timestamp());
        assert_eq!(PER_USER.retry_after(t), 450);
        assert_eq!(PER_SOURCE.retry_after(t), 150);
    }

    #[test]
    fn given_a_daily_limit_then_the_day_is_the_shanghai_day() {
        let daily = Limit::per(20, Duration::days(1));
        // 23:59 and 00:01 in Shanghai are two days, though both are 15:59/16:01 UTC of one.
        let before = datetime!(2026-11-23 15:59 UTC);
        let after = datetime!(2026-11-23 16:01 UTC);
        assert_ne!(daily.window_start(before), daily.window_start(after));
        assert_eq!(daily.window_start(after), datetime!(2026-11-24 0:00 +8).unix_timestamp());
        assert_eq!(daily.retry_after(before), 60);
        // 08:30 Shanghai (00:30 UTC) is the same day as 23:00 Shanghai.
        assert_eq!(
            daily.window_start(datetime!(2026-11-24 0:30 UTC)),
            daily.window_start(datetime!(2026-11-24 15:00 UTC))
        );
    }
}
