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

/// How cancelling an unpaid order went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cancelling {
    Cancelled,
    /// WeChat Pay had taken the money meanwhile: settled as paid instead.
    PaidMeanwhile(Settlement),
    /// The order had left `created` already.
    NotUnpaid(yunzhao_domain::order::OrderState),
}

#[derive(Debug, thiserror::Error)]
pub enum CancelError {
    #[error(transparent)]
    Pay(#[from] crate::wechat::pay::PayError),
    #[error(transparent)]
    Store(#[from] OrderStoreError),
}

/// Cancels an unpaid order: first closed at WeChat Pay (so it can no longer be paid), then
/// cancelled here, in one transaction with `also` (customer service's unbinding). An order
/// paid at the last moment is settled as paid, never cancelled.
pub async fn cancel_unpaid(
    orders: &DynamoOrders,
    pay: &crate::wechat::pay::WeChatPay,
    order: &crate::dynamo::orders::Order,
    cause: &str,
    actor: &str,
    also: Vec<aws_sdk_dynamodb::types::TransactWriteItem>,
) -> Result<Cancelling, CancelError> {
    use crate::wechat::pay::PayError;
    use yunzhao_domain::order::{OrderState, Transition};
    if order.state != OrderState::Created {
        return Ok(Cancelling::NotUnpaid(order.state));
    }
    if order.prepay_id.is_some() {
        match pay.close(order.out_trade_no.as_str()).await {
            Ok(()) => {}
            Err(PayError::Refused { code, .. }) if code == "ORDERPAID" => {
                let reported = pay.query(order.out_trade_no.as_str()).await?;
                let settled = match reported {
                    Some(r) => settle(orders, pay.appid(), pay.mchid(), &r, "payment_query").await?,
                    None => Settlement::NotPaid(TradeState::Other),
                };
                return Ok(Cancelling::PaidMeanwhile(settled));
            }
            Err(PayError::Refused { code, .. }) if code == "ORDER_NOT_EXIST" => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(match orders.apply(order, Transition::Cancel, cause, actor, vec![], also).await? {
        Applied::Moved => Cancelling::Cancelled,
        Applied::Unchanged(state) => Cancelling::NotUnpaid(state),
    })
}
