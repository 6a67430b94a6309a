//! Orders as the student and operators see them. Creating an order is idempotent per student
//! and campaign; payment is settled by the webhook or, if its notification never came, by
//! asking WeChat Pay when the order is looked at.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use yunzhao_adapters::blobs::Blobs;
use yunzhao_adapters::dynamo::orders::RefundClaim;
use yunzhao_adapters::dynamo::{DynamoCampaigns, DynamoOrders, DynamoStaff, DynamoUsers};
use yunzhao_adapters::wechat::pay::{PrepayOrder, WeChatPay};
use yunzhao_domain::campaign::SHANGHAI;
use yunzhao_domain::identity::BindingStatus;
use yunzhao_domain::order::{self, HistoryEntry, Order, OrderState, OutTradeNo};
use yunzhao_domain::payment::{self, Cancelling};
use yunzhao_domain::{Role, UserId, UserRepo};
use yunzhao_http::{
    ApiError, Code, Principal, SessionKeys, StaffGate, json_response, parse_json, path_param, request_id, respond,
    route_key, unknown_route,
};

/// Standard photos, linked for a few minutes to the order's student.
pub struct Results {
    pub blobs: Blobs,
    pub bucket: String,
}

/// A photo link is good for this long.
const PHOTO_LINK_TTL: std::time::Duration = std::time::Duration::from_secs(600);

impl Results {
    async fn links(&self, order: &Order) -> Option<Value> {
        let prefix = order.result_prefix.as_deref()?;
        let mut links = serde_json::Map::new();
        let results = yunzhao_domain::objects::Results::at(prefix);
        for (name, key) in [("standard_url", results.standard()), ("preview_url", results.preview())] {
            let link = self.blobs.link(&self.bucket, &key, None, PHOTO_LINK_TTL).await.ok()?;
            links.insert(name.into(), json!(link));
        }
        links.insert("expires_in".into(), json!(PHOTO_LINK_TTL.as_secs()));
        Some(Value::Object(links))
    }
}

pub struct Deps {
    pub results: Results,
    pub orders: DynamoOrders,
    pub campaigns: DynamoCampaigns,
    pub users: DynamoUsers,
    pub pay: WeChatPay,
    /// Students' bearer tokens.
    pub keys: SessionKeys,
    /// Operators' console sessions (refunds).
    pub gate: StaffGate<DynamoStaff>,
}

pub async fn handle(deps: &Deps, req: Request) -> Response<Body> {
    let request_id = request_id(&req);
    let result = async {
        let route = route_key(&req);
        let p = if route == "POST /v1/orders/{order_id}/refund" {
            deps.gate.authenticate(&req).await?
        } else {
            deps.keys.authenticate(&req)?
        };
        match route.as_str() {
            "POST /v1/orders" => create(deps, &p, &req).await,
            "GET /v1/orders/{order_id}" => show(deps, &p, &req).await,
            "POST /v1/orders/{order_id}/cancel" => cancel(deps, &p, &req).await,
            "POST /v1/orders/{order_id}/refund" => refund(deps, &p, &req).await,
            "GET /v1/orders/{order_id}/history" => history(deps, &p, &req).await,
            _ => Err(unknown_route()),
        }
    }
    .await;
    respond(&request_id, result)
}

fn pay_down(e: impl std::fmt::Display) -> ApiError {
    ApiError::payment_unavailable(e)
}

fn order_not_found() -> ApiError {
    ApiError::from(Code::OrderNotFound)
}

fn rfc3339(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .map(|t| t.to_offset(SHANGHAI).format(&Rfc3339).unwrap_or_default())
        .unwrap_or_default()
}

fn order_view(o: &Order) -> Value {
    json!({
        "order_id": o.out_trade_no,
        "out_trade_no": o.out_trade_no,
        "campaign_id": o.campaign_id,
        "state": o.state,
        "amount_fen": o.amount_fen,
        "created_at": rfc3339(o.created_at),
        "pay_before": rfc3339(o.time_expire),
        "paid_at": o.paid_at.map(rfc3339),
        "transaction_id": o.transaction_id,
        "refund_requested": o.out_refund_no.is_some(),
        "approved_at": o.approved_at.map(|ms| rfc3339(ms / 1000)),
        "review_note": o.review_note.as_deref().filter(|n| !n.is_empty()),
        "retake_reasons": o.reasons.iter().map(|r| {
            let (en, zh) = r.messages();
            json!({"code": r, "message": en, "message_zh": zh})
        }).collect::<Vec<_>>(),
    })
}

