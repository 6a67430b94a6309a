//! `POST /v1/payments/wechat/notify`: WeChat Pay's notifications (payments and refunds).
//! Public, so nothing is trusted before the signature (platform key by `Wechatpay-Serial`),
//! the timestamp and the AEAD-encrypted resource check out. Success is 204 with no body;
//! failure `{"code":"FAIL","message":…}`, 4xx for what a retry cannot fix and 5xx for what it
//! can (WeChat Pay retries for about a day).

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use time::OffsetDateTime;
use yunzhao_adapters::dynamo::DynamoOrders;
use yunzhao_adapters::wechat::pay::{Notification, NotifyError, WeChatPay};
use yunzhao_domain::order::{Applied, OutTradeNo, StoreError};
use yunzhao_domain::payment::{self, Settlement};

pub struct Deps {
    pub orders: DynamoOrders,
    pub pay: WeChatPay,
}

fn answer(status: StatusCode, message: &str) -> Response<Body> {
    if status.is_success() {
        let mut r = Response::new(Body::Empty);
        *r.status_mut() = StatusCode::NO_CONTENT;
        return r;
    }
    let mut r = Response::new(Body::from(json!({"code": "FAIL", "message": message}).to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert("content-type", lambda_http::http::HeaderValue::from_static("application/json"));
    r
}

pub async fn handle(deps: &Deps, req: Request) -> Response<Body> {
    let body = String::from_utf8_lossy(req.body().as_ref()).into_owned();
    let notification = match deps.pay.open_notification(req.headers(), &body, OffsetDateTime::now_utc()) {
        Ok(n) => n,
        Err(e) => {
            let (status, message) = match &e {
                NotifyError::Malformed
                | NotifyError::Crypto(yunzhao_adapters::wechat::pay_crypto::PayCryptoError::Undecryptable) => {
                    (StatusCode::BAD_REQUEST, "resource could not be read")
                }
                _ => (StatusCode::UNAUTHORIZED, "signature verification failed"),
            };
            tracing::warn!(error = %e, outcome = "refused", "payment notification refused");
            return answer(status, message);
        }
    };
    match settle(deps, notification).await {
        Ok(()) => answer(StatusCode::NO_CONTENT, ""),
        Err(e) => {
            // The store is unavailable: ask WeChat Pay to deliver again later.
            tracing::error!(error = %e, "payment notification not settled");
            answer(StatusCode::INTERNAL_SERVER_ERROR, "temporarily unable to record")
        }
    }
}

async fn settle(deps: &Deps, notification: Notification) -> Result<(), StoreError> {
    match notification {
        Notification::Transaction { id, payment } => {
            let (appid, mchid, now) = (deps.pay.appid(), deps.pay.mchid(), OffsetDateTime::now_utc());
            let outcome = payment::settle(&deps.orders, appid, mchid, &payment, "payment_notification", now).await?;
            let outcome = match outcome {
                Settlement::Paid => "paid",
                Settlement::AlreadyPaid => "duplicate",
                Settlement::NotPaid(_) => "not_paid",
                Settlement::Anomaly(kind) => kind,
            };
            tracing::info!(notification_id = id, out_trade_no = payment.out_trade_no, outcome, "payment notification");
        }
        Notification::Refund { id, out_trade_no, out_refund_no, refund_status } => {
            let outcome = settle_refund(deps, &out_trade_no, out_refund_no, &refund_status).await?;
            tracing::info!(notification_id = id, out_trade_no, outcome, "refund notification");
        }
        Notification::Other { id, event_type } => {
            tracing::info!(notification_id = id, event_type, outcome = "ignored", "notification of another kind");
        }
    }
    Ok(())
}

/// A refund WeChat Pay reports done: the order it names, refunding by that refund, is refunded
/// once; a refund we never asked for is recorded for operators.
async fn settle_refund(
    deps: &Deps,
    out_trade_no: &str,
    out_refund_no: String,
    refund_status: &str,
) -> Result<&'static str, StoreError> {
    let order = match OutTradeNo::parse(out_trade_no) {
        Ok(no) => deps.orders.get(&no).await?,
        Err(_) => None,
    };
    Ok(match order {
        Some(order) if refund_status == "SUCCESS" && order.out_refund_no.as_deref() == Some(out_refund_no.as_str()) => {
            match deps.orders.refunded(&order, "refund_notification", "wechatpay").await? {
                Applied::Moved => "refunded",
                Applied::Unchanged(_) | Applied::Refused(_) => "duplicate",
            }
        }
        Some(_) if refund_status != "SUCCESS" => "refund_not_successful",
        _ => {
            let detail = json!({"out_refund_no": out_refund_no});
            deps.orders.record_anomaly("unknown_refund", out_trade_no, detail).await?;
            "unknown_refund"
        }
    })
}
