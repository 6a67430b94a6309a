//! Uploads: the student of a paid order opens an attempt (a retake is just another attempt,
//! free) and posts the photo to that attempt's key.

use std::future::Future;

use time::OffsetDateTime;

use crate::campaign::{CampaignStatus, Campaigns, PhotoSpec};
use crate::identity::{BindingStatus, Enrolments};
use crate::objects;
use crate::order::{Also, Applied, Change, Fields, Order, OrderState, OrderStore, OutTradeNo, Transition};
use crate::photo::Reason;
use crate::review::ReviewTask;
use crate::{StoreError, UserId};

/// States in which a student may upload (again): paid and not in review or approved.
pub const UPLOADABLE: [OrderState; 6] = [
    OrderState::Paid,
    OrderState::Uploaded,
    OrderState::Standardizing,
    OrderState::Standardized,
    OrderState::RetakeRequired,
    OrderState::Rejected,
];

/// No order needs more attempts than this; more is abuse.
pub const MAX_ATTEMPTS: u32 = 50;

impl Order {
    /// Whether the order takes another attempt: paid, not in review or approved, no refund
    /// asked for, attempts left.
    pub fn may_upload(&self) -> bool {
        UPLOADABLE.contains(&self.state)
            && self.out_refund_no.is_none()
            && self.attempts < MAX_ATTEMPTS
            && self.checks_left != Some(0)
    }
}

/// Port: an order's upload attempts.
pub trait Attempts: Send + Sync {
    /// Opens the next attempt of `order` if the order as stored still [`Order::may_upload`]:
    /// its number and the key its photo goes to ([`crate::objects::upload`]); `None` if not.
    fn start_attempt(
        &self,
        order: &Order,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Option<(u32, String)>, StoreError>> + Send;

    /// The object version attempt `attempt` of `no` took, once standardize took one.
    fn taken_version(
        &self,
        no: &OutTradeNo,
        attempt: u32,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;
}

/// An attempt opened: post the photo to `key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    pub attempt: u32,
    pub key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StartError {
    /// No such order, or not the caller's.
    #[error("no such order")]
    NoOrder,
    #[error("the campaign has closed")]
    CampaignClosed,
    /// Customer service unbound the student: the photo could never be exported.
    #[error("the student is no longer bound in the campaign")]
    NotBound,
    #[error("the binding waits for the ID-card photos")]
    CardPhotosNeeded,
    /// Not paid, in review, approved, refunding, or out of attempts.
    #[error("the order takes no upload now")]
    NotAllowed,
    /// Every free check is used (a reviewer's rejection would give them back).
    #[error("no free checks left")]
    NoChecksLeft,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Opens the next upload attempt of `student`'s order `no`.
pub async fn start_attempt<O, C, E>(
    orders: &O,
    campaigns: &C,
    enrolments: &E,
    student: &UserId,
    no: &OutTradeNo,
    now: OffsetDateTime,
) -> Result<Started, StartError>
where
    O: OrderStore + Attempts,
    C: Campaigns,
    E: Enrolments,
{
    let order = match orders.get(no).await? {
        Some(o) if &o.user_id == student => o,
        _ => return Err(StartError::NoOrder),
    };
    let campaign = campaigns.campaign(&order.campaign_id).await?.ok_or(StartError::NoOrder)?;
    if campaign.status(now) == CampaignStatus::Closed {
        return Err(StartError::CampaignClosed);
    }
    match enrolments.binding(&order.user_id, &order.campaign_id).await? {
        Some(BindingStatus::Complete) => {}
        Some(BindingStatus::CardPhotosNeeded) => return Err(StartError::CardPhotosNeeded),
        None => return Err(StartError::NotBound),
    }
    if order.checks_left == Some(0) && UPLOADABLE.contains(&order.state) {
        return Err(StartError::NoChecksLeft);
    }
    let (attempt, key) = orders.start_attempt(&order, now).await?.ok_or(StartError::NotAllowed)?;
    tracing::info!(out_trade_no = %no, attempt, "upload attempt opened");
    Ok(Started { attempt, key })
}

/// One object version S3 announced at an upload's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    pub bucket: String,
    pub key: String,
    pub etag: String,
    /// `None` in a bucket without versioning.
    pub version: Option<String>,
}

/// An upload as read for the pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Original {
    Found {
        bytes: Vec<u8>,
        uploaded_at: Option<OffsetDateTime>,
    },
    /// Over the size the pipeline reads (S3's form already refuses more).
    TooLarge,
    /// Not readable yet (S3 announced it before it could be read).
    Missing,
}

/// The photos a passing standardization makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandardPhoto {
    pub standard_jpeg: Vec<u8>,
    pub preview_jpeg: Vec<u8>,
    /// The person on transparency (PNG), for reviewers.
    pub cutout_png: Vec<u8>,
}