/// The order if the caller may see it: its student, or an operator. Anyone else gets
/// "not found", as if it did not exist.
async fn visible(deps: &Deps, p: &Principal, req: &Request) -> Result<Order, ApiError> {
    let no = OutTradeNo::parse(&path_param(req, "order_id")?).map_err(|_| order_not_found())?;
    match deps.orders.get(&no).await? {
        Some(o) if o.user_id == p.user_id || p.has(Role::Operator) => Ok(o),
        _ => Err(order_not_found()),
    }
}

#[derive(Deserialize)]
struct NewOrder {
    campaign_id: String,
}

async fn create(deps: &Deps, p: &Principal, req: &Request) -> Result<Response<Body>, ApiError> {
    let body: NewOrder = parse_json(req)?;
    let now = OffsetDateTime::now_utc();
    let (campaign, _) = deps
        .campaigns
        .get(&body.campaign_id)
        .await
        .map_err(ApiError::store)?
        .ok_or_else(ApiError::campaign_not_found)?;
    ApiError::unless_open(campaign.status(now))?;
    match deps.orders.binding(&p.user_id, &campaign.id).await? {
        Some(BindingStatus::Complete) => {}
        Some(BindingStatus::CardPhotosNeeded) => return Err(ApiError::card_photos_required()),
        None => {
            return Err(ApiError::from(Code::NotVerified));
        }
    }
    let Some(time_expire) = order::payable_until(campaign.window.closes_at, now) else {
        return Err(ApiError::from(Code::CampaignClosed));
    };
    let user = deps.users.get(&p.user_id).await.map_err(ApiError::store)?.ok_or_else(ApiError::forbidden)?;
    let amount = u64::from(campaign.price_fen);
    let (created, expires) = (now.unix_timestamp(), time_expire.unix_timestamp());
    let fresh = Order::unpaid(
        p.user_id.clone(),
        user.openid.as_str(),
        &campaign.id,
        &campaign.school_id,
        amount,
        created,
        expires,
    );
    let (mut order, new) = deps.orders.open(fresh).await?;
    // An earlier order whose payment window lapsed is settled first, then replaced.
    if order.state == OrderState::Created && order.time_expire <= now.unix_timestamp() {
        payment::reconcile(&deps.orders, &deps.pay, &order, now).await?;
        return Err(ApiError::from(Code::OrderExpiredRetry));
    }
    if order.state != OrderState::Created {
        return Ok(json_response(StatusCode::OK, &json!({ "order": order_view(&order) })));
    }
    let prepay_id = match &order.prepay_id {
        Some(id) => id.clone(),
        None => {
            let prepay = PrepayOrder {
                out_trade_no: order.out_trade_no.as_str(),
                description: &format!("{} - 证件照采集", campaign.name),
                amount_fen: order.amount_fen,
                payer_openid: &order.payer_openid,
                time_expire: OffsetDateTime::from_unix_timestamp(order.time_expire).unwrap_or(time_expire),
            };
            let id = deps.pay.prepay(&prepay).await.map_err(pay_down)?;
            deps.orders.set_prepay(&order.out_trade_no, &id).await?;
            order.prepay_id = Some(id.clone());
            id
        }
    };
    tracing::info!(out_trade_no = %order.out_trade_no, campaign_id = %order.campaign_id, new, "order ready for payment");
    let status = if new { StatusCode::CREATED } else { StatusCode::OK };
    Ok(json_response(status, &json!({ "order": order_view(&order), "payment": deps.pay.request_payment(&prepay_id) })))
}

async fn show(deps: &Deps, p: &Principal, req: &Request) -> Result<Response<Body>, ApiError> {
    let order = visible(deps, p, req).await?;
    payment::reconcile(&deps.orders, &deps.pay, &order, OffsetDateTime::now_utc()).await?;
    let order = deps.orders.get(&order.out_trade_no).await?.ok_or_else(order_not_found)?;
    let mut view = json!({ "order": order_view(&order) });
    // The standard photo exists once checks passed (in review and after).
    if matches!(
        order.state,
        OrderState::InReview | OrderState::Approved | OrderState::Rejected | OrderState::Standardized
    ) && let Some(links) = deps.results.links(&order).await
    {
        view["photo"] = links;
    }
    Ok(json_response(StatusCode::OK, &view))
}

