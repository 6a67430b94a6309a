//! Orders: one paid order per student per campaign. The state machine lives here, as one
//! type with explicit transitions; the store enforces it with conditional writes (a write
//! names the states it may leave), so a late or repeated event can never move an order
//! backwards or twice.

use std::fmt;

use serde::{Deserialize, Serialize};

pub mod change;

pub use change::{Also, Applied, Change, Fields, OrderStore, Refusal, StoreError};

/// The order's id, which is also the WeChat Pay `out_trade_no` (6–32 of `[0-9A-Za-z_-|*]`).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OutTradeNo(String);

impl OutTradeNo {
    /// `YZ` and 24 random hex digits.
    pub fn random() -> Self {
        Self(format!("YZ{}", &uuid::Uuid::new_v4().simple().to_string().to_uppercase()[..24]))
    }

    pub fn parse(s: &str) -> Result<Self, crate::user::InvalidValue> {
        let ok = (6..=32).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-|*".contains(&b));
        if ok { Ok(Self(s.to_owned())) } else { Err(crate::user::InvalidValue("out_trade_no")) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for OutTradeNo {
    type Error = crate::user::InvalidValue;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<OutTradeNo> for String {
    fn from(v: OutTradeNo) -> Self {
        v.0
    }
}

impl fmt::Display for OutTradeNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for OutTradeNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderState {
    Created,
    Paid,
    Uploaded,
    Standardizing,
    Standardized,
    RetakeRequired,
    InReview,
    Approved,
    Rejected,
    Cancelled,
    Expired,
    Refunded,
}

/// What moves an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    /// WeChat Pay confirmed the payment (notification or query).
    Pay,
    /// The student cancelled, or the campaign closed, before paying.
    Cancel,
    /// The payment window lapsed at WeChat Pay.
    Expire,
    /// An operator refunded; confirmed by WeChat Pay.
    Refund,
    /// A photo arrived for the order and is being standardized.
    StartStandardizing,
    /// The standard photo passed the automatic checks: the student looks at it and submits
    /// it, or retakes.
    PassChecks,
    /// The student submitted the standard photo that passed the checks: to the reviewers.
    Submit,
    /// The student took the photo back out of review before a reviewer held it: theirs to
    /// submit again or retake.
    Withdraw,
    /// The photo failed a check: the student retakes, free.
    FailChecks,
    /// A reviewer accepted the photo: final.
    Approve,
    /// A reviewer (or customer service) sent the photo back: the student retakes, free.
    Reject,
}

impl Transition {
    /// The states this transition may leave: the condition of its write.
    pub fn from_states(self) -> &'static [OrderState] {
        use OrderState::*;
        match self {
            Transition::Pay => &[Created],
            Transition::Cancel | Transition::Expire => &[Created],
            Transition::Refund => {
                &[Paid, Uploaded, Standardizing, Standardized, RetakeRequired, InReview, Approved, Rejected]
            }
            Transition::StartStandardizing => &[Paid, Uploaded, Standardizing, Standardized, RetakeRequired, Rejected],
            Transition::PassChecks | Transition::FailChecks => &[Standardizing],
            Transition::Submit => &[Standardized],
            Transition::Withdraw => &[InReview],
            Transition::Approve | Transition::Reject => &[InReview],
        }
    }

    pub fn to_state(self) -> OrderState {
        match self {
            Transition::Pay => OrderState::Paid,
            Transition::Cancel => OrderState::Cancelled,
            Transition::Expire => OrderState::Expired,
            Transition::Refund => OrderState::Refunded,
            Transition::StartStandardizing => OrderState::Standardizing,
            Transition::PassChecks => OrderState::Standardized,
            Transition::Submit => OrderState::InReview,
            Transition::Withdraw => OrderState::Standardized,
            Transition::FailChecks => OrderState::RetakeRequired,
            Transition::Approve => OrderState::Approved,
            Transition::Reject => OrderState::Rejected,
        }
    }

    pub fn applies_to(self, state: OrderState) -> bool {
        self.from_states().contains(&state)
    }
}

impl OrderState {
    /// An order in these states still stands for the student's place in the campaign; a new
    /// order is only made once it is gone.
    pub fn is_live(self) -> bool {
        !matches!(self, OrderState::Cancelled | OrderState::Expired | OrderState::Refunded)
    }

    /// Money has been received (and not refunded).
    pub fn is_paid(self) -> bool {
        self.is_live() && self != OrderState::Created
    }

    pub fn as_str(self) -> &'static str {
        use OrderState::*;
        match self {
            Created => "created",
            Paid => "paid",
            Uploaded => "uploaded",
            Standardizing => "standardizing",
            Standardized => "standardized",
            RetakeRequired => "retake_required",
            InReview => "in_review",
            Approved => "approved",
            Rejected => "rejected",
            Cancelled => "cancelled",
            Expired => "expired",
            Refunded => "refunded",
        }
    }
}

/// WeChat Pay's `trade_state` as far as it moves our orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TradeState {
    Success,
    NotPay,
    Closed,
    Refund,
    UserPaying,
    PayError,
    Other,
}

