//! Payments: where an order is marked paid ([`settle`]) and where an unpaid one is cancelled
//! ([`cancel_unpaid`]). A payment WeChat Pay reports, by notification or by query, is checked
//! against the order and pays it exactly once; anything that cannot pay it (unknown order,
//! wrong amount, appid, mchid or payer, paid after cancellation, a second transaction) is
//! recorded for operators and never pays it.

use std::future::Future;

use time::OffsetDateTime;

pub mod open;

pub use open::{OpenError, Opened, open_for_payment};

use crate::order::{
    Also, Applied, Change, Fields, Order, OrderState, OrderStore, OutTradeNo, PaymentMismatch, ReportedPayment,
    StoreError, TradeState, Transition, change::Binding, check_payment,
};

/// WeChat Pay could not be asked (unreachable, refused, an answer that failed verification).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct GatewayError(pub String);

/// What closing a trade at WeChat Pay found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closing {
    /// Closed: it can no longer be paid.
    Closed,
    /// Paid before it could be closed.
    AlreadyPaid,
    /// WeChat Pay has no such trade (the student never opened the payment).
    NoSuchTrade,
}

/// A trade to open at WeChat Pay (JSAPI): the student pays it in the mini-program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepay<'a> {
    pub out_trade_no: &'a str,
    pub description: &'a str,
    pub amount_fen: u64,
    pub payer_openid: &'a str,
    pub time_expire: OffsetDateTime,
}

