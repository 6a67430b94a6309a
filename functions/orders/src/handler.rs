//! Orders as the student and operators see them. Creating an order is idempotent per student
//! and campaign; payment is settled by the webhook or, if its notification never came, by
//! asking WeChat Pay when the order is looked at.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use yunzhao_adapters::blobs::Blobs;
use yunzhao_adapters::dynamo::orders::RefundClaim;
use yunzhao_adapters::dynamo::roster::DynamoBindings;
use yunzhao_adapters::dynamo::{DynamoCampaigns, DynamoOrders, DynamoStaff, DynamoUsers};
use yunzhao_adapters::wechat::pay::WeChatPay;
use yunzhao_domain::campaign::SHANGHAI;
use yunzhao_domain::order::{HistoryEntry, Order, OrderState, OutTradeNo};
use yunzhao_domain::payment::{self, Cancelling, OpenError, Opened};
use yunzhao_domain::photo::Reason;
use yunzhao_domain::upload::{self, SubmitError, WithdrawError};
use yunzhao_domain::{Role, UserId};
use yunzhao_http::{
    ApiError, Code, Principal, SessionKeys, StaffGate, json_response, order_param, parse_json, request_id, respond,
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
    /// Whether the student is bound in the campaign (`USER#<u>`/`ENROLL#<c>`).
    pub bindings: DynamoBindings,
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
            "POST /v1/orders/{order_id}/submit" => submit(deps, &p, &req).await,
            "POST /v1/orders/{order_id}/withdraw" => withdraw(deps, &p, &req).await,
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

/// An order as its student (and operators) see it: no payer, prepay or refund internals.
#[derive(Serialize)]
struct OrderView<'a> {
    order_id: &'a OutTradeNo,
    out_trade_no: &'a OutTradeNo,
    campaign_id: &'a str,
    state: OrderState,
    amount_fen: u64,
    created_at: String,
    pay_before: String,
    paid_at: Option<String>,
    transaction_id: Option<&'a str>,
    refund_requested: bool,
    approved_at: Option<String>,
    review_note: Option<&'a str>,
    retake_reasons: Vec<ReasonView>,
    /// Free photo checks: how many the order has, how many are left.
    free_checks: Option<u32>,
    checks_left: Option<u32>,
}

/// Why a photo must be retaken, in the student's words.
#[derive(Serialize)]
struct ReasonView {
    code: Reason,
    message: &'static str,
    message_zh: &'static str,
}

fn order_view(o: &Order) -> OrderView<'_> {
    OrderView {
        order_id: &o.out_trade_no,
        out_trade_no: &o.out_trade_no,
        campaign_id: &o.campaign_id,
        state: o.state,
        amount_fen: o.amount_fen,
        created_at: rfc3339(o.created_at),
        pay_before: rfc3339(o.time_expire),
        paid_at: o.paid_at.map(rfc3339),
        transaction_id: o.transaction_id.as_deref(),
        refund_requested: o.out_refund_no.is_some(),
        approved_at: o.approved_at.map(|ms| rfc3339(ms / 1000)),
        review_note: o.review_note.as_deref().filter(|n| !n.is_empty()),
        retake_reasons: o
            .reasons
            .iter()
            .map(|&code| {
                let (message, message_zh) = code.messages();
                ReasonView { code, message, message_zh }
            })
            .collect(),
        free_checks: o.free_checks,
        checks_left: o.checks_left,
    }
}

/// The answer of most routes: the order, and what the route adds.
#[derive(Serialize)]
struct Shown<'a, T: Serialize> {
    order: OrderView<'a>,
    #[serde(flatten)]
    more: T,
}

fn shown<T: Serialize>(status: StatusCode, order: &Order, more: T) -> Response<Body> {
    json_response(status, &Shown { order: order_view(order), more })
}

/// The order as it is now (after the route changed it), answered to the caller.
async fn now_shown(deps: &Deps, no: &OutTradeNo) -> Result<Response<Body>, ApiError> {
    let order = deps.orders.get(no).await?.ok_or_else(order_not_found)?;
    Ok(shown(StatusCode::OK, &order, json!({})))
}