impl TradeState {
    pub fn parse(s: &str) -> Self {
        match s {
            "SUCCESS" => TradeState::Success,
            "NOTPAY" => TradeState::NotPay,
            "CLOSED" | "REVOKED" => TradeState::Closed,
            "REFUND" => TradeState::Refund,
            "USERPAYING" => TradeState::UserPaying,
            "PAYERROR" => TradeState::PayError,
            _ => TradeState::Other,
        }
    }
}

/// An order as stored: who pays how much for which campaign, where it stands, and what
/// the last transition left on it (see [`change::Change`] for how it moves).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub out_trade_no: OutTradeNo,
    pub user_id: crate::UserId,
    pub campaign_id: String,
    pub school_id: String,
    pub amount_fen: u64,
    pub state: OrderState,
    pub payer_openid: String,
    pub created_at: i64,
    /// When WeChat Pay stops accepting the payment (never after the campaign closes).
    pub time_expire: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prepay_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_refund_no: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_reason: Option<String>,
    /// While a refund request is being sent to WeChat Pay (millis): see `request_refund`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_calling_until: Option<i64>,
    /// Where the last standardized attempt's results are (`attempts/<no>/a<n>` in the results bucket).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_prefix: Option<String>,
    /// Why the last photo must be retaken (set by standardize, or by a reviewer).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<crate::photo::Reason>,
    /// The reviewer's or customer service's words to the student with a rejection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_note: Option<String>,
    /// The attempt whose photo is (or was last) in review, and its queue task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_task_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_at: Option<i64>,
    /// The last transition (seconds), set by every conditional move.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<i64>,
    /// Upload attempts opened so far (see [`crate::upload`]).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub attempts: u32,
    /// The campaign's free checks when the order was made, and how many are left: each
    /// upload takes one, a reviewer's rejection gives them all back. `None` on orders made
    /// before checks were counted (only [`crate::upload::MAX_ATTEMPTS`] holds them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_checks: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checks_left: Option<u32>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Order {
    /// A new order, unpaid: `user` pays `amount_fen` for `campaign_id` (of `school_id`) from
    /// WeChat account `payer_openid`, until `time_expire` (seconds, as `created_at`).
    pub fn unpaid(
        user_id: crate::UserId,
        payer_openid: impl Into<String>,
        campaign_id: impl Into<String>,
        school_id: impl Into<String>,
        amount_fen: u64,
        created_at: i64,
        time_expire: i64,
    ) -> Self {
        Self {
            out_trade_no: OutTradeNo::random(),
            user_id,
            campaign_id: campaign_id.into(),
            school_id: school_id.into(),
            amount_fen,
            state: OrderState::Created,
            payer_openid: payer_openid.into(),
            created_at,
            time_expire,
            prepay_id: None,
            transaction_id: None,
            paid_at: None,
            out_refund_no: None,
            refund_reason: None,
            refund_calling_until: None,
            result_prefix: None,
            reasons: Vec::new(),
            review_note: None,
            review_task_id: None,
            approved_at: None,
            updated_at: None,
            attempts: 0,
            free_checks: None,
            checks_left: None,
        }
    }
}

