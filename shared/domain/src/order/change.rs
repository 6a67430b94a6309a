//! How an order moves: one [`Change`] is a transition of the state machine, why and by whom,
//! the fields it sets, and everything else that must happen in the same write ([`Also`]): a
//! review task queued or ended, an upload taken, the payment recorded, an audit line. The
//! store writes a change all together or not at all, and says which condition stopped it
//! ([`Applied`]), so a lost lease is never mistaken for an order that moved.

use std::future::Future;

use super::{Order, OrderState, OutTradeNo, Transition};
use crate::photo::Reason;
use crate::review::{AuditEntry, ReviewTask};
use crate::user::UserId;

/// One change of an order, written all together or not at all.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub transition: Transition,
    /// What caused it: `payment_notification`, `review`, `checks_passed`, `student_cancel`, …
    pub cause: String,
    /// Who: a user id, `wechatpay`, or a job's name.
    pub actor: String,
    pub set: Fields,
    pub also: Vec<Also>,
}

impl Change {
    pub fn new(transition: Transition, cause: impl Into<String>, actor: impl Into<String>) -> Self {
        Self { transition, cause: cause.into(), actor: actor.into(), set: Fields::default(), also: Vec::new() }
    }

    pub fn set(mut self, set: Fields) -> Self {
        self.set = set;
        self
    }

    pub fn also(mut self, also: Also) -> Self {
        self.also.push(also);
        self
    }
}

/// The order's fields a change may set besides its state (`None`: left as it is).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields {
    pub reasons: Option<Vec<Reason>>,
    pub review_note: Option<String>,
    pub result_prefix: Option<String>,
    pub review_task_id: Option<String>,
    pub approved_at: Option<i64>,
    pub transaction_id: Option<String>,
    pub paid_at: Option<i64>,
    /// Every free check is given back (a rejection).
    pub restore_checks: bool,
}

/// What else happens in the same write as an order's transition.
#[derive(Debug, Clone, PartialEq)]
pub enum Also {
    /// Only while `attempt` is the order's latest upload attempt.
    LatestAttempt(u32),
    /// The attempt takes this upload (object version and etag), once: refused when it took
    /// another one already.
    TakeUpload { attempt: u32, etag: String, version: Option<String> },
    /// The task is queued.
    QueueTask(ReviewTask),
    /// The task ends, decided by `by`: refused unless `by` holds its lease at `at_ms`.
    DecideTask { task: ReviewTask, by: String, at_ms: i64 },
    /// The task ends, whoever holds it (customer service sends the photo back).
    WithdrawTask { campaign_id: String, task_id: String },
    /// The task ends only if no reviewer holds it at `at_ms` (the student withdraws it):
    /// refused as [`Refusal::TaskHeld`] otherwise.
    WithdrawFreeTask { campaign_id: String, task_id: String, at_ms: i64 },
    /// The payment is recorded, once per transaction id.
    RecordPayment { transaction_id: String, amount_fen: u64, detail: serde_json::Value },
    /// The campaign's count of paid students moves by this much.
    CountPaid(i64),
    /// The student's roster binding in the campaign is undone (it must still be this one).
    Unbind(Binding),
    /// A line of the order's audit trail.
    Audit(AuditEntry),
}

/// A student's binding to a roster entry, as read before undoing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub campaign_id: String,
    pub user: UserId,
    pub entry_id: String,
}

/// How a change went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    Moved,
    /// The order is not in a state the transition leaves: it is in this one. Nothing written.
    Unchanged(OrderState),
    /// The order could have moved, but another condition of the change failed. Nothing written.
    Refused(Refusal),
}

/// Which condition besides the order's state stopped a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A newer upload attempt was opened.
    NotLatestAttempt,
    /// The attempt took another upload.
    UploadTaken,
    /// The decider does not hold the task's lease (lapsed, or taken by another reviewer).
    LeaseLost,
    /// The task is queued already.
    TaskQueued,
    /// A reviewer holds the task.
    TaskHeld,
    /// This payment was recorded already.
    PaymentRecorded,
    /// The binding changed since it was read.
    BindingChanged,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The store did not answer or refused for now; the caller may retry.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A stored record that does not parse, or one that vanished: a bug, not the caller's.
    #[error("store corrupt: {0}")]
    Corrupt(String),
}