/// Port: WeChat Pay, as far as opening, settling and cancelling need it.
pub trait PaymentGateway: Send + Sync {
    fn appid(&self) -> &str;
    fn mchid(&self) -> &str;
    fn close(&self, no: &OutTradeNo) -> impl Future<Output = Result<Closing, GatewayError>> + Send;
    /// The trade as WeChat Pay has it; `None` when it has no such trade.
    fn query(&self, no: &OutTradeNo) -> impl Future<Output = Result<Option<ReportedPayment>, GatewayError>> + Send;
    /// Opens the trade; its prepay id.
    fn prepay(&self, trade: &Prepay<'_>) -> impl Future<Output = Result<String, GatewayError>> + Send;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    /// This report paid the order.
    Paid,
    /// The order was already paid by this transaction (a repeated report).
    AlreadyPaid,
    /// WeChat Pay says the trade is not paid (yet).
    NotPaid(TradeState),
    /// Recorded for operators; the order did not move.
    Anomaly(&'static str),
}

/// Settles a payment WeChat Pay reports: the order is paid, its payment recorded and the
/// campaign's paid count moved, in one write, once.
pub async fn settle<S: OrderStore>(
    orders: &S,
    appid: &str,
    mchid: &str,
    reported: &ReportedPayment,
    cause: &str,
    now: OffsetDateTime,
) -> Result<Settlement, StoreError> {
    let detail = serde_json::json!({
        "transaction_id": reported.transaction_id, "reported_total_fen": reported.total_fen, "cause": cause,
    });
    let order = match OutTradeNo::parse(&reported.out_trade_no) {
        Ok(no) => orders.get(&no).await?,
        Err(_) => None,
    };
    let Some(order) = order else {
        return anomaly(orders, "unknown_order", reported, detail).await;
    };
    if reported.trade_state != TradeState::Success {
        return Ok(Settlement::NotPaid(reported.trade_state));
    }
    if let Err(mismatch) = check_payment(reported, appid, mchid, order.amount_fen, &order.payer_openid) {
        let kind = match mismatch {
            PaymentMismatch::Amount => "amount_mismatch",
            PaymentMismatch::AppId => "appid_mismatch",
            PaymentMismatch::MchId => "mchid_mismatch",
            PaymentMismatch::Payer => "payer_mismatch",
        };
        return anomaly(orders, kind, reported, detail).await;
    }
    let pay = Change::new(Transition::Pay, cause, "wechatpay")
        .set(Fields {
            transaction_id: Some(reported.transaction_id.clone()),
            paid_at: Some(now.unix_timestamp()),
            ..Fields::default()
        })
        .also(Also::RecordPayment {
            transaction_id: reported.transaction_id.clone(),
            amount_fen: order.amount_fen,
            detail: detail.clone(),
        })
        .also(Also::CountPaid(1));
    match orders.apply(&order, pay).await? {
        Applied::Moved => {
            tracing::info!(out_trade_no = %order.out_trade_no, cause, outcome = "paid", "payment settled");
            Ok(Settlement::Paid)
        }
        Applied::Unchanged(state) if !(state.is_paid() || state == OrderState::Refunded) => {
            // Paid at WeChat after we cancelled or expired it: money to return by hand.
            anomaly(orders, "paid_after_close", reported, detail).await
        }
        Applied::Unchanged(_) | Applied::Refused(_) => {
            // A repeat of the report that paid it, or of one for a transaction we never saw.
            let current = orders.get(&order.out_trade_no).await?;
            if current.and_then(|o| o.transaction_id).as_deref() == Some(reported.transaction_id.as_str()) {
                Ok(Settlement::AlreadyPaid)
            } else {
                anomaly(orders, "second_transaction", reported, detail).await
            }
        }
    }
}

async fn anomaly<S: OrderStore>(
    orders: &S,
    kind: &'static str,
    reported: &ReportedPayment,
    detail: serde_json::Value,
) -> Result<Settlement, StoreError> {
    orders.record_anomaly(kind, &reported.out_trade_no, detail).await?;
    Ok(Settlement::Anomaly(kind))
}

/// How cancelling an unpaid order went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cancelling {
    Cancelled,
    /// WeChat Pay had taken the money meanwhile: settled as paid instead.
    PaidMeanwhile(Settlement),
    /// The order had left `created` already (or the binding to undo with it changed).
    NotUnpaid(OrderState),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CancelError {
    #[error("WeChat Pay: {0}")]
    Gateway(#[from] GatewayError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Cancels an unpaid order: first closed at WeChat Pay (so it can no longer be paid), then
/// cancelled here, in one write with `unbind` (customer service undoing the student's binding).
/// An order paid at the last moment is settled as paid, never cancelled.
pub async fn cancel_unpaid<S: OrderStore, P: PaymentGateway>(
    orders: &S,
    pay: &P,
    order: &Order,
    cause: &str,
    actor: &str,
    unbind: Option<Binding>,
    now: OffsetDateTime,
) -> Result<Cancelling, CancelError> {
    if order.state != OrderState::Created {
        return Ok(Cancelling::NotUnpaid(order.state));
    }
    if order.prepay_id.is_some() && pay.close(&order.out_trade_no).await? == Closing::AlreadyPaid {
        let settled = match pay.query(&order.out_trade_no).await? {
            Some(r) => settle(orders, pay.appid(), pay.mchid(), &r, "payment_query", now).await?,
            None => Settlement::NotPaid(TradeState::Other),
        };
        return Ok(Cancelling::PaidMeanwhile(settled));
    }
    let mut cancel = Change::new(Transition::Cancel, cause, actor);
    if let Some(binding) = unbind {
        cancel = cancel.also(Also::Unbind(binding));
    }
    Ok(match orders.apply(order, cancel).await? {
        Applied::Moved => Cancelling::Cancelled,
        Applied::Unchanged(state) => Cancelling::NotUnpaid(state),
        Applied::Refused(_) => Cancelling::NotUnpaid(order.state),
    })
}

/// Asks WeChat Pay about an unpaid order and settles what it says (for a notification that
/// never came): paid → paid, by [`settle`]; still unpaid after its payment window → closed at
/// WeChat Pay, then expired here. `None` when there was nothing to ask.
pub async fn reconcile<S: OrderStore, P: PaymentGateway>(
    orders: &S,
    pay: &P,
    order: &Order,
    now: OffsetDateTime,
) -> Result<Option<Settlement>, CancelError> {
    if order.state != OrderState::Created || order.prepay_id.is_none() {
        return Ok(None);
    }
    let settled = match pay.query(&order.out_trade_no).await? {
        Some(r) => settle(orders, pay.appid(), pay.mchid(), &r, "payment_query", now).await?,
        None => Settlement::NotPaid(TradeState::NotPay),
    };
    if matches!(settled, Settlement::NotPaid(_)) && order.time_expire <= now.unix_timestamp() {
        if pay.close(&order.out_trade_no).await? == Closing::AlreadyPaid {
            // Paid between the query and the close: settled by the next look.
            return Ok(Some(settled));
        }
        orders.apply(order, Change::new(Transition::Expire, "payment_window_lapsed", "orders")).await?;
    }
    Ok(Some(settled))
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::order::change::memory::MemoryOrders;
    use crate::test_support::run;

    const APPID: &str = "wx-app";
    const MCHID: &str = "1900000001";

    fn order(state: OrderState, prepay: bool) -> Order {
        let unpaid = Order::unpaid(crate::UserId::random(), "oStudent0001", "c1", "s1", 2500, 0, 900);
        Order { out_trade_no: no(), state, prepay_id: prepay.then(|| "wx-prepay-1".into()), ..unpaid }
    }

    fn reported(txn: &str) -> ReportedPayment {
        ReportedPayment {
            appid: APPID.into(),
            mchid: MCHID.into(),
            out_trade_no: "YZ0001".into(),
            transaction_id: txn.into(),
            trade_state: TradeState::Success,
            total_fen: 2500,
            payer_openid: "oStudent0001".into(),
        }
    }

    fn no() -> OutTradeNo {
        OutTradeNo::parse("YZ0001").expect("valid")
    }

    fn settle_now(orders: &MemoryOrders, r: &ReportedPayment) -> Settlement {
        run(settle(orders, APPID, MCHID, r, "payment_notification", OffsetDateTime::UNIX_EPOCH)).expect("store")
    }

    /// WeChat Pay answering close and query as scripted, or not at all (`down`).
    struct Gateway {
        close: Closing,
        query: Option<ReportedPayment>,
        closed: Mutex<u32>,
        down: bool,
    }

    impl PaymentGateway for Gateway {
        fn appid(&self) -> &str {
            APPID
        }
        fn mchid(&self) -> &str {
            MCHID
        }
        async fn close(&self, _no: &OutTradeNo) -> Result<Closing, GatewayError> {
            if self.down {
                return Err(GatewayError("timed out".into()));
            }
            *self.closed.lock().expect("lock") += 1;
            Ok(self.close)
        }
        async fn query(&self, _no: &OutTradeNo) -> Result<Option<ReportedPayment>, GatewayError> {
            if self.down {
                return Err(GatewayError("timed out".into()));
            }
            Ok(self.query.clone())
        }
        async fn prepay(&self, _trade: &Prepay<'_>) -> Result<String, GatewayError> {
            unreachable!("settling and cancelling never open a trade")
        }
    }

    fn gateway(close: Closing, query: Option<ReportedPayment>) -> Gateway {
        Gateway { close, query, closed: Mutex::new(0), down: false }
    }

    fn cancel(orders: &MemoryOrders, pay: &Gateway, order: &Order) -> Result<Cancelling, CancelError> {
        run(cancel_unpaid(orders, pay, order, "student_cancel", "u", None, OffsetDateTime::UNIX_EPOCH))
    }

    #[test]
    fn given_an_unpaid_order_when_its_payment_is_reported_then_it_is_paid_recorded_and_counted_once() {
        let orders = MemoryOrders::with([order(OrderState::Created, true)]);
        assert_eq!(settle_now(&orders, &reported("txn-1")), Settlement::Paid);
        let paid = orders.order(&no()).expect("order");
        assert_eq!((paid.state, paid.transaction_id.as_deref()), (OrderState::Paid, Some("txn-1")));
        assert_eq!(orders.paid.lock().expect("lock")["c1"], 1);
        assert!(orders.payments.lock().expect("lock").contains("txn-1"));
    }

    #[test]
    fn given_a_paid_order_when_the_same_report_comes_again_then_nothing_moves_twice() {
        let orders = MemoryOrders::with([order(OrderState::Created, true)]);
        settle_now(&orders, &reported("txn-1"));
        assert_eq!(settle_now(&orders, &reported("txn-1")), Settlement::AlreadyPaid);
        assert_eq!(orders.paid.lock().expect("lock")["c1"], 1);
        assert!(orders.anomalies.lock().expect("lock").is_empty());
    }

    #[test]
    fn given_a_paid_order_when_a_second_transaction_pays_it_then_it_is_an_anomaly() {
        let orders = MemoryOrders::with([order(OrderState::Created, true)]);
        settle_now(&orders, &reported("txn-1"));
        assert_eq!(settle_now(&orders, &reported("txn-2")), Settlement::Anomaly("second_transaction"));
        assert_eq!(orders.order(&no()).and_then(|o| o.transaction_id).as_deref(), Some("txn-1"));
    }

    #[test]
    fn given_a_wrong_amount_or_payer_then_the_order_is_not_paid_and_operators_are_told() {
        let mut amount = reported("txn-1");
        amount.total_fen = 1;
        let mut payer = reported("txn-1");
        payer.payer_openid = "oSomeoneElse".into();
        for (r, kind) in [(amount, "amount_mismatch"), (payer, "payer_mismatch")] {
            let orders = MemoryOrders::with([order(OrderState::Created, true)]);
            assert_eq!(settle_now(&orders, &r), Settlement::Anomaly(kind));
            assert_eq!(orders.order(&no()).map(|o| o.state), Some(OrderState::Created));
        }
    }

    #[test]
    fn given_an_unknown_order_then_it_is_an_anomaly() {
        let orders = MemoryOrders::default();
        assert_eq!(settle_now(&orders, &reported("txn-1")), Settlement::Anomaly("unknown_order"));
        assert_eq!(orders.anomalies.lock().expect("lock")[0], ("unknown_order".into(), "YZ0001".into()));
    }

    #[test]
    fn given_a_cancelled_order_when_it_is_paid_at_wechat_then_the_money_is_flagged_not_taken() {
        let orders = MemoryOrders::with([order(OrderState::Cancelled, true)]);
        assert_eq!(settle_now(&orders, &reported("txn-1")), Settlement::Anomaly("paid_after_close"));
        assert_eq!(orders.order(&no()).map(|o| o.state), Some(OrderState::Cancelled));
    }

    #[test]
    fn given_a_trade_not_paid_yet_then_nothing_moves() {
        let orders = MemoryOrders::with([order(OrderState::Created, true)]);
        let mut r = reported("txn-1");
        r.trade_state = TradeState::NotPay;
        assert_eq!(settle_now(&orders, &r), Settlement::NotPaid(TradeState::NotPay));
        assert!(orders.applied.lock().expect("lock").is_empty());
    }

    #[test]
    fn given_an_unpaid_order_when_cancelled_then_it_is_closed_at_wechat_first() {
        let orders = MemoryOrders::with([order(OrderState::Created, true)]);
        let pay = gateway(Closing::Closed, None);
        assert_eq!(cancel(&orders, &pay, &order(OrderState::Created, true)), Ok(Cancelling::Cancelled));
        assert_eq!(*pay.closed.lock().expect("lock"), 1);
        assert_eq!(orders.order(&no()).map(|o| o.state), Some(OrderState::Cancelled));
    }

    #[test]
    fn given_an_order_never_sent_to_wechat_when_cancelled_then_wechat_is_not_asked() {
        let orders = MemoryOrders::with([order(OrderState::Created, false)]);
        let pay = gateway(Closing::Closed, None);
        assert_eq!(cancel(&orders, &pay, &order(OrderState::Created, false)), Ok(Cancelling::Cancelled));
        assert_eq!(*pay.closed.lock().expect("lock"), 0);
    }

    #[test]
    fn given_an_order_paid_at_the_last_moment_when_cancelled_then_it_is_settled_as_paid() {
        let orders = MemoryOrders::with([order(OrderState::Created, true)]);
        let pay = gateway(Closing::AlreadyPaid, Some(reported("txn-1")));
        let got = cancel(&orders, &pay, &order(OrderState::Created, true));
        assert_eq!(got, Ok(Cancelling::PaidMeanwhile(Settlement::Paid)));
        assert_eq!(orders.order(&no()).map(|o| o.state), Some(OrderState::Paid));
    }

    #[test]
    fn given_a_paid_order_when_cancelled_then_it_is_refused_and_wechat_not_asked() {
        let orders = MemoryOrders::with([order(OrderState::Paid, true)]);
        let pay = gateway(Closing::Closed, None);
        assert_eq!(cancel(&orders, &pay, &order(OrderState::Paid, true)), Ok(Cancelling::NotUnpaid(OrderState::Paid)));
        assert_eq!(*pay.closed.lock().expect("lock"), 0);
    }

    #[test]
    fn given_an_order_read_unpaid_but_paid_since_when_cancelled_then_the_store_refuses() {
        let orders = MemoryOrders::with([order(OrderState::Paid, true)]);
        let pay = gateway(Closing::NoSuchTrade, None);
        let got = cancel(&orders, &pay, &order(OrderState::Created, true));
        assert_eq!(got, Ok(Cancelling::NotUnpaid(OrderState::Paid)));
    }

    #[test]
    fn given_a_lost_notification_when_reconciling_then_the_order_is_paid_by_the_query() {
        let orders = MemoryOrders::with([order(OrderState::Created, true)]);
        let pay = gateway(Closing::Closed, Some(reported("txn-1")));
        let got = run(reconcile(&orders, &pay, &order(OrderState::Created, true), OffsetDateTime::UNIX_EPOCH));
        assert_eq!(got, Ok(Some(Settlement::Paid)));
        assert_eq!(orders.order(&no()).map(|o| o.state), Some(OrderState::Paid));
    }

    #[test]
    fn given_an_unpaid_order_past_its_window_when_reconciling_then_it_is_closed_and_expired() {
        let orders = MemoryOrders::with([order(OrderState::Created, true)]);
        let pay = gateway(Closing::Closed, None);
        let late = OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(901);
        assert!(run(reconcile(&orders, &pay, &order(OrderState::Created, true), late)).is_ok());
        assert_eq!(*pay.closed.lock().expect("lock"), 1);
        assert_eq!(orders.order(&no()).map(|o| o.state), Some(OrderState::Expired));
    }

    #[test]
    fn given_an_unpaid_order_within_its_window_when_reconciling_then_it_stays_open() {
        let orders = MemoryOrders::with([order(OrderState::Created, true)]);
        let pay = gateway(Closing::Closed, None);
        assert!(run(reconcile(&orders, &pay, &order(OrderState::Created, true), OffsetDateTime::UNIX_EPOCH)).is_ok());
        assert_eq!(*pay.closed.lock().expect("lock"), 0);
        assert_eq!(orders.order(&no()).map(|o| o.state), Some(OrderState::Created));
    }

    #[test]
    fn given_wechat_unreachable_when_cancelling_then_nothing_is_cancelled() {
        let orders = MemoryOrders::with([order(OrderState::Created, true)]);
        let pay = Gateway { down: true, ..gateway(Closing::Closed, None) };
        let got = cancel(&orders, &pay, &order(OrderState::Created, true));
        assert!(matches!(got, Err(CancelError::Gateway(_))), "{got:?}");
        assert_eq!(orders.order(&no()).map(|o| o.state), Some(OrderState::Created));
    }
}
