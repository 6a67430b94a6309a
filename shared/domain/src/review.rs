//! Review: a photo that passed the automatic checks waits as a task for a reviewer, who claims
//! it under a short lease; only the lease holder may decide it, and the decision moves the
//! order in the same write that ends the task ([`crate::order::Also::DecideTask`]).

use std::collections::BTreeSet;
use std::future::Future;

use serde::{Deserialize, Serialize};

use crate::order::{Also, Applied, Change, Fields, OrderState, OrderStore, OutTradeNo, StoreError, Transition};
use crate::photo::Reason;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewTask {
    pub task_id: String,
    pub campaign_id: String,
    pub out_trade_no: OutTradeNo,
    pub attempt: u32,
    /// Where the attempt's results are in the results bucket.
    pub result_prefix: String,
    /// Where the original upload is in the uploads bucket.
    pub upload_key: String,
    /// Which version of `upload_key` the attempt took (the one standardized): reviewers are
    /// shown that one, never a later write to the key. `None` for tasks queued before the
    /// uploads bucket was versioned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_version: Option<String>,
    pub queued_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_until: Option<i64>,
    /// The holder's hold slot covering the lease (see the review store).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_slot: Option<u32>,
}

impl ReviewTask {
    pub fn new(
        campaign_id: &str,
        no: &OutTradeNo,
        attempt: u32,
        result_prefix: String,
        upload_key: String,
        upload_version: Option<String>,
        now_ms: i64,
    ) -> Self {
        Self {
            task_id: format!("{now_ms:013}-{no}"),
            campaign_id: campaign_id.to_owned(),
            out_trade_no: no.clone(),
            attempt,
            result_prefix,
            upload_key,
            upload_version,
            queued_at: now_ms,
            lease_by: None,
            lease_until: None,
            lease_slot: None,
        }
    }

    /// `who` holds a live lease on it: the only one who may decide it.
    pub fn held_by(&self, who: &str, now_ms: i64) -> bool {
        self.lease_by.as_deref() == Some(who) && self.lease_until.is_some_and(|u| u > now_ms)
    }

    /// Nobody holds a live lease on it.
    pub fn is_free(&self, now_ms: i64) -> bool {
        self.lease_until.is_none_or(|u| u <= now_ms)
    }
}

/// The most tasks of one campaign a reviewer holds at once: the photo on screen, the next
/// one claimed ahead, and one whose decision is still on its way.
pub const MAX_HELD: usize = 3;

/// What a claim gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claimed {
    Task(Box<ReviewTask>),
    /// Nothing waiting that the reviewer may take.
    Empty,
    /// The reviewer holds [`MAX_HELD`] tasks already: decide or release one first.
    HoldingTooMany,
}

/// One line of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: i64,
    pub actor: String,
    /// `viewed_photos`, `approved`, `rejected`, `sent_back`, `looked_up`, …
    pub action: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// The most a reviewer's note to the student may say.
pub const MAX_NOTE_CHARS: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Approve,
    Reject,
}