/// The order if the caller may see it: its student, or an operator. Anyone else gets
/// "not found", as if it did not exist.
async fn visible(deps: &Deps, p: &Principal, req: &Request) -> Result<Order, ApiError> {
    let no = order_param(req)?;
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
    let ports = payment::open::Deps {
        campaigns: &deps.campaigns,
        enrolments: &deps.bindings,
        users: &deps.users,
        orders: &deps.orders,
        pay: &deps.pay,
    };
    let opened = payment::open_for_payment(ports, &p.user_id, &body.campaign_id, OffsetDateTime::now_utc());
    Ok(match opened.await.map_err(not_opened)? {
        Opened::Payable { order, prepay_id, new } => {
            let status = if new { StatusCode::CREATED } else { StatusCode::OK };
            shown(status, &order, json!({ "payment": deps.pay.request_payment(&prepay_id) }))
        }
        Opened::Settled(order) => shown(StatusCode::OK, &order, json!({})),
    })
}

/// Why no order could be opened, as the student reads it.
fn not_opened(e: OpenError) -> ApiError {
    match e {
        OpenError::NoCampaign => ApiError::campaign_not_found(),
        OpenError::NotOpen(status) => ApiError::not_open(status),
        OpenError::NotVerified => ApiError::from(Code::NotVerified),
        OpenError::CardPhotosNeeded => ApiError::card_photos_required(),
        OpenError::TooLateToPay => ApiError::from(Code::CampaignClosed),
        OpenError::UnknownUser => ApiError::forbidden(),
        OpenError::ExpiredRetry => ApiError::from(Code::OrderExpiredRetry),
        OpenError::Gateway(e) => pay_down(e),
        OpenError::Store(e) => e.into(),
    }
}

async fn show(deps: &Deps, p: &Principal, req: &Request) -> Result<Response<Body>, ApiError> {
    let order = visible(deps, p, req).await?;
    payment::reconcile(&deps.orders, &deps.pay, &order, OffsetDateTime::now_utc()).await?;
    let order = deps.orders.get(&order.out_trade_no).await?.ok_or_else(order_not_found)?;
    // The standard photo exists once checks passed (in review and after).
    let has_photo = matches!(
        order.state,
        OrderState::InReview | OrderState::Approved | OrderState::Rejected | OrderState::Standardized
    );
    let links = if has_photo { deps.results.links(&order).await } else { None };
    Ok(shown(StatusCode::OK, &order, links.map_or_else(|| json!({}), |photo| json!({ "photo": photo }))))
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
    now_shown(deps, &order.out_trade_no).await
}

/// The student submits the standard photo they looked at (it passed the checks) for review.
async fn submit(deps: &Deps, p: &Principal, req: &Request) -> Result<Response<Body>, ApiError> {
    let no = order_param(req)?;
    let submitted = upload::submit(&deps.orders, &deps.campaigns, &p.user_id, &no, OffsetDateTime::now_utc());
    submitted.await.map_err(|e| match e {
        SubmitError::NoOrder => order_not_found(),
        SubmitError::CampaignClosed => ApiError::from(Code::CampaignClosed),
        SubmitError::NothingToSubmit(_) => ApiError::from(Code::NothingToSubmit),
        SubmitError::Store(e) => e.into(),
    })?;
    now_shown(deps, &no).await
}

/// The student takes the submitted photo back out of review (撤回审核), where the campaign
/// allows it and no reviewer holds it.
async fn withdraw(deps: &Deps, p: &Principal, req: &Request) -> Result<Response<Body>, ApiError> {
    let no = order_param(req)?;
    let withdrawn = upload::withdraw(&deps.orders, &deps.campaigns, &p.user_id, &no, OffsetDateTime::now_utc());
    withdrawn.await.map_err(|e| match e {
        WithdrawError::NoOrder => order_not_found(),
        WithdrawError::NotAllowed => ApiError::from(Code::WithdrawNotAllowed),
        WithdrawError::CampaignClosed => ApiError::from(Code::CampaignClosed),
        WithdrawError::BeingReviewed => ApiError::from(Code::PhotoBeingReviewed),
        WithdrawError::NotInReview(_) => ApiError::from(Code::NotInReview),
        WithdrawError::Store(e) => e.into(),
    })?;
    now_shown(deps, &no).await
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
    Ok(shown(StatusCode::ACCEPTED, &order, json!({ "refund_status": status })))
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
    Ok(shown(StatusCode::OK, &order, json!({ "history": lines })))
}