/// How long a student has to complete a payment (never past the campaign's close).
pub const PAYMENT_WINDOW: time::Duration = time::Duration::hours(2);

/// Until when a new order may be paid: [`PAYMENT_WINDOW`], never past the campaign's close.
/// `None` when less than a minute of the campaign is left: a payment its close would cut off
/// is not opened.
pub fn payable_until(closes_at: time::OffsetDateTime, now: time::OffsetDateTime) -> Option<time::OffsetDateTime> {
    let until = (now + PAYMENT_WINDOW).min(closes_at);
    (until - now >= time::Duration::minutes(1)).then_some(until)
}

/// One line of an order's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at: i64,
    pub to: OrderState,
    /// What caused it: `created`, `payment_notification`, `payment_query`, `student_cancel`, …
    pub cause: String,
    /// Who: a user id, `wechatpay`, or a job's name.
    pub actor: String,
}

/// A payment as WeChat Pay reports it (decrypted notification or query answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportedPayment {
    pub appid: String,
    pub mchid: String,
    pub out_trade_no: String,
    pub transaction_id: String,
    pub trade_state: TradeState,
    pub total_fen: u64,
    pub payer_openid: String,
}

/// Why a reported payment cannot pay an order; each is recorded for operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PaymentMismatch {
    #[error("appid differs from ours")]
    AppId,
    #[error("mchid differs from ours")]
    MchId,
    #[error("amount differs from the order's")]
    Amount,
    #[error("the payer is not the order's student")]
    Payer,
}

/// Checks a reported payment against the order it names.
pub fn check_payment(
    reported: &ReportedPayment,
    appid: &str,
    mchid: &str,
    amount_fen: u64,
    payer_openid: &str,
) -> Result<(), PaymentMismatch> {
    if reported.appid != appid {
        return Err(PaymentMismatch::AppId);
    }
    if reported.mchid != mchid {
        return Err(PaymentMismatch::MchId);
    }
    if reported.total_fen != amount_fen {
        return Err(PaymentMismatch::Amount);
    }
    if reported.payer_openid != payer_openid {
        return Err(PaymentMismatch::Payer);
    }
    Ok(())
}

/// Where a student on a campaign's roster stands, as the school sees it (progress, the
/// export's list of who has no photo). Decided from their verification and the order that
/// counts for them ([`counts_over`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    NotVerified,
    NoOrder,
    Unpaid,
    PaidNoPhoto,
    Processing,
    /// The photo passed the checks and waits for the student to submit it.
    NotSubmitted,
    Retake,
    InReview,
    Approved,
    Cancelled,
    Refunded,
    /// Collected offline (已线下采集): not expected online.
    CollectedOffline,
}

impl Stage {
    pub const ALL: [Stage; 12] = [
        Stage::NotVerified,
        Stage::NoOrder,
        Stage::Unpaid,
        Stage::PaidNoPhoto,
        Stage::Processing,
        Stage::NotSubmitted,
        Stage::Retake,
        Stage::InReview,
        Stage::Approved,
        Stage::Cancelled,
        Stage::Refunded,
        Stage::CollectedOffline,
    ];

    /// Where a roster line's student stands: collected offline (and not bound online), else
    /// [`Stage::of`].
    pub fn of_line(bound: bool, collected_offline: bool, order: Option<OrderState>) -> Self {
        if collected_offline && !bound { Stage::CollectedOffline } else { Stage::of(bound, order) }
    }

