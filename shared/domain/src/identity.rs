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
}

/// Does the entry found for a claim really belong to it? The lookup key already matched
/// (ID number, 考生号 or 采集码); the name must match too where the claim has one.
pub fn confirms(claim: &Claim, entry: &StoredEntry) -> bool {
    match claim {
        Claim::NameId { name, .. } => &entry.name == name,
        Claim::ExamNumber(_) | Claim::CollectionCode(_) => true,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bind {
    /// Newly bound to this user.
    Bound,
    /// Already this user's (a repeated verification).
    AlreadyYours,
    /// Bound to another user: customer service resolves it.
    TakenByAnother,
    /// This user already holds another entry of the campaign.
    YouHoldAnother,
}

/// A fixed-window limit on attempts that did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max_failures: u32,
    pub window: Duration,
}

/// A person gets five tries per quarter hour per campaign.
pub const PER_USER: Limit = Limit { max_failures: 5, window: Duration::minutes(15) };
/// Many accounts guessing from one network source. A campus behind one address shares it, so
/// it is far above what its honest students mistype in ten minutes.
pub const PER_SOURCE: Limit = Limit { max_failures: 100, window: Duration::minutes(10) };

impl Limit {
    /// The start of the window `now` falls in (unix seconds).
    pub fn window_start(&self, now: OffsetDateTime) -> i64 {
        let w = self.window.whole_seconds();
        now.unix_timestamp().div_euclid(w) * w
    }

    /// Seconds until the window `now` falls in ends.
    pub fn retry_after(&self, now: OffsetDateTime) -> u32 {
        let end = self.window_start(now) + self.window.whole_seconds();
        u32::try_from((end - now.unix_timestamp()).max(1)).unwrap_or(1)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("identity store unavailable: {0}")]
pub struct StoreError(pub String);

/// Port: roster entries and bindings.
pub trait RosterLookup: Send + Sync {
    fn find(
        &self,
        campaign: &Campaign,
        claim: &Claim,
    ) -> impl Future<Output = Result<Option<StoredEntry>, StoreError>> + Send;
    fn bind(
        &self,
        campaign: &Campaign,
        entry: &StoredEntry,
        user: &UserId,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Bind, StoreError>> + Send;
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
    },
    NoMatch,
    Conflict,
    YouHoldAnother,
    /// Too many failures: wait this many seconds.
    Limited(u32),
}

/// Who is asking: the account, and the network address the request came from (`None` where
/// the platform gives none).
#[derive(Debug, Clone, Copy)]
pub struct Asker<'a> {
    pub user: &'a UserId,
    pub source: Option<&'a str>,
}

/// The verification use case.
pub async fn verify<R: RosterLookup, C: AttemptCounter>(
    roster: &R,
    counter: &C,
    campaign: &Campaign,
    claim: &Claim,
    asker: Asker<'_>,
    now: OffsetDateTime,
) -> Result<VerifyOutcome, StoreError> {
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
    let outcome = match roster.bind(campaign, &entry, asker.user, now).await? {
        Bind::Bound => VerifyOutcome::Verified { entry, newly: true },
        Bind::AlreadyYours => VerifyOutcome::Verified { entry, newly: false },
        // Someone else's details, or details of another entry while the account holds one:
        // counted like a wrong guess, or either answer would tell any account, without limit,
        // that a guessed name and ID number are real.
        Bind::TakenByAnother => return Ok(VerifyOutcome::Conflict),
        Bind::YouHoldAnother => return Ok(VerifyOutcome::YouHoldAnother),
    };
    give_back(counter, &taken, now).await?;
    Ok(outcome)
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

    use crate::campaign::{CampaignKind, PhotoSpec, Preset, Window};
    use std::collections::HashMap;
    use std::sync::Mutex;

    /// One roster entry (张三, 11010519491231002X) and its binding.
    struct OneEntry(Mutex<Option<UserId>>);

    impl RosterLookup for OneEntry {
        async fn find(&self, _c: &Campaign, claim: &Claim) -> Result<Option<StoredEntry>, StoreError> {
            let hit = matches!(claim, Claim::NameId { id_number, .. } if id_number.expose() == "11010519491231002X");
            Ok(hit.then(|| StoredEntry {
                entry_id: "e1".into(),
                name: PersonName::parse("张三").expect("name"),
                bound_user_id: self.0.lock().expect("lock").clone(),
                view: serde_json::json!({}),
            }))
        }
        async fn bind(
            &self,
            _c: &Campaign,
            _e: &StoredEntry,
            user: &UserId,
            _now: OffsetDateTime,
        ) -> Result<Bind, StoreError> {
            let mut bound = self.0.lock().expect("lock");
            Ok(match bound.as_ref() {
                None => {
                    *bound = Some(user.clone());
                    Bind::Bound
                }
                Some(u) if u == user => Bind::AlreadyYours,
                Some(_) => Bind::TakenByAnother,
            })
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
        Campaign {
            id: "c1".into(),
            school_id: "s1".into(),
            name: "x".into(),
            kind: CampaignKind::Graduation,
            spec: PhotoSpec::preset(Preset::Chsi),
            window: Window::new(datetime!(2026-01-01 0:00 UTC), datetime!(2027-01-01 0:00 UTC)).expect("window"),
            price_fen: 100,
            identity_mode: IdentityMode::NameIdNumber,
            require_id_card_photos: false,
            closed: false,
        }
    }

    fn claim(name: &str) -> Claim {
        Claim::NameId {
            name: PersonName::parse(name).expect("name"),
            id_number: IdNumber::parse("11010519491231002X", date!(2026 - 11 - 23)).expect("id"),
        }
    }

    fn block_on<T>(f: impl Future<Output = T>) -> T {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        let mut f = std::pin::pin!(f);
        loop {
            if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }

    fn asker(user: &UserId) -> Asker<'_> {
        Asker { user, source: Some("203.0.113.7") }
    }

    #[test]
    fn given_five_failures_then_the_sixth_attempt_is_limited_even_if_right() {
        let (roster, counters) = (OneEntry(Mutex::new(None)), Counters::default());
        let (c, user, now) = (campaign(), UserId::random(), datetime!(2026-11-23 12:07:30 UTC));
        for _ in 0..5 {
            let r = block_on(verify(&roster, &counters, &c, &claim("李四"), asker(&user), now)).expect("store");
            assert_eq!(r, VerifyOutcome::NoMatch);
        }
        let sixth = block_on(verify(&roster, &counters, &c, &claim("张三"), asker(&user), now)).expect("store");
        assert_eq!(sixth, VerifyOutcome::Limited(450));
        let later = now + Duration::minutes(8);
        let next_window = block_on(verify(&roster, &counters, &c, &claim("张三"), asker(&user), later)).expect("store");
        assert!(matches!(next_window, VerifyOutcome::Verified { newly: true, .. }));
    }

    #[test]
    fn given_strangers_guessing_from_elsewhere_then_an_honest_student_is_never_limited() {
        let (roster, counters) = (OneEntry(Mutex::new(None)), Counters::default());
        let (c, now) = (campaign(), datetime!(2026-11-23 12:00 UTC));
        // Thirty accounts, five wrong guesses each, from one address: the address is limited…
        let strangers: Vec<UserId> = (0..30).map(|_| UserId::random()).collect();
        let mut limited = 0;
        for s in &strangers {
            for _ in 0..5 {
                let r = block_on(verify(&roster, &counters, &c, &claim("李四"), asker(s), now)).expect("store");
                limited += usize::from(matches!(r, VerifyOutcome::Limited(_)));
            }
        }
        assert_eq!(limited, 150 - PER_SOURCE.max_failures as usize, "the source allows exactly its limit");
        // …while the student, from their own phone's address, verifies at once.
        let student = UserId::random();
        let own = Asker { user: &student, source: Some("198.51.100.20") };
        let r = block_on(verify(&roster, &counters, &c, &claim("张三"), own, now)).expect("store");
        assert!(matches!(r, VerifyOutcome::Verified { newly: true, .. }), "{r:?}");
    }

    #[test]
    fn a_success_gives_its_attempt_back_and_a_limited_attempt_takes_none() {
        let (roster, counters) = (OneEntry(Mutex::new(None)), Counters::default());
        let (c, user, now) = (campaign(), UserId::random(), datetime!(2026-11-23 12:00 UTC));
        let scope = format!("verify#c1#{user}");
        block_on(verify(&roster, &counters, &c, &claim("李四"), asker(&user), now)).expect("store");
        assert_eq!(counters.count(&scope, PER_USER, now), 1);
        let ok = block_on(verify(&roster, &counters, &c, &claim("张三"), asker(&user), now)).expect("store");
        assert!(matches!(ok, VerifyOutcome::Verified { .. }));
        assert_eq!(counters.count(&scope, PER_USER, now), 1, "the success is not counted");
        assert_eq!(counters.count("verify-src#203.0.113.7", PER_SOURCE, now), 1);
        // A source at its limit refuses without using up the account's allowance.
        for _ in 0..PER_SOURCE.max_failures {
            block_on(counters.take("verify-src#203.0.113.7", PER_SOURCE, now)).expect("take");
        }
        let other = UserId::random();
        let r = block_on(verify(&roster, &counters, &c, &claim("李四"), asker(&other), now)).expect("store");
        assert!(matches!(r, VerifyOutcome::Limited(_)));
        assert_eq!(counters.count(&format!("verify#c1#{other}"), PER_USER, now), 0);
    }

    #[test]
    fn given_a_bound_entry_then_its_owner_is_verified_again_and_others_conflict() {
        let (roster, counters) = (OneEntry(Mutex::new(None)), Counters::default());
        let (c, now) = (campaign(), datetime!(2026-11-23 12:00 UTC));
        let (owner, other) = (UserId::random(), UserId::random());
        block_on(verify(&roster, &counters, &c, &claim("张三"), asker(&owner), now)).expect("store");
        let again = block_on(verify(&roster, &counters, &c, &claim("张三"), asker(&owner), now)).expect("store");
        assert!(matches!(again, VerifyOutcome::Verified { newly: false, .. }));
        assert_eq!(counters.count(&format!("verify#c1#{owner}"), PER_USER, now), 0, "successes are not counted");
        // Someone else's real details count like a wrong guess: no free oracle of real pairs.
        for _ in 0..PER_USER.max_failures {
            let theirs = block_on(verify(&roster, &counters, &c, &claim("张三"), asker(&other), now)).expect("store");
            assert_eq!(theirs, VerifyOutcome::Conflict);
        }
        let then = block_on(verify(&roster, &counters, &c, &claim("张三"), asker(&other), now)).expect("store");
        assert!(matches!(then, VerifyOutcome::Limited(_)), "{then:?}");
    }

    #[test]
    fn windows_are_fixed_and_retry_after_counts_to_their_end() {
        let t = datetime!(2026-11-23 12:07:30 UTC);
        assert_eq!(PER_USER.window_start(t), datetime!(2026-11-23 12:00 UTC).unix_timestamp());
        assert_eq!(PER_USER.retry_after(t), 450);
        assert_eq!(PER_SOURCE.retry_after(t), 150);
    }
}