async fn cancel(deps: &Deps, p: &Principal, req: &Request) -> Result<Response<Body>, ApiError> {
    let order = visible(deps, p, req).await?;
    let not_cancellable = || ApiError::from(Code::OrderNotCancellable);
    let actor = p.user_id.to_string();
    let now = OffsetDateTime::now_utc();
    match payment::cancel_unpaid(&deps.orders, &deps.pay, &order, "student_cancel", &actor, None, now).await? {
        Cancelling::Cancelled => {}
        _ => return Err(not_cancellable()),
    }
    let order = deps.orders.get(&order.out_trade_no).await?.ok_or_else(order_not_found)?;
    Ok(json_response(StatusCode::OK, &json!({ "order": order_view(&order) })))
}

#[derive(Deserialize)]
struct RefundRequest {
    reason: String,
}

async fn refund(deps: &Deps, p: &Principal, req: &Request) -> Result<Response<Body>, ApiError> {
    p.require(Role::Operator)?;
    let body: RefundRequest = parse_json(req)?;
    let reason = body.reason.trim();
    if reason.is_empty() || reason.chars().count() > 80 {
        return Err(ApiError::invalid_request(
            "A refund needs a reason of 1–80 characters.",
            "退款需要填写 1–80 字的原因。",
        ));
    }
    let order = visible(deps, p, req).await?;
    let out_refund_no = format!("R{}", order.out_trade_no);
    let claim = deps.orders.request_refund(&order.out_trade_no, &out_refund_no, reason, yunzhao_adapters::now_ms());
    match claim.await.map_err(ApiError::store)? {
        RefundClaim::Yours => {}
        RefundClaim::InProgress => {
            return Err(ApiError::from(Code::RefundInProgress));
        }
        RefundClaim::NotRefundable => {
            return Err(ApiError::from(Code::NotRefundable));
        }
    }
    let asked = deps.pay.refund(order.out_trade_no.as_str(), &out_refund_no, order.amount_fen, reason).await;
    let recorded = match &asked {
        Ok(status) if status == "SUCCESS" => {
            deps.orders.refunded(&order, "refund_accepted", &p.user_id.to_string()).await.map(|_| ())
        }
        _ => Ok(()),
    };
    // The outcome first, then the lease: a lease left behind lapses by itself in 30 s.
    if let Err(e) = deps.orders.refund_call_done(&order.out_trade_no).await {
        tracing::warn!(out_trade_no = %order.out_trade_no, error = %e, "refund lease left to lapse");
    }
    recorded.map_err(ApiError::store)?;
    let status = asked.map_err(pay_down)?;
    tracing::info!(out_trade_no = %order.out_trade_no, by = %p.user_id, status, "refund requested");
    let order = deps.orders.get(&order.out_trade_no).await?.ok_or_else(order_not_found)?;
    Ok(json_response(StatusCode::ACCEPTED, &json!({ "order": order_view(&order), "refund_status": status })))
}

/// Who moved the order, as its student sees it: themselves, WeChat Pay, the service, or a
/// staff role, never a staff member's id.
fn actor_label(order: &Order, e: &HistoryEntry) -> &'static str {
    if e.actor == order.user_id.as_str() {
        return "student";
    }
    match e.cause.as_str() {
        "review" => "reviewer",
        "sent_back_by_service" | "unbound_by_service" => "customer_service",
        "refund_accepted" => "operator",
        _ if e.actor == "wechatpay" => "wechatpay",
        _ if UserId::parse(&e.actor).is_ok() => "staff",
        _ => "service",
    }
}

async fn history(deps: &Deps, p: &Principal, req: &Request) -> Result<Response<Body>, ApiError> {
    let order = visible(deps, p, req).await?;
    let entries = deps.orders.history(&order.out_trade_no).await?;
    let lines: Vec<Value> = entries
        .iter()
        .map(|e| json!({"at": rfc3339(e.at), "state": e.to, "cause": e.cause, "by": actor_label(&order, e)}))
        .collect();
    Ok(json_response(StatusCode::OK, &json!({ "order": order_view(&order), "history": lines })))
}