/// Port: where orders live.
pub trait OrderStore: Send + Sync {
    fn get(&self, no: &OutTradeNo) -> impl Future<Output = Result<Option<Order>, StoreError>> + Send;

    /// Writes `change` to `order` if the order is in one of its transition's from-states and
    /// every other condition of the change holds; else nothing, and which failed.
    fn apply(&self, order: &Order, change: Change) -> impl Future<Output = Result<Applied, StoreError>> + Send;

    /// The student's live order in `fresh`'s campaign, or `fresh` made and returned with
    /// `true`. Two concurrent calls for one student make one order.
    fn open(&self, fresh: Order) -> impl Future<Output = Result<(Order, bool), StoreError>> + Send;

    /// Records the WeChat Pay prepay id the order is paid through.
    fn set_prepay(&self, no: &OutTradeNo, prepay_id: &str) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Notes what operators must look at (a payment that cannot pay its order).
    fn record_anomaly(
        &self,
        kind: &str,
        out_trade_no: &str,
        detail: serde_json::Value,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

#[cfg(any(test, feature = "memory"))]
pub mod memory {
    //! An order store in memory that keeps the rules the real one keeps: a change moves the
    //! order only from its transition's from-states, and a payment is recorded once.

    use std::collections::{BTreeSet, HashMap};
    use std::sync::Mutex;

    use super::*;

    /// An upload an attempt took: its etag and object version.
    pub type Taken = (String, Option<String>);

    #[derive(Default)]
    pub struct MemoryOrders {
        pub orders: Mutex<HashMap<OutTradeNo, Order>>,
        pub payments: Mutex<BTreeSet<String>>,
        /// `(kind, out_trade_no)` of each anomaly recorded.
        pub anomalies: Mutex<Vec<(String, String)>>,
        /// Every change applied, in order.
        pub applied: Mutex<Vec<(OutTradeNo, Change)>>,
        /// The campaign's paid count, by campaign id.
        pub paid: Mutex<HashMap<String, i64>>,
        /// The next change is refused so, as if that condition failed at the write.
        pub refuse_next: Mutex<Option<Refusal>>,
        /// `(order, attempt)` → the upload that attempt took.
        pub taken: Mutex<HashMap<(OutTradeNo, u32), Taken>>,
    }

    impl MemoryOrders {
        pub fn with(orders: impl IntoIterator<Item = Order>) -> Self {
            let store = Self::default();
            store.orders.lock().expect("lock").extend(orders.into_iter().map(|o| (o.out_trade_no.clone(), o)));
            store
        }

        pub fn order(&self, no: &OutTradeNo) -> Option<Order> {
            self.orders.lock().expect("lock").get(no).cloned()
        }
    }

    impl crate::upload::Attempts for MemoryOrders {
        async fn start_attempt(
            &self,
            order: &Order,
            _now: time::OffsetDateTime,
        ) -> Result<Option<(u32, String)>, StoreError> {
            let mut orders = self.orders.lock().expect("lock");
            let stored = orders
                .get_mut(&order.out_trade_no)
                .ok_or_else(|| StoreError::Corrupt(format!("order {} vanished", order.out_trade_no)))?;
            if !stored.may_upload() {
                return Ok(None);
            }
            stored.attempts += 1;
            stored.checks_left = stored.checks_left.map(|n| n - 1);
            Ok(Some((
                stored.attempts,
                crate::objects::upload(&stored.campaign_id, &stored.out_trade_no, stored.attempts),
            )))
        }

        async fn taken_version(&self, no: &OutTradeNo, attempt: u32) -> Result<Option<String>, StoreError> {
            Ok(self.taken.lock().expect("lock").get(&(no.clone(), attempt)).and_then(|(_, v)| v.clone()))
        }
    }

    impl OrderStore for MemoryOrders {
        async fn get(&self, no: &OutTradeNo) -> Result<Option<Order>, StoreError> {
            Ok(self.order(no))
        }

        async fn apply(&self, order: &Order, change: Change) -> Result<Applied, StoreError> {
            let mut orders = self.orders.lock().expect("lock");
            let stored = orders
                .get_mut(&order.out_trade_no)
                .ok_or_else(|| StoreError::Corrupt(format!("order {} vanished", order.out_trade_no)))?;
            if !change.transition.applies_to(stored.state) {
                return Ok(Applied::Unchanged(stored.state));
            }
            if let Some(refusal) = self.refuse_next.lock().expect("lock").take() {
                return Ok(Applied::Refused(refusal));
            }
            let mut payments = self.payments.lock().expect("lock");
            let mut taken = self.taken.lock().expect("lock");
            for also in &change.also {
                let refused = match also {
                    Also::RecordPayment { transaction_id, .. } if payments.contains(transaction_id) => {
                        Some(Refusal::PaymentRecorded)
                    }
                    Also::LatestAttempt(n) if *n != stored.attempts => Some(Refusal::NotLatestAttempt),
                    // The same upload again is taken again (a retried message); another is not.
                    Also::TakeUpload { attempt, etag, version } => taken
                        .get(&(order.out_trade_no.clone(), *attempt))
                        .filter(|t| **t != (etag.clone(), version.clone()))
                        .map(|_| Refusal::UploadTaken),
                    _ => None,
                };
                if let Some(refusal) = refused {
                    return Ok(Applied::Refused(refusal));
                }
            }
            for also in &change.also {
                match also {
                    Also::RecordPayment { transaction_id, .. } => {
                        payments.insert(transaction_id.clone());
                    }
                    Also::TakeUpload { attempt, etag, version } => {
                        taken.insert((order.out_trade_no.clone(), *attempt), (etag.clone(), version.clone()));
                    }
                    Also::CountPaid(by) => {
                        *self.paid.lock().expect("lock").entry(stored.campaign_id.clone()).or_default() += by
                    }
                    _ => {}
                }
            }
            stored.state = change.transition.to_state();
            let f = &change.set;
            if let Some(v) = &f.transaction_id {
                stored.transaction_id = Some(v.clone());
            }
            if let Some(v) = f.paid_at {
                stored.paid_at = Some(v);
            }
            if let Some(v) = &f.reasons {
                stored.reasons = v.clone();
            }
            if let Some(v) = &f.review_note {
                stored.review_note = Some(v.clone());
            }
            if let Some(v) = &f.result_prefix {
                stored.result_prefix = Some(v.clone());
            }
            if let Some(v) = &f.review_task_id {
                stored.review_task_id = Some(v.clone());
            }
            if let Some(v) = f.approved_at {
                stored.approved_at = Some(v);
            }
            if f.restore_checks {
                stored.checks_left = stored.free_checks;
            }
            self.applied.lock().expect("lock").push((order.out_trade_no.clone(), change));
            Ok(Applied::Moved)
        }

        async fn open(&self, fresh: Order) -> Result<(Order, bool), StoreError> {
            let mut orders = self.orders.lock().expect("lock");
            let live = orders
                .values()
                .find(|o| o.user_id == fresh.user_id && o.campaign_id == fresh.campaign_id && o.state.is_live());
            if let Some(live) = live {
                return Ok((live.clone(), false));
            }
            orders.insert(fresh.out_trade_no.clone(), fresh.clone());
            Ok((fresh, true))
        }

        async fn set_prepay(&self, no: &OutTradeNo, prepay_id: &str) -> Result<(), StoreError> {
            let mut orders = self.orders.lock().expect("lock");
            let order = orders.get_mut(no).ok_or_else(|| StoreError::Corrupt(format!("order {no} vanished")))?;
            order.prepay_id = Some(prepay_id.to_owned());
            Ok(())
        }

        async fn record_anomaly(&self, kind: &str, no: &str, _detail: serde_json::Value) -> Result<(), StoreError> {
            self.anomalies.lock().expect("lock").push((kind.to_owned(), no.to_owned()));
            Ok(())
        }
    }
}