/// What the pipeline made of an original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standardized {
    pub passed: bool,
    pub reasons: Vec<Reason>,
    /// The whole report (measurements, checks, hints), as reviewers read it.
    pub report_json: Vec<u8>,
    pub photo: Option<StandardPhoto>,
}

/// Port: the uploads bucket and the results bucket.
pub trait Photos: Send + Sync {
    fn original(&self, posted: &Posted) -> impl Future<Output = Result<Original, String>> + Send;
    /// Deletes one version of the posted key (already gone is fine).
    fn remove_version(&self, posted: &Posted, version: &str) -> impl Future<Output = Result<(), String>> + Send;
    fn put_result(
        &self,
        key: &str,
        body: Vec<u8>,
        content_type: &'static str,
    ) -> impl Future<Output = Result<(), String>> + Send;
}

/// Port: the photo pipeline (face, framing, background, checks).
pub trait Standardizer: Send + Sync {
    fn standardize(
        &self,
        original: Vec<u8>,
        spec: &PhotoSpec,
        uploaded_at: Option<OffsetDateTime>,
    ) -> impl Future<Output = Result<Standardized, String>> + Send;
}

/// How an upload ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Processed {
    /// The key names no order we have.
    UnknownOrder,
    /// The attempt did not take it: superseded by a newer attempt, or the order is past
    /// uploads (in review, approved, refunded…). It is in this state.
    NotTaken(OrderState),
    /// Another version posted to an attempt that took one already: deleted, the first kept.
    OverwriteRemoved(OrderState),
    /// Standardized and checked: it waits for the student to submit it.
    Passed,
    /// Standardized and refused by the checks: the student retakes.
    Failed(Vec<Reason>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProcessError {
    /// Retrying can never help.
    #[error("campaign {0} missing")]
    CampaignMissing(String),
    #[error("{0} not readable yet")]
    NotReadableYet(String),
    #[error("photos: {0}")]
    Photos(String),
    #[error("pipeline: {0}")]
    Pipeline(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The ports processing an upload reads and writes.
pub struct ProcessDeps<'a, O, C, P, S> {
    pub orders: &'a O,
    pub campaigns: &'a C,
    pub photos: &'a P,
    pub pipeline: &'a S,
}

/// The version to delete when an upload was not taken: another version of an attempt that
/// took its upload already (never the taken one, never a guess without a version id).
pub fn overwrite_to_remove<'a>(taken: Option<&str>, posted: Option<&'a str>) -> Option<&'a str> {
    match (taken, posted) {
        (Some(taken), Some(posted)) if taken != posted => Some(posted),
        _ => None,
    }
}

/// Processes the photo `posted` to attempt `attempt` of order `no`: the attempt takes it (the
/// first version posted, once) and the order starts standardizing; the results are stored;
/// the order waits for its student to submit the standard photo, or goes back to them with
/// the reasons.
pub async fn process_upload<O, C, P, S>(
    deps: ProcessDeps<'_, O, C, P, S>,
    posted: &Posted,
    no: &OutTradeNo,
    attempt: u32,
) -> Result<Processed, ProcessError>
where
    O: OrderStore + Attempts,
    C: Campaigns,
    P: Photos,
    S: Standardizer,
{
    let Some(order) = deps.orders.get(no).await? else {
        return Ok(Processed::UnknownOrder);
    };
    let campaign = deps.campaigns.campaign(&order.campaign_id).await?;
    let campaign = campaign.ok_or_else(|| ProcessError::CampaignMissing(order.campaign_id.clone()))?;
    let start = Change::new(Transition::StartStandardizing, "upload_received", "standardize")
        .also(Also::LatestAttempt(attempt))
        .also(Also::TakeUpload { attempt, etag: posted.etag.clone(), version: posted.version.clone() });
    let state = match deps.orders.apply(&order, start).await? {
        Applied::Moved => None,
        Applied::Unchanged(state) => Some(state),
        Applied::Refused(_) => Some(order.state),
    };
    if let Some(state) = state {
        let taken = deps.orders.taken_version(no, attempt).await?;
        if let Some(extra) = overwrite_to_remove(taken.as_deref(), posted.version.as_deref()) {
            deps.photos.remove_version(posted, extra).await.map_err(ProcessError::Photos)?;
            return Ok(Processed::OverwriteRemoved(state));
        }
        return Ok(Processed::NotTaken(state));
    }
    let (bytes, uploaded_at) = match deps.photos.original(posted).await.map_err(ProcessError::Photos)? {
        Original::Found { bytes, uploaded_at } => (bytes, uploaded_at),
        Original::TooLarge => (Vec::new(), None), // read nothing: ends as not_a_photo
        Original::Missing => return Err(ProcessError::NotReadableYet(posted.key.clone())),
    };
    let out = deps.pipeline.standardize(bytes, &campaign.spec, uploaded_at).await.map_err(ProcessError::Pipeline)?;
    let prefix = objects::attempt_results(no, attempt);
    let results = objects::Results::at(&prefix);
    let mut files = vec![(results.report(), out.report_json, "application/json")];
    if let Some(p) = out.photo {
        files.push((results.standard(), p.standard_jpeg, "image/jpeg"));
        files.push((results.preview(), p.preview_jpeg, "image/jpeg"));
        files.push((results.cutout(), p.cutout_png, "image/png"));
    }
    for (key, body, content_type) in files {
        deps.photos.put_result(&key, body, content_type).await.map_err(ProcessError::Photos)?;
    }
    let set = Fields { reasons: Some(out.reasons.clone()), result_prefix: Some(prefix), ..Fields::default() };
    // A photo that passed waits for its student to look at it and submit it ([`submit`]).
    let (transition, cause) =
        if out.passed { (Transition::PassChecks, "checks_passed") } else { (Transition::FailChecks, "checks_failed") };
    let finished = Change::new(transition, cause, "standardize").set(set).also(Also::LatestAttempt(attempt));
    deps.orders.apply(&order, finished).await?;
    Ok(if out.passed { Processed::Passed } else { Processed::Failed(out.reasons) })
}