    pub fn of(verified: bool, order: Option<OrderState>) -> Self {
        match (verified, order) {
            (false, _) => Stage::NotVerified,
            (true, None) => Stage::NoOrder,
            (true, Some(OrderState::Created)) => Stage::Unpaid,
            (true, Some(OrderState::Paid)) => Stage::PaidNoPhoto,
            (true, Some(OrderState::Uploaded | OrderState::Standardizing)) => Stage::Processing,
            (true, Some(OrderState::Standardized)) => Stage::NotSubmitted,
            (true, Some(OrderState::RetakeRequired | OrderState::Rejected)) => Stage::Retake,
            (true, Some(OrderState::InReview)) => Stage::InReview,
            (true, Some(OrderState::Approved)) => Stage::Approved,
            (true, Some(OrderState::Cancelled | OrderState::Expired)) => Stage::Cancelled,
            (true, Some(OrderState::Refunded)) => Stage::Refunded,
        }
    }

    /// (English, Chinese), as the school reads it.
    pub fn labels(self) -> (&'static str, &'static str) {
        match self {
            Stage::NotVerified => ("Not verified", "未验证身份"),
            Stage::NoOrder => ("No order", "未下单"),
            Stage::Unpaid => ("Not paid", "未付款"),
            Stage::PaidNoPhoto => ("Paid, no photo", "已付款，未上传照片"),
            Stage::Processing => ("Photo being processed", "照片处理中"),
            Stage::NotSubmitted => ("Photo not submitted for review", "照片未提交审核"),
            Stage::Retake => ("Must retake", "需重拍"),
            Stage::InReview => ("In review", "审核中"),
            Stage::Approved => ("Approved", "已通过"),
            Stage::Cancelled => ("Order cancelled", "订单已取消"),
            Stage::Refunded => ("Refunded", "已退款"),
            Stage::CollectedOffline => ("Collected offline", "已线下采集"),
        }
    }
}

/// Which of a student's orders in a campaign counts: an approved one, else a live one, else
/// the newest. `true` when `candidate` (state, created) counts over `current`.
pub fn counts_over(candidate: (OrderState, i64), current: (OrderState, i64)) -> bool {
    let key = |(state, created): (OrderState, i64)| (state == OrderState::Approved, state.is_live(), created);
    key(candidate) > key(current)
}

/// The order that counts for each student of a campaign ([`counts_over`]), by user id: the
/// one progress shows and the export takes.
pub fn counting_orders(orders: impl IntoIterator<Item = Order>) -> std::collections::HashMap<String, Order> {
    let mut counting: std::collections::HashMap<String, Order> = std::collections::HashMap::new();
    for o in orders {
        let current = counting.get(o.user_id.as_str());
        if current.is_none_or(|cur| counts_over((o.state, o.created_at), (cur.state, cur.created_at))) {
            counting.insert(o.user_id.to_string(), o);
        }
    }
    counting
}

/// A roster line's part in an export of the photos approved after `since` (millis).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ForExport<'a> {
    /// Its approved photo goes in.
    Photo { order: &'a Order, approved_at: i64 },
    /// Approved at `approved_at`, in an earlier export.
    Earlier { approved_at: i64 },
    /// No approved photo: where the student stands, for the school's list.
    Missing(Stage),
}

