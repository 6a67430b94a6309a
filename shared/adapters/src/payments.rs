//! Settling a payment WeChat Pay reports, by notification or by query: the one place that
//! checks it against the order and pays the order exactly once. Anything that cannot pay the
//! order (unknown order, wrong amount, appid, mchid or payer, paid after cancellation) is
//! recorded for operators and never pays it.

use yunzhao_domain::order::{OutTradeNo, ReportedPayment, TradeState, check_payment};

use crate::dynamo::DynamoOrders;
use crate::dynamo::orders::{Applied, OrderStoreError};

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

pub async fn settle(
    orders: &DynamoOrders,
    appid: &str,
    mchid: &str,
    reported: &ReportedPayment,
    cause: &str,
) -> Result<Settlement, OrderStoreError> {
    let detail = serde_json::json!({
        "transaction_id": reported.transaction_id, "reported_total_fen": reported.total_fen, "cause": cause,
    });
    let order = match OutTradeNo::parse(&reported.out_trade_no) {
        Ok(no) => orders.get(&no).await?,
        Err(_) => None,
    };
    let Some(order) = order else {
        orders.record_anomaly("unknown_order", &reported.out_trade_no, detail).await?;
        return Ok(Settlement::Anomaly("unknown_order"));
    };
    if reported.trade_state != TradeState::Success {
        return Ok(Settlement::NotPaid(reported.trade_state));
    }
    if let Err(mismatch) = check_payment(reported, appid, mchid, order.amount_fen, &order.payer_openid) {
        let kind = match mismatch {
            yunzhao_domain::order::PaymentMismatch::Amount => "amount_mismatch",
            yunzhao_domain::order::PaymentMismatch::AppId => "appid_mismatch",
            yunzhao_domain::order::PaymentMismatch::MchId => "mchid_mismatch",
            yunzhao_domain::order::PaymentMismatch::Payer => "payer_mismatch",
        };
        orders.record_anomaly(kind, &reported.out_trade_no, detail).await?;
        return Ok(Settlement::Anomaly(kind));
    }
    match orders.pay(&order, &reported.transaction_id, cause, detail.clone()).await? {
        Applied::Moved => {
            tracing::info!(out_trade_no = %order.out_trade_no, cause, outcome = "paid", "payment settled");
            Ok(Settlement::Paid)
        }
        Applied::Unchanged(state) if state.is_paid() || state == yunzhao_domain::order::OrderState::Refunded => {
            // A repeat of the report that paid it, or of one for a transaction we never saw.
            let current = orders.get(&order.out_trade_no).await?;
            if current.and_then(|o| o.transaction_id) == Some(reported.transaction_id.clone()) {
                Ok(Settlement::AlreadyPaid)
            } else {
                orders.record_anomaly("second_transaction", &reported.out_trade_no, detail).await?;
                Ok(Settlement::Anomaly("second_transaction"))
            }
        }
        Applied::Unchanged(_) => {
            // Paid at WeChat after we cancelled or expired it: money to return by hand.
            orders.record_anomaly("paid_after_close", &reported.out_trade_no, detail).await?;
            Ok(Settlement::Anomaly("paid_after_close"))
        }
    }
}