/// How a submission went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submitted {
    /// In review now, with its task queued.
    Queued,
    /// It was in review already (the same tap arriving twice).
    Already,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// No such order, or not the caller's.
    #[error("no such order")]
    NoOrder,
    #[error("the campaign has closed")]
    CampaignClosed,
    /// No standard photo that passed the checks waits: none yet, it failed a check, a retake
    /// was opened since, or the order is past review.
    #[error("nothing to submit: the order is {0:?}")]
    NothingToSubmit(OrderState),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The student submits the standard photo of their latest attempt, which passed the checks,
/// for review: the order goes into review and its task is queued, in one write (no order
/// waits in review without a task, and no task outlives its order's state).
pub async fn submit<O, C>(
    orders: &O,
    campaigns: &C,
    student: &UserId,
    no: &OutTradeNo,
    now: OffsetDateTime,
) -> Result<Submitted, SubmitError>
where
    O: OrderStore + Attempts,
    C: Campaigns,
{
    let order = match orders.get(no).await? {
        Some(o) if &o.user_id == student => o,
        _ => return Err(SubmitError::NoOrder),
    };
    match order.state {
        OrderState::InReview => return Ok(Submitted::Already),
        OrderState::Standardized => {}
        other => return Err(SubmitError::NothingToSubmit(other)),
    }
    let campaign = campaigns.campaign(&order.campaign_id).await?.ok_or(SubmitError::NoOrder)?;
    // After the close, only a photo that was still being processed at the deadline (uploaded
    // in time, standardized after it) may still be submitted.
    let ready_at = order.updated_at.unwrap_or(i64::MIN);
    if campaign.status(now) == CampaignStatus::Closed && ready_at < campaign.window.closes_at.unix_timestamp() {
        return Err(SubmitError::CampaignClosed);
    }
    // The attempt whose standard photo the student saw; a retake opened since supersedes it.
    let prefix = order.result_prefix.clone().ok_or(SubmitError::NothingToSubmit(order.state))?;
    let attempt =
        objects::results_attempt(&prefix).ok_or_else(|| StoreError::Corrupt(format!("results at {prefix}")))?;
    if attempt != order.attempts {
        return Err(SubmitError::NothingToSubmit(order.state));
    }
    let version = orders.taken_version(no, attempt).await?;
    let now_ms = crate::millis(now);
    let key = objects::upload(&order.campaign_id, no, attempt);
    let task = ReviewTask::new(&order.campaign_id, no, attempt, prefix, key, version, now_ms);
    let queue = Change::new(Transition::Submit, "submitted", student.as_str())
        .set(Fields { review_task_id: Some(task.task_id.clone()), ..Fields::default() })
        .also(Also::LatestAttempt(attempt))
        .also(Also::QueueTask(task));
    match orders.apply(&order, queue).await? {
        Applied::Moved => {
            tracing::info!(out_trade_no = %no, attempt, "photo submitted for review");
            Ok(Submitted::Queued)
        }
        Applied::Unchanged(OrderState::InReview) => Ok(Submitted::Already),
        Applied::Unchanged(state) => Err(SubmitError::NothingToSubmit(state)),
        // A retake was opened since it was read: its photo is not the one on screen.
        Applied::Refused(_) => Err(SubmitError::NothingToSubmit(order.state)),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WithdrawError {
    /// No such order, or not the caller's.
    #[error("no such order")]
    NoOrder,
    /// The campaign sends students to customer service instead.
    #[error("the campaign does not let students withdraw")]
    NotAllowed,
    /// After the deadline a photo in review stays there (it could not be submitted again).
    #[error("the campaign has closed")]
    CampaignClosed,
    /// A reviewer holds the photo now.
    #[error("a reviewer holds the photo")]
    BeingReviewed,
    /// Not in review: not submitted, or decided already (an approval is final).
    #[error("not in review: the order is {0:?}")]
    NotInReview(OrderState),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The student takes their submitted photo back out of review (撤回审核), where the campaign
/// allows it and while no reviewer holds it: the task is removed in the write that returns
/// the order to them (`standardized`: submit it again, or retake).
pub async fn withdraw<O, C>(
    orders: &O,
    campaigns: &C,
    student: &UserId,
    no: &OutTradeNo,
    now: OffsetDateTime,
) -> Result<(), WithdrawError>
where
    O: OrderStore,
    C: Campaigns,
{
    let order = match orders.get(no).await? {
        Some(o) if &o.user_id == student => o,
        _ => return Err(WithdrawError::NoOrder),
    };
    let campaign = campaigns.campaign(&order.campaign_id).await?.ok_or(WithdrawError::NoOrder)?;
    if !campaign.allow_withdraw {
        return Err(WithdrawError::NotAllowed);
    }
    if campaign.status(now) == CampaignStatus::Closed {
        return Err(WithdrawError::CampaignClosed);
    }
    let (OrderState::InReview, Some(task_id)) = (order.state, order.review_task_id.clone()) else {
        return Err(WithdrawError::NotInReview(order.state));
    };
    let at_ms = crate::millis(now);
    let back = Change::new(Transition::Withdraw, "withdrawn_by_student", student.as_str())
        .also(Also::WithdrawFreeTask { campaign_id: order.campaign_id.clone(), task_id, at_ms });
    match orders.apply(&order, back).await? {
        Applied::Moved => {
            tracing::info!(out_trade_no = %no, "photo withdrawn from review by its student");
            Ok(())
        }
        Applied::Unchanged(state) => Err(WithdrawError::NotInReview(state)),
        Applied::Refused(_) => Err(WithdrawError::BeingReviewed),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::campaign::Campaign;
    use crate::campaign::memory::{MemoryCampaigns, campaign};
    use crate::identity::memory::MemoryEnrolments;
    use crate::order::change::memory::MemoryOrders;
    use crate::test_support::run;

    fn paid(student: &UserId) -> Order {
        let unpaid = Order::unpaid(student.clone(), "oStudent0001", "c1", "s1", 2500, 0, 7200);
        Order { state: OrderState::Paid, ..unpaid }
    }

    struct World {
        orders: MemoryOrders,
        campaigns: MemoryCampaigns,
        enrolments: MemoryEnrolments,
        student: UserId,
        no: OutTradeNo,
    }

    impl World {
        fn new(order: impl FnOnce(Order) -> Order, campaign: Campaign, binding: Option<BindingStatus>) -> Self {
            let student = UserId::random();
            let order = order(paid(&student));
            let mut bindings = HashMap::new();
            if let Some(b) = binding {
                bindings.insert((student.clone(), "c1".to_owned()), b);
            }
            Self {
                no: order.out_trade_no.clone(),
                orders: MemoryOrders::with([order]),
                campaigns: MemoryCampaigns(vec![campaign]),
                enrolments: MemoryEnrolments(bindings),
                student,
            }
        }

        fn paid() -> Self {
            Self::new(|o| o, campaign(), Some(BindingStatus::Complete))
        }

        fn start_as(&self, who: &UserId) -> Result<Started, StartError> {
            let now = OffsetDateTime::UNIX_EPOCH + time::Duration::days(1);
            run(start_attempt(&self.orders, &self.campaigns, &self.enrolments, who, &self.no, now))
        }

        fn start(&self) -> Result<Started, StartError> {
            self.start_as(&self.student)
        }
    }

    #[test]
    fn given_a_paid_order_when_starting_then_attempt_one_opens_at_its_key_and_a_retake_is_attempt_two() {
        let world = World::paid();
        let first = world.start().expect("attempt");
        assert_eq!(first, Started { attempt: 1, key: format!("photos/c1/{}/a0001", world.no) });
        assert_eq!(world.start().map(|s| s.attempt), Ok(2));
        assert_eq!(world.orders.order(&world.no).map(|o| o.attempts), Some(2));
    }

    #[test]
    fn given_someone_elses_order_then_it_is_not_found() {
        let world = World::paid();
        assert_eq!(world.start_as(&UserId::random()), Err(StartError::NoOrder));
        assert_eq!(world.orders.order(&world.no).map(|o| o.attempts), Some(0));
    }

    #[test]
    fn given_a_closed_campaign_then_no_attempt_opens() {
        let world = World::new(|o| o, Campaign { closed: true, ..campaign() }, Some(BindingStatus::Complete));
        assert_eq!(world.start(), Err(StartError::CampaignClosed));
    }

    #[test]
    fn given_an_unbound_student_or_one_waiting_for_card_photos_then_no_attempt_opens() {
        assert_eq!(World::new(|o| o, campaign(), None).start(), Err(StartError::NotBound));
        let waiting = World::new(|o| o, campaign(), Some(BindingStatus::CardPhotosNeeded));
        assert_eq!(waiting.start(), Err(StartError::CardPhotosNeeded));
    }

    #[test]
    fn given_an_order_unpaid_in_review_approved_refunding_or_out_of_attempts_then_no_attempt_opens() {
        let cases: [fn(Order) -> Order; 5] = [
            |o| Order { state: OrderState::Created, ..o },
            |o| Order { state: OrderState::InReview, ..o },
            |o| Order { state: OrderState::Approved, ..o },
            |o| Order { out_refund_no: Some("RYZ1".into()), ..o },
            |o| Order { attempts: MAX_ATTEMPTS, ..o },
        ];
        for case in cases {
            let world = World::new(case, campaign(), Some(BindingStatus::Complete));
            assert_eq!(world.start(), Err(StartError::NotAllowed));
        }
    }

    #[test]
    fn given_an_order_with_free_checks_then_each_upload_takes_one_and_none_left_is_refused() {
        let counted = |o: Order| Order { free_checks: Some(2), checks_left: Some(2), ..o };
        let world = World::new(counted, campaign(), Some(BindingStatus::Complete));
        world.start().expect("first");
        world.start().expect("second");
        assert_eq!(world.orders.order(&world.no).and_then(|o| o.checks_left), Some(0));
        assert_eq!(world.start(), Err(StartError::NoChecksLeft));
    }

    #[test]
    fn given_no_checks_left_when_a_reviewer_rejects_the_photo_then_they_all_come_back() {
        let spent = |o: Order| Order { state: OrderState::InReview, free_checks: Some(3), checks_left: Some(0), ..o };
        let world = World::new(spent, campaign(), Some(BindingStatus::Complete));
        let order = world.orders.order(&world.no).expect("order");
        let reject = Change::new(Transition::Reject, "rejected", "reviewer")
            .set(Fields { restore_checks: true, ..Fields::default() });
        assert_eq!(run(world.orders.apply(&order, reject)), Ok(Applied::Moved));
        assert_eq!(world.orders.order(&world.no).and_then(|o| o.checks_left), Some(3));
        assert_eq!(world.start().map(|s| s.attempt), Ok(1));
    }

    #[test]
    fn given_a_rejected_photo_then_the_retake_is_another_attempt() {
        let world = World::new(
            |o| Order { state: OrderState::Rejected, attempts: 3, ..o },
            campaign(),
            Some(BindingStatus::Complete),
        );
        assert_eq!(world.start().map(|s| s.attempt), Ok(4));
    }
}

#[cfg(test)]
mod processing {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use super::*;
    use crate::campaign::Campaign;
    use crate::campaign::memory::{MemoryCampaigns, campaign};
    use crate::order::Refusal;
    use crate::order::change::memory::MemoryOrders;
    use crate::test_support::run;

    /// The buckets: originals by version, results by key, versions removed.
    #[derive(Default)]
    struct Buckets {
        originals: HashMap<Option<String>, Original>,
        results: Mutex<HashMap<String, &'static str>>,
        removed: Mutex<Vec<String>>,
    }

    impl Photos for Buckets {
        async fn original(&self, posted: &Posted) -> Result<Original, String> {
            Ok(self.originals.get(&posted.version).cloned().unwrap_or(Original::Missing))
        }
        async fn remove_version(&self, _posted: &Posted, version: &str) -> Result<(), String> {
            self.removed.lock().expect("lock").push(version.to_owned());
            Ok(())
        }
        async fn put_result(&self, key: &str, _body: Vec<u8>, content_type: &'static str) -> Result<(), String> {
            self.results.lock().expect("lock").insert(key.to_owned(), content_type);
            Ok(())
        }
    }

    /// A pipeline that passes any photo of more than 3 bytes and refuses the rest as not a
    /// photo; it counts its runs.
    #[derive(Default)]
    struct Checks(Mutex<u32>);

    impl Standardizer for Checks {
        async fn standardize(
            &self,
            original: Vec<u8>,
            _: &PhotoSpec,
            _: Option<OffsetDateTime>,
        ) -> Result<Standardized, String> {
            *self.0.lock().expect("lock") += 1;
            let passed = original.len() > 3;
            let photo = StandardPhoto { standard_jpeg: vec![1], preview_jpeg: vec![2], cutout_png: vec![3] };
            Ok(Standardized {
                passed,
                reasons: if passed { vec![] } else { vec![Reason::NotAPhoto] },
                report_json: b"{}".to_vec(),
                photo: passed.then_some(photo),
            })
        }
    }

    struct World {
        orders: MemoryOrders,
        campaigns: MemoryCampaigns,
        buckets: Buckets,
        pipeline: Checks,
        no: OutTradeNo,
    }

    impl World {
        /// A paid order with attempt 1 open, and `photo` posted to it as version `v1`.
        fn new(photo: Original) -> Self {
            let unpaid = Order::unpaid(UserId::random(), "oStudent0001", "c1", "s1", 2500, 0, 7200);
            let order = Order { state: OrderState::Paid, attempts: 1, ..unpaid };
            Self {
                no: order.out_trade_no.clone(),
                orders: MemoryOrders::with([order]),
                campaigns: MemoryCampaigns(vec![campaign()]),
                buckets: Buckets { originals: HashMap::from([(Some("v1".into()), photo)]), ..Buckets::default() },
                pipeline: Checks::default(),
            }
        }

        fn photo(bytes: &[u8]) -> Self {
            Self::new(Original::Found { bytes: bytes.to_vec(), uploaded_at: None })
        }

        fn posted(&self, version: &str) -> Posted {
            Posted {
                bucket: "uploads".into(),
                key: objects::upload("c1", &self.no, 1),
                etag: format!("etag-{version}"),
                version: Some(version.into()),
            }
        }

        fn process(&self, version: &str, attempt: u32) -> Result<Processed, ProcessError> {
            let deps = ProcessDeps {
                orders: &self.orders,
                campaigns: &self.campaigns,
                photos: &self.buckets,
                pipeline: &self.pipeline,
            };
            run(process_upload(deps, &self.posted(version), &self.no, attempt))
        }

        fn order(&self) -> Order {
            self.orders.order(&self.no).expect("order")
        }

        fn student(&self) -> UserId {
            self.order().user_id
        }

        fn submit_as(&self, who: &UserId) -> Result<Submitted, SubmitError> {
            run(submit(
                &self.orders,
                &self.campaigns,
                who,
                &self.no,
                OffsetDateTime::UNIX_EPOCH + time::Duration::days(1),
            ))
        }

        fn withdraw_as(&self, who: &UserId) -> Result<(), WithdrawError> {
            run(withdraw(&self.orders, &self.campaigns, who, &self.no, OffsetDateTime::UNIX_EPOCH))
        }

        fn queued(&self) -> Vec<ReviewTask> {
            let applied = self.orders.applied.lock().expect("lock");
            let tasks = applied.iter().flat_map(|(_, c)| c.also.iter());
            tasks.filter_map(|a| if let Also::QueueTask(t) = a { Some(t.clone()) } else { None }).collect()
        }
    }

    #[test]
    fn given_a_good_photo_when_processed_then_its_results_are_stored_and_it_waits_for_its_student() {
        let world = World::photo(b"a portrait");
        assert_eq!(world.process("v1", 1), Ok(Processed::Passed));
        let order = world.order();
        assert_eq!(order.state, OrderState::Standardized);
        let prefix = objects::attempt_results(&world.no, 1);
        assert_eq!(order.result_prefix.as_deref(), Some(prefix.as_str()));
        let results = world.buckets.results.lock().expect("lock");
        let want = ["report.json", "standard.jpg", "preview.jpg", "cutout.png"].map(|f| format!("{prefix}/{f}"));
        assert!(want.iter().all(|k| results.contains_key(k)), "{results:?}");
        assert!(world.queued().is_empty(), "nothing for reviewers before the student submits");
    }

    #[test]
    fn given_a_standardized_photo_when_its_student_submits_then_it_is_in_review_with_one_task_for_that_upload() {
        let world = World::photo(b"a portrait");
        world.process("v1", 1).expect("standardized");
        assert_eq!(world.submit_as(&world.student()), Ok(Submitted::Queued));
        let order = world.order();
        assert_eq!(order.state, OrderState::InReview);
        let tasks = world.queued();
        assert_eq!(tasks.len(), 1);
        assert_eq!((tasks[0].attempt, tasks[0].upload_version.as_deref()), (1, Some("v1")));
        assert_eq!(tasks[0].result_prefix, objects::attempt_results(&world.no, 1));
        assert_eq!(tasks[0].upload_key, objects::upload("c1", &world.no, 1));
        assert_eq!(order.review_task_id.as_deref(), Some(tasks[0].task_id.as_str()));
        // The same tap twice: in review once, one task.
        assert_eq!(world.submit_as(&world.student()), Ok(Submitted::Already));
        assert_eq!(world.queued().len(), 1);
    }

    /// A submitted photo in a campaign that lets students withdraw.
    fn in_review_withdrawable() -> World {
        let campaigns = MemoryCampaigns(vec![Campaign { allow_withdraw: true, ..campaign() }]);
        let world = World { campaigns, ..World::photo(b"a portrait") };
        world.process("v1", 1).expect("standardized");
        world.submit_as(&world.student()).expect("submitted");
        world
    }

    #[test]
    fn given_a_photo_in_review_nobody_holds_when_its_student_withdraws_then_it_is_theirs_again_and_its_task_gone() {
        let world = in_review_withdrawable();
        assert_eq!(world.withdraw_as(&world.student()), Ok(()));
        assert_eq!(world.order().state, OrderState::Standardized);
        let applied = world.orders.applied.lock().expect("lock");
        let (_, last) = applied.last().expect("a change");
        assert!(matches!(last.also.as_slice(), [Also::WithdrawFreeTask { .. }]), "{last:?}");
        drop(applied);
        // Theirs again: submitted anew, or retaken.
        assert_eq!(world.submit_as(&world.student()), Ok(Submitted::Queued));
    }

    #[test]
    fn given_a_photo_a_reviewer_holds_or_one_decided_then_it_is_not_withdrawn() {
        let held = in_review_withdrawable();
        *held.orders.refuse_next.lock().expect("lock") = Some(Refusal::TaskHeld);
        assert_eq!(held.withdraw_as(&held.student()), Err(WithdrawError::BeingReviewed));
        assert_eq!(held.order().state, OrderState::InReview);
        let approved = in_review_withdrawable();
        approved.orders.orders.lock().expect("lock").get_mut(&approved.no).expect("order").state = OrderState::Approved;
        let got = approved.withdraw_as(&approved.student());
        assert_eq!(got, Err(WithdrawError::NotInReview(OrderState::Approved)));
    }

    #[test]
    fn after_the_deadline_a_photo_in_review_stays_and_only_one_still_processing_at_it_may_be_submitted() {
        let world = in_review_withdrawable();
        let closed = Campaign { allow_withdraw: true, closed: true, ..campaign() };
        let world = World { campaigns: MemoryCampaigns(vec![closed.clone()]), ..world };
        assert_eq!(world.withdraw_as(&world.student()), Err(WithdrawError::CampaignClosed));
        // Standardized after the close (uploaded in time): still submitted.
        let late = World { campaigns: MemoryCampaigns(vec![closed]), ..World::photo(b"a portrait") };
        late.process("v1", 1).expect("standardized");
        let after = campaign().window.closes_at.unix_timestamp() + 60;
        late.orders.orders.lock().expect("lock").get_mut(&late.no).expect("order").updated_at = Some(after);
        assert_eq!(late.submit_as(&late.student()), Ok(Submitted::Queued));
    }

    #[test]
    fn given_a_campaign_without_withdrawal_or_someone_elses_order_then_nothing_is_withdrawn() {
        let world = World::photo(b"a portrait");
        world.process("v1", 1).expect("standardized");
        world.submit_as(&world.student()).expect("submitted");
        assert_eq!(world.withdraw_as(&world.student()), Err(WithdrawError::NotAllowed));
        let open = in_review_withdrawable();
        assert_eq!(open.withdraw_as(&UserId::random()), Err(WithdrawError::NoOrder));
        assert_eq!((world.order().state, open.order().state), (OrderState::InReview, OrderState::InReview));
    }

    #[test]
    fn given_no_photo_yet_or_one_the_checks_refused_then_there_is_nothing_to_submit() {
        let before = World::photo(b"a portrait");
        assert_eq!(before.submit_as(&before.student()), Err(SubmitError::NothingToSubmit(OrderState::Paid)));
        let refused = World::photo(b"no");
        refused.process("v1", 1).expect("checked");
        let got = refused.submit_as(&refused.student());
        assert_eq!(got, Err(SubmitError::NothingToSubmit(OrderState::RetakeRequired)));
        assert!(before.queued().is_empty() && refused.queued().is_empty());
    }

    #[test]
    fn given_a_retake_opened_since_or_someone_elses_order_or_a_closed_campaign_then_nothing_is_submitted() {
        let world = World::photo(b"a portrait");
        world.process("v1", 1).expect("standardized");
        assert_eq!(world.submit_as(&UserId::random()), Err(SubmitError::NoOrder));
        world.orders.orders.lock().expect("lock").get_mut(&world.no).expect("order").attempts = 2;
        let got = world.submit_as(&world.student());
        assert_eq!(got, Err(SubmitError::NothingToSubmit(OrderState::Standardized)));
        let closed = World {
            campaigns: MemoryCampaigns(vec![Campaign { closed: true, ..campaign() }]),
            ..World::photo(b"a portrait")
        };
        closed.process("v1", 1).expect("standardized");
        assert_eq!(closed.submit_as(&closed.student()), Err(SubmitError::CampaignClosed));
        assert!(world.queued().is_empty() && closed.queued().is_empty());
    }

    #[test]
    fn given_a_photo_the_checks_refuse_then_the_student_retakes_with_the_reasons_and_nothing_is_queued() {
        let world = World::photo(b"no");
        assert_eq!(world.process("v1", 1), Ok(Processed::Failed(vec![Reason::NotAPhoto])));
        assert_eq!((world.order().state, world.order().reasons), (OrderState::RetakeRequired, vec![Reason::NotAPhoto]));
        assert!(world.queued().is_empty());
        assert_eq!(world.buckets.results.lock().expect("lock").len(), 1, "only the report");
    }

    #[test]
    fn given_an_upload_too_large_to_read_then_it_is_checked_as_nothing_and_refused() {
        let world = World::new(Original::TooLarge);
        assert_eq!(world.process("v1", 1), Ok(Processed::Failed(vec![Reason::NotAPhoto])));
    }

    #[test]
    fn given_the_same_version_announced_twice_then_it_is_standardized_once_and_nothing_is_removed() {
        let world = World::photo(b"a portrait");
        world.process("v1", 1).expect("first");
        world.submit_as(&world.student()).expect("submitted");
        assert_eq!(world.process("v1", 1), Ok(Processed::NotTaken(OrderState::InReview)));
        assert_eq!(*world.pipeline.0.lock().expect("lock"), 1);
        assert!(world.buckets.removed.lock().expect("lock").is_empty());
    }

    #[test]
    fn given_a_second_version_posted_to_a_taken_attempt_then_it_is_removed_and_the_first_kept() {
        let world = World::photo(b"a portrait");
        world.process("v1", 1).expect("first");
        world.submit_as(&world.student()).expect("submitted");
        assert_eq!(world.process("v2", 1), Ok(Processed::OverwriteRemoved(OrderState::InReview)));
        assert_eq!(*world.buckets.removed.lock().expect("lock"), vec!["v2".to_owned()]);
        assert_eq!(world.queued().len(), 1);
    }

    #[test]
    fn given_an_upload_to_a_superseded_attempt_then_it_is_not_taken() {
        let world = World::photo(b"a portrait");
        world.orders.orders.lock().expect("lock").get_mut(&world.no).expect("order").attempts = 2;
        assert_eq!(world.process("v1", 1), Ok(Processed::NotTaken(OrderState::Paid)));
        assert_eq!(*world.pipeline.0.lock().expect("lock"), 0);
    }

    #[test]
    fn given_an_unknown_order_then_nothing_happens_and_given_a_missing_campaign_then_it_is_never_retried() {
        let world = World::photo(b"a portrait");
        world.orders.orders.lock().expect("lock").clear();
        assert_eq!(world.process("v1", 1), Ok(Processed::UnknownOrder));
        let orphan = World { campaigns: MemoryCampaigns(vec![]), ..World::photo(b"a portrait") };
        assert_eq!(orphan.process("v1", 1), Err(ProcessError::CampaignMissing("c1".into())));
        assert_eq!(orphan.order().state, OrderState::Paid);
    }

    #[test]
    fn given_an_upload_not_readable_yet_then_it_is_retried_and_the_retry_standardizes_it() {
        let mut world = World::photo(b"a portrait");
        let photo = world.buckets.originals.remove(&Some("v1".into())).expect("photo");
        let got = world.process("v1", 1);
        assert!(matches!(got, Err(ProcessError::NotReadableYet(_))), "{got:?}");
        world.buckets.originals.insert(Some("v1".into()), photo);
        assert_eq!(world.process("v1", 1), Ok(Processed::Passed));
    }

    #[test]
    fn only_another_version_of_a_taken_attempt_is_removed() {
        // A second write to an attempt that took one: removed, the first kept.
        assert_eq!(overwrite_to_remove(Some("v1"), Some("v2")), Some("v2"));
        // The taken version itself (the event again), an attempt that took none (superseded,
        // or the order moved on) and an event without a version: nothing is deleted.
        assert_eq!(overwrite_to_remove(Some("v1"), Some("v1")), None);
        assert_eq!(overwrite_to_remove(None, Some("v2")), None);
        assert_eq!(overwrite_to_remove(Some("v1"), None), None);
    }
}