/// Where the student bound to a roster line (if any) stands for an export.
pub fn for_export<'a>(
    bound_user: Option<&str>,
    collected_offline: bool,
    counting: &'a std::collections::HashMap<String, Order>,
    since: i64,
) -> ForExport<'a> {
    match bound_user.and_then(|u| counting.get(u)) {
        Some(o) if o.state == OrderState::Approved => {
            let approved_at = o.approved_at.unwrap_or_default();
            if approved_at > since {
                ForExport::Photo { order: o, approved_at }
            } else {
                ForExport::Earlier { approved_at }
            }
        }
        other => ForExport::Missing(Stage::of_line(bound_user.is_some(), collected_offline, other.map(|o| o.state))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order_of(user: &crate::UserId, state: OrderState, created_at: i64, approved_at: Option<i64>) -> Order {
        let o = Order::unpaid(user.clone(), "oStudent0001", "c1", "s1", 2500, created_at, created_at + 7200);
        Order { state, approved_at, ..o }
    }

    #[test]
    fn an_approved_photo_counts_over_a_later_retake_and_a_live_order_over_a_newer_cancelled_one() {
        let (a, b) = (crate::UserId::random(), crate::UserId::random());
        let counting = counting_orders([
            order_of(&a, OrderState::Approved, 10, Some(5_000)),
            order_of(&a, OrderState::Cancelled, 20, None),
            order_of(&b, OrderState::Paid, 10, None),
            order_of(&b, OrderState::Cancelled, 30, None),
        ]);
        assert_eq!(counting[a.as_str()].state, OrderState::Approved);
        assert_eq!(counting[b.as_str()].state, OrderState::Paid);
    }

    #[test]
    fn an_export_takes_photos_approved_since_the_last_and_lists_everyone_else_with_their_stage() {
        let (a, b) = (crate::UserId::random(), crate::UserId::random());
        let counting = counting_orders([
            order_of(&a, OrderState::Approved, 10, Some(5_000)),
            order_of(&b, OrderState::InReview, 10, None),
        ]);
        assert!(matches!(
            for_export(Some(a.as_str()), false, &counting, 0),
            ForExport::Photo { approved_at: 5_000, .. }
        ));
        assert_eq!(for_export(Some(a.as_str()), false, &counting, 5_000), ForExport::Earlier { approved_at: 5_000 });
        assert_eq!(
            for_export(Some(b.as_str()), false, &counting, 0),
            ForExport::Missing(Stage::of(true, Some(OrderState::InReview)))
        );
        assert_eq!(for_export(None, false, &counting, 0), ForExport::Missing(Stage::of(false, None)));
    }

    #[test]
    fn a_payment_is_open_two_hours_but_never_past_the_close_nor_in_its_last_minute() {
        let now = time::OffsetDateTime::UNIX_EPOCH;
        let far = now + time::Duration::days(3);
        assert_eq!(payable_until(far, now), Some(now + PAYMENT_WINDOW));
        let soon = now + time::Duration::minutes(30);
        assert_eq!(payable_until(soon, now), Some(soon));
        assert_eq!(payable_until(now + time::Duration::seconds(59), now), None);
        assert_eq!(payable_until(now - time::Duration::hours(1), now), None);
    }
    use OrderState::*;

    #[test]
    fn out_trade_numbers_are_wechat_shaped() {
        let n = OutTradeNo::random();
        assert_eq!(n.as_str().len(), 26);
        assert!(OutTradeNo::parse(n.as_str()).is_ok());
        for bad in ["", "abc12", &"a".repeat(33), "YZ 123456", "YZ#123456"] {
            assert!(OutTradeNo::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn payment_only_moves_a_created_order() {
        assert!(Transition::Pay.applies_to(Created));
        for s in [Paid, Cancelled, Expired, Refunded, Approved] {
            assert!(!Transition::Pay.applies_to(s), "{s:?}");
        }
    }

    #[test]
    fn refund_needs_money_received_and_cancel_needs_none() {
        assert!(!Transition::Refund.applies_to(Created));
        assert!(!Transition::Refund.applies_to(Refunded));
        assert!(Transition::Refund.applies_to(Paid) && Transition::Refund.applies_to(Approved));
        assert!(Transition::Cancel.applies_to(Created) && !Transition::Cancel.applies_to(Paid));
        for t in [
            Transition::Pay,
            Transition::Cancel,
            Transition::Expire,
            Transition::Refund,
            Transition::PassChecks,
            Transition::Submit,
            Transition::Withdraw,
            Transition::FailChecks,
            Transition::Approve,
            Transition::Reject,
        ] {
            assert!(!t.applies_to(t.to_state()), "{t:?} must not repeat");
        }
        // Decisions are on photos in review only; a rejected photo is retaken, an approved one is final.
        assert!(Transition::Approve.applies_to(InReview) && !Transition::Reject.applies_to(Approved));
        assert!(Transition::StartStandardizing.applies_to(Rejected));
        // A photo arriving while another is processed supersedes it; approved or in review, never.
        assert!(Transition::StartStandardizing.applies_to(Standardizing));
        assert!(
            !Transition::StartStandardizing.applies_to(InReview)
                && !Transition::StartStandardizing.applies_to(Approved)
        );
    }

    #[test]
    fn a_photo_that_passed_the_checks_waits_for_the_student_and_only_it_is_submitted() {
        assert_eq!(Transition::PassChecks.to_state(), Standardized);
        assert_eq!((Transition::Submit.from_states(), Transition::Submit.to_state()), (&[Standardized][..], InReview));
        // Not submitted yet, the student may still retake it.
        assert!(Transition::StartStandardizing.applies_to(Standardized));
        assert_eq!(Stage::of(true, Some(Standardized)), Stage::NotSubmitted);
        assert_eq!(Stage::of_line(false, true, None), Stage::CollectedOffline);
        assert_eq!(Stage::of_line(true, true, Some(InReview)), Stage::InReview, "bound online first: online");
    }

    #[test]
    fn live_and_paid_states() {
        assert!(Created.is_live() && !Created.is_paid());
        assert!(InReview.is_paid() && Approved.is_paid());
        assert!(!Refunded.is_live() && !Cancelled.is_paid());
    }

    #[test]
    fn reported_payments_are_checked_field_by_field() {
        let r = ReportedPayment {
            appid: "wxA".into(),
            mchid: "M1".into(),
            out_trade_no: "YZ0001".into(),
            transaction_id: "T1".into(),
            trade_state: TradeState::Success,
            total_fen: 3000,
            payer_openid: "oStudent".into(),
        };
        assert_eq!(check_payment(&r, "wxA", "M1", 3000, "oStudent"), Ok(()));
        assert_eq!(check_payment(&r, "wxA", "M1", 2999, "oStudent"), Err(PaymentMismatch::Amount));
        assert_eq!(check_payment(&r, "wxB", "M1", 3000, "oStudent"), Err(PaymentMismatch::AppId));
        assert_eq!(check_payment(&r, "wxA", "M2", 3000, "oStudent"), Err(PaymentMismatch::MchId));
        assert_eq!(check_payment(&r, "wxA", "M1", 3000, "oOther"), Err(PaymentMismatch::Payer));
        assert_eq!(TradeState::parse("SUCCESS"), TradeState::Success);
    }

    #[test]
    fn an_approved_order_counts_over_a_newer_live_one_and_a_live_one_over_a_cancelled_one() {
        assert!(counts_over((OrderState::Approved, 1), (OrderState::Paid, 9)));
        assert!(!counts_over((OrderState::Paid, 9), (OrderState::Approved, 1)));
        assert!(counts_over((OrderState::Created, 1), (OrderState::Cancelled, 9)));
        assert!(counts_over((OrderState::Paid, 9), (OrderState::Created, 1)));
    }

    #[test]
    fn stages_follow_verification_then_the_order() {
        assert_eq!(Stage::of(false, Some(OrderState::Approved)), Stage::NotVerified);
        assert_eq!(Stage::of(true, None), Stage::NoOrder);
        assert_eq!(Stage::of(true, Some(OrderState::Rejected)), Stage::Retake);
        assert_eq!(Stage::of(true, Some(OrderState::Standardizing)), Stage::Processing);
        assert_eq!(Stage::of(true, Some(OrderState::Expired)), Stage::Cancelled);
    }
}