/// A reviewer's decision on a photo, as the console sends it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Decision {
    pub decision: Verdict,
    #[serde(default)]
    pub reasons: Vec<Reason>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecideError {
    #[error("the note is over {MAX_NOTE_CHARS} characters")]
    NoteTooLong,
    #[error("an approval carries no reasons")]
    ApprovalWithReasons,
    #[error("a rejection needs a reason or a note")]
    RejectionUnexplained,
    /// Decided already, held by another reviewer, or the hold lapsed.
    #[error("the task is not held by the decider")]
    NotHeld,
    /// The order left review another way (an operator refunded it): the task is gone now.
    #[error("the order left review")]
    Withdrawn,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a decision did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided {
    pub out_trade_no: OutTradeNo,
    pub state: OrderState,
    pub reasons: Vec<Reason>,
    pub note: Option<String>,
    /// `approved` or `rejected`, as the audit trail says.
    pub action: &'static str,
}

/// Port: the review queue, as deciding needs it.
pub trait ReviewTasks: Send + Sync {
    fn get(
        &self,
        campaign_id: &str,
        task_id: &str,
    ) -> impl Future<Output = Result<Option<ReviewTask>, StoreError>> + Send;
    /// Removes a task whose order left review some other way.
    fn drop_task(&self, campaign_id: &str, task_id: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// A reviewer decides a photo they hold: approved (final) or rejected with reasons or a note
/// (the student retakes it). The order moves, the task ends and the audit line is written in
/// one write, and only while the reviewer still holds the task's lease.
pub async fn decide<O: OrderStore, T: ReviewTasks>(
    orders: &O,
    tasks: &T,
    who: &str,
    campaign_id: &str,
    task_id: &str,
    d: Decision,
    now_ms: i64,
) -> Result<Decided, DecideError> {
    let note = d.note.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned);
    if note.as_ref().is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS) {
        return Err(DecideError::NoteTooLong);
    }
    let reasons: Vec<Reason> = d.reasons.into_iter().collect::<BTreeSet<_>>().into_iter().collect();
    let (transition, action) = match d.decision {
        Verdict::Approve if !reasons.is_empty() => return Err(DecideError::ApprovalWithReasons),
        Verdict::Reject if reasons.is_empty() && note.is_none() => return Err(DecideError::RejectionUnexplained),
        Verdict::Approve => (Transition::Approve, "approved"),
        Verdict::Reject => (Transition::Reject, "rejected"),
    };
    let task = match tasks.get(campaign_id, task_id).await? {
        Some(t) if t.held_by(who, now_ms) => t,
        _ => return Err(DecideError::NotHeld),
    };
    let order = orders.get(&task.out_trade_no).await?.ok_or(DecideError::NotHeld)?;
    if order.state != OrderState::InReview || order.review_task_id.as_deref() != Some(task.task_id.as_str()) {
        tasks.drop_task(campaign_id, task_id).await?;
        return Err(DecideError::Withdrawn);
    }
    let codes: Vec<&str> = reasons.iter().map(|r| r.as_str()).collect();
    let detail = match &note {
        Some(n) => format!("task {} reasons {codes:?}: {n}", task.task_id),
        None => format!("task {} reasons {codes:?}", task.task_id),
    };
    let set = Fields {
        reasons: Some(reasons.clone()),
        review_note: Some(note.clone().unwrap_or_default()),
        approved_at: (transition == Transition::Approve).then_some(now_ms),
        // A rejected student always gets a retake: their free checks come back.
        restore_checks: transition == Transition::Reject,
        ..Fields::default()
    };
    let out_trade_no = task.out_trade_no.clone();
    let audit = AuditEntry { at: now_ms, actor: who.to_owned(), action: action.into(), detail };
    let change = Change::new(transition, "review", who)
        .set(set)
        .also(Also::DecideTask { task, by: who.to_owned(), at_ms: now_ms })
        .also(Also::Audit(audit));
    match orders.apply(&order, change).await? {
        Applied::Moved => Ok(Decided { out_trade_no, state: transition.to_state(), reasons, note, action }),
        Applied::Unchanged(_) | Applied::Refused(_) => Err(DecideError::NotHeld),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::Mutex;

    use crate::order::change::memory::MemoryOrders;
    use crate::order::{Order, Refusal};
    use crate::test_support::run;

    /// The queue in memory: tasks by id.
    #[derive(Default)]
    struct Tasks(Mutex<Vec<ReviewTask>>);

    impl ReviewTasks for Tasks {
        async fn get(&self, _campaign_id: &str, task_id: &str) -> Result<Option<ReviewTask>, StoreError> {
            Ok(self.0.lock().expect("lock").iter().find(|t| t.task_id == task_id).cloned())
        }
        async fn drop_task(&self, _campaign_id: &str, task_id: &str) -> Result<(), StoreError> {
            self.0.lock().expect("lock").retain(|t| t.task_id != task_id);
            Ok(())
        }
    }

    const NOW: i64 = 10_000;

    /// An order in review with its task, held by `r1` until 20 000.
    fn in_review() -> (MemoryOrders, Tasks, String) {
        let order = Order::unpaid(crate::UserId::random(), "oStudent0001", "c1", "s1", 2500, 0, 900);
        let task = ReviewTask::new("c1", &order.out_trade_no, 1, "attempts/x/a0001".into(), "photos/x".into(), None, 1);
        let held = ReviewTask { lease_by: Some("r1".into()), lease_until: Some(20_000), ..task };
        let id = held.task_id.clone();
        let (checks, review_task_id) = (Some(10), Some(id.clone()));
        let order =
            Order { state: OrderState::InReview, review_task_id, free_checks: checks, checks_left: Some(0), ..order };
        (MemoryOrders::with([order]), Tasks(Mutex::new(vec![held])), id)
    }

    fn decision(verdict: Verdict, reasons: &[Reason], note: Option<&str>) -> Decision {
        Decision { decision: verdict, reasons: reasons.to_vec(), note: note.map(str::to_owned) }
    }

    fn decide_as(
        orders: &MemoryOrders,
        tasks: &Tasks,
        who: &str,
        id: &str,
        d: Decision,
    ) -> Result<Decided, DecideError> {
        run(decide(orders, tasks, who, "c1", id, d, NOW))
    }

    #[test]
    fn given_a_held_task_when_approved_then_the_order_is_approved_and_the_task_ends_with_an_audit_line() {
        let (orders, tasks, id) = in_review();
        let got = decide_as(&orders, &tasks, "r1", &id, decision(Verdict::Approve, &[], None)).expect("decided");
        assert_eq!((got.state, got.action), (OrderState::Approved, "approved"));
        let order = orders.order(&got.out_trade_no).expect("order");
        assert_eq!((order.state, order.approved_at), (OrderState::Approved, Some(NOW)));
        let applied = orders.applied.lock().expect("lock");
        let also = &applied[0].1.also;
        assert!(matches!(&also[0], Also::DecideTask { by, .. } if by == "r1"), "{also:?}");
        assert!(matches!(&also[1], Also::Audit(a) if a.action == "approved"), "{also:?}");
    }

    #[test]
    fn given_a_rejection_then_its_reasons_are_kept_once_each_with_the_note() {
        let (orders, tasks, id) = in_review();
        let reasons = [Reason::Blurry, Reason::HeadTilted, Reason::Blurry];
        let got = decide_as(&orders, &tasks, "r1", &id, decision(Verdict::Reject, &reasons, Some("  请重拍  ")))
            .expect("decided");
        assert_eq!(got.reasons, [Reason::HeadTilted, Reason::Blurry], "in the codes' order, once each");
        assert_eq!(got.note.as_deref(), Some("请重拍"));
        let rejected = orders.order(&got.out_trade_no).expect("order");
        assert_eq!(rejected.state, OrderState::Rejected);
        assert_eq!(rejected.checks_left, Some(10), "a rejected student gets all their free checks back");
    }

    #[test]
    fn an_approval_with_reasons_and_an_unexplained_rejection_and_a_long_note_are_refused() {
        let (orders, tasks, id) = in_review();
        let long = "长".repeat(MAX_NOTE_CHARS + 1);
        for (d, want) in [
            (decision(Verdict::Approve, &[Reason::Blurry], None), DecideError::ApprovalWithReasons),
            (decision(Verdict::Reject, &[], Some("   ")), DecideError::RejectionUnexplained),
            (decision(Verdict::Reject, &[], Some(&long)), DecideError::NoteTooLong),
        ] {
            assert_eq!(decide_as(&orders, &tasks, "r1", &id, d), Err(want));
        }
        assert!(orders.applied.lock().expect("lock").is_empty());
    }

    #[test]
    fn given_a_task_held_by_another_reviewer_or_a_lapsed_hold_then_nothing_is_decided() {
        let (orders, tasks, id) = in_review();
        let got = decide_as(&orders, &tasks, "r2", &id, decision(Verdict::Approve, &[], None));
        assert_eq!(got, Err(DecideError::NotHeld));
        let late = run(decide(&orders, &tasks, "r1", "c1", &id, decision(Verdict::Approve, &[], None), 20_000));
        assert_eq!(late, Err(DecideError::NotHeld));
        assert!(orders.applied.lock().expect("lock").is_empty());
    }

    #[test]
    fn given_an_order_that_left_review_then_its_task_is_dropped_and_the_reviewer_told() {
        let (orders, tasks, id) = in_review();
        for o in orders.orders.lock().expect("lock").values_mut() {
            o.state = OrderState::Refunded;
        }
        let got = decide_as(&orders, &tasks, "r1", &id, decision(Verdict::Approve, &[], None));
        assert_eq!(got, Err(DecideError::Withdrawn));
        assert!(tasks.0.lock().expect("lock").is_empty());
    }

    #[test]
    fn given_the_lease_lapsing_between_the_read_and_the_write_then_nothing_is_decided() {
        let (orders, tasks, id) = in_review();
        *orders.refuse_next.lock().expect("lock") = Some(Refusal::LeaseLost);
        let got = decide_as(&orders, &tasks, "r1", &id, decision(Verdict::Approve, &[], None));
        assert_eq!(got, Err(DecideError::NotHeld));
        assert!(orders.orders.lock().expect("lock").values().all(|o| o.state == OrderState::InReview));
    }

    #[test]
    fn task_ids_sort_by_age_and_leases_expire() {
        let no = OutTradeNo::parse("YZ0123456789abcdef01234567").expect("no");
        let a = ReviewTask::new("c", &no, 1, "p".into(), "k".into(), Some("v1".into()), 999);
        let b = ReviewTask::new("c", &no, 1, "p".into(), "k".into(), None, 1_000);
        assert!(a.task_id < b.task_id, "older first: {} {}", a.task_id, b.task_id);
        let held = ReviewTask { lease_by: Some("r1".into()), lease_until: Some(5_000), ..a };
        assert!(held.held_by("r1", 4_999) && !held.held_by("r2", 4_999));
        assert!(!held.is_free(4_999) && held.is_free(5_000) && !held.held_by("r1", 5_000));
    }
}
