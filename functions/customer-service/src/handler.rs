//! Customer service (customer service staff and operators): an order found by its number or
//! the WeChat Pay transaction id, or a student's orders, with the full history and audit
//! trail; the payment anomalies operators resolve; sending a photo in review back to the student with a reason; and
//! undoing a wrong roster binding while nothing is paid. Every look is audited.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;
use yunzhao_adapters::dynamo::roster::DynamoBindings;
use yunzhao_adapters::dynamo::roster::RosterLine;
use yunzhao_adapters::dynamo::{DynamoCampaigns, DynamoConsents, DynamoOrders, DynamoRoster, DynamoStaff, ReviewQueue};
use yunzhao_adapters::now_ms;
use yunzhao_adapters::queues::DeadLetters;
use yunzhao_adapters::wechat::pay::WeChatPay;
use yunzhao_domain::order::change::Binding;
use yunzhao_domain::order::{Also, Applied, Change, Fields, Order, OrderState, OutTradeNo, Transition};
use yunzhao_domain::payment::{self, Cancelling};
use yunzhao_domain::photo::Reason;
use yunzhao_domain::review::AuditEntry;
use yunzhao_domain::{Role, UserId};
use yunzhao_http::{
    ApiError, Code, Principal, StaffGate, json_response, order_param, parse_json, path_param, query_param, request_id,
    respond, route_key, unknown_route,
};

const MAX_NOTE_CHARS: usize = 200;

pub struct Deps {
    pub orders: DynamoOrders,
    pub campaigns: DynamoCampaigns,
    pub dead_letters: DeadLetters,
    pub queue: ReviewQueue,
    /// Read-only: finds a line by its 学号 through the keyed pointer.
    pub roster: DynamoRoster,
    /// Closes a student's unpaid order when customer service unbinds them.
    pub pay: WeChatPay,
    pub bindings: DynamoBindings,
    pub consents: DynamoConsents,
    pub gate: StaffGate<DynamoStaff>,
}

pub async fn handle(deps: &Deps, req: Request) -> Response<Body> {
    let request_id = request_id(&req);
    let result = async {
        let p = deps.gate.authenticate(&req).await?;
        if !p.serves_all_schools() {
            return Err(ApiError::forbidden());
        }
        match route_key(&req).as_str() {
            "GET /v1/service/orders" => search(deps, &p, &req).await,
            "GET /v1/service/anomalies" => anomalies(deps).await,
            "GET /v1/service/stuck-orders" => stuck(deps, &p).await,
            "GET /v1/service/orders/{order_id}" => look_up(deps, &p, &req).await,
            "GET /v1/service/users/{user_id}/orders" => student_orders(deps, &req).await,
            "POST /v1/service/orders/{order_id}/send-back" => send_back(deps, &p, &req).await,
            "POST /v1/service/campaigns/{campaign_id}/users/{user_id}/unbind" => unbind(deps, &p, &req).await,
            _ => Err(unknown_route()),
        }
    }
    .await;
    respond(&request_id, result)
}

/// A name as customer service sees it: the family name, the rest masked (王**).
fn masked_name(name: &str) -> String {
    name.chars().enumerate().map(|(i, c)| if i == 0 { c } else { '*' }).collect()
}

/// An order as customer service sees it: state, money and times, the reasons given, and the
/// student masked; no WeChat identifiers or internal keys beyond the ids the routes take.
async fn service_view(deps: &Deps, o: &Order) -> Result<serde_json::Value, ApiError> {
    let line = deps.bindings.line_of(&o.campaign_id, &o.user_id).await.map_err(ApiError::store)?;
    let student = line.map(|l| {
        json!({"name": masked_name(&l.name), "id_number": l.id_number, "student_no": l.student_no,
               "department": l.department, "major": l.major, "class": l.class})
    });
    let time = |s: Option<i64>| {
        s.and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
            .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
    };
    Ok(json!({
        "order_id": o.out_trade_no, "user_id": o.user_id, "campaign_id": o.campaign_id, "school_id": o.school_id,
        "state": o.state, "amount_fen": o.amount_fen, "created_at": time(Some(o.created_at)), "paid_at": time(o.paid_at),
        "transaction_id": o.transaction_id, "reasons": o.reasons, "review_note": o.review_note,
        "approved_at": o.approved_at.and_then(|ms| time(Some(ms / 1000))), "out_refund_no": o.out_refund_no,
        "refund_reason": o.refund_reason, "student": student,
    }))
}

fn order_not_found() -> ApiError {
    ApiError::from(Code::OrderNotFound)
}

async fn order(deps: &Deps, req: &Request) -> Result<Order, ApiError> {
    let no = order_param(req)?;
    deps.orders.get(&no).await?.ok_or_else(order_not_found)
}

async fn look_up(deps: &Deps, p: &Principal, req: &Request) -> Result<Response<Body>, ApiError> {
    let order = order(deps, req).await?;
    let no = &order.out_trade_no;
    let entry =
        AuditEntry { at: now_ms(), actor: p.user_id.to_string(), action: "looked_up".into(), detail: String::new() };
    deps.queue.audit(no, &entry).await.map_err(ApiError::store)?;
    let history = deps.orders.history(no).await?;
    let audit = deps.queue.audits(no).await.map_err(ApiError::store)?;
    let view = service_view(deps, &order).await?;
    Ok(json_response(StatusCode::OK, &json!({"order": view, "history": history, "audit": audit})))
}

/// An order by what a student can tell customer service: the order number on their screen or
/// the transaction id in their WeChat Pay record (each lookup audited on the order).
async fn search(deps: &Deps, p: &Principal, req: &Request) -> Result<Response<Body>, ApiError> {
    if let Some(name) = query_param(req, "name") {
        return by_name(deps, p, req, name.trim()).await;
    }
    if let Some(number) = query_param(req, "student_no") {
        return by_student_no(deps, p, req, number.trim()).await;
    }
    let q = query_param(req, "q").map(|q| q.trim().to_owned()).unwrap_or_default();
    if q.is_empty() || q.len() > 64 || !q.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        return Err(ApiError::invalid_request(
            "Search by the order number or the WeChat Pay transaction id.",
            "请输入订单号或微信支付交易单号。",
        ));
    }
    let by_number = match OutTradeNo::parse(&q) {
        Ok(no) => deps.orders.get(&no).await?,
        Err(_) => None,
    };
    let found = match by_number {
        Some(o) => Some(o),
        None => deps.orders.by_transaction(&q).await?,
    };
    let mut orders = Vec::new();
    for o in found.iter() {
        let entry = AuditEntry {
            at: now_ms(),
            actor: p.user_id.to_string(),
            action: "found_by_search".into(),
            detail: String::new(),
        };
        deps.queue.audit(&o.out_trade_no, &entry).await.map_err(ApiError::store)?;
        orders.push(service_view(deps, o).await?);
    }
    Ok(json_response(StatusCode::OK, &json!({"orders": orders})))
}

/// An order in `standardizing` longer than this has lost its message (dead-lettered, or the
/// function crashed): standardizing takes seconds.
const STUCK_AFTER_S: i64 = 10 * 60;

/// What operators must unblock: orders of open campaigns stuck in `standardizing`, and how
/// many messages each dead-letter queue holds.
async fn stuck(deps: &Deps, p: &Principal) -> Result<Response<Body>, ApiError> {
    p.require(Role::Operator)?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut orders = Vec::new();
    for c in deps.campaigns.open_campaigns().await.map_err(ApiError::store)? {
        for o in deps.orders.by_campaign(&c.id).await? {
            let since = o.updated_at.unwrap_or(o.created_at);
            if o.state == OrderState::Standardizing && now - since > STUCK_AFTER_S {
                let mut view = service_view(deps, &o).await?;
                view["stuck_seconds"] = json!(now - since);
                orders.push(view);
            }
        }
    }
    let depths = deps.dead_letters.depths().await.map_err(ApiError::store)?;
    let queues: Vec<_> = depths.iter().map(|(name, depth)| json!({"queue": name, "messages": depth})).collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({"orders": orders, "dead_letters": queues, "stuck_after_seconds": STUCK_AFTER_S}),
    ))
}

/// At most this many students match a name search (a common name in a big school).
const MAX_NAME_MATCHES: usize = 20;

fn campaign_param(req: &Request) -> Result<String, ApiError> {
    query_param(req, "campaign_id").ok_or_else(|| {
        ApiError::invalid_request("Say which campaign to search (campaign_id).", "请选择要查找的采集批次。")
    })
}

/// A student's orders by (part of) the name on the campaign's roster: what a student who
/// calls in can always tell (each order found is audited).
async fn by_name(deps: &Deps, p: &Principal, req: &Request, name: &str) -> Result<Response<Body>, ApiError> {
    let campaign_id = campaign_param(req)?;
    // Two characters at least: one at a time would spell out masked names.
    if !(2..=20).contains(&name.chars().count()) {
        return Err(ApiError::invalid_request("Type 2–20 characters of the name.", "请输入 2–20 个字的姓名。"));
    }
    let lines = deps.bindings.lines(&campaign_id).await.map_err(ApiError::store)?;
    let matched: Vec<_> = lines.into_iter().filter(|l| l.name.contains(name)).take(MAX_NAME_MATCHES).collect();
    orders_of(deps, p, &campaign_id, &matched, "found_by_name").await
}

/// A student's orders by their whole 学号 (stored masked, found through its keyed pointer).
async fn by_student_no(deps: &Deps, p: &Principal, req: &Request, number: &str) -> Result<Response<Body>, ApiError> {
    let campaign_id = campaign_param(req)?;
    if !yunzhao_domain::roster::is_student_no(number) {
        return Err(ApiError::invalid_request("Type the whole student number.", "请输入完整的学号。"));
    }
    let line = deps.roster.by_student_no(&campaign_id, number).await.map_err(ApiError::store)?;
    orders_of(deps, p, &campaign_id, line.as_slice(), "found_by_student_no").await
}

/// The campaign's orders of the students on `lines`, each audited as found by `action`.
async fn orders_of(
    deps: &Deps,
    p: &Principal,
    campaign_id: &str,
    lines: &[RosterLine],
    action: &str,
) -> Result<Response<Body>, ApiError> {
    let mut orders = Vec::new();
    for line in lines {
        let Some(user) = line.bound_user_id.as_deref().and_then(|u| UserId::parse(u).ok()) else { continue };
        for o in deps.orders.by_user(&user).await?.iter().filter(|o| o.campaign_id == campaign_id) {
            let entry =
                AuditEntry { at: now_ms(), actor: p.user_id.to_string(), action: action.into(), detail: String::new() };
            deps.queue.audit(&o.out_trade_no, &entry).await.map_err(ApiError::store)?;
            orders.push(service_view(deps, o).await?);
        }
    }
    // Lines nobody verified against have no order; say how many matched all the same.
    Ok(json_response(StatusCode::OK, &json!({"orders": orders, "roster_matches": lines.len()})))
}

/// Payment anomalies, newest first.
async fn anomalies(deps: &Deps) -> Result<Response<Body>, ApiError> {
    let all = deps.orders.anomalies(200).await?;
    Ok(json_response(StatusCode::OK, &json!({"anomalies": all})))
}

async fn student_orders(deps: &Deps, req: &Request) -> Result<Response<Body>, ApiError> {
    let user = UserId::parse(&path_param(req, "user_id")?).map_err(|_| ApiError::not_found())?;
    let mut orders = Vec::new();
    for o in deps.orders.by_user(&user).await? {
        orders.push(service_view(deps, &o).await?);
    }
    // Which privacy agreements they accepted, where and when (PIPL: separate consent).
    let consents = deps.consents.of(&user).await?;
    Ok(json_response(StatusCode::OK, &json!({"user_id": user, "orders": orders, "consents": consents})))
}

#[derive(Deserialize)]
struct SendBack {
    #[serde(default)]
    reasons: Vec<Reason>,
    note: String,
}

async fn send_back(deps: &Deps, p: &Principal, req: &Request) -> Result<Response<Body>, ApiError> {
    let body: SendBack = parse_json(req)?;
    let note = body.note.trim().to_owned();
    if note.is_empty() || note.chars().count() > MAX_NOTE_CHARS {
        return Err(ApiError::invalid_request(
            "Say why the photo goes back, in 1–200 characters.",
            "请填写退回原因（1–200 个字符）。",
        ));
    }
    let order = order(deps, req).await?;
    let (Some(task_id), OrderState::InReview) = (order.review_task_id.as_deref(), order.state) else {
        return Err(not_in_review(order.state));
    };
    let who = p.user_id.to_string();
    let now = now_ms();
    let send_back = Change::new(Transition::Reject, "sent_back_by_service", &who)
        .set(Fields {
            reasons: Some(body.reasons),
            review_note: Some(note.clone()),
            restore_checks: true,
            ..Fields::default()
        })
        .also(Also::WithdrawTask { campaign_id: order.campaign_id.clone(), task_id: task_id.to_owned() })
        .also(Also::Audit(AuditEntry { at: now, actor: who.clone(), action: "sent_back".into(), detail: note }));
    match deps.orders.apply(&order, send_back).await? {
        Applied::Moved => {
            tracing::info!(out_trade_no = %order.out_trade_no, by = who, "photo sent back for a retake");
            Ok(json_response(StatusCode::OK, &json!({"order_id": order.out_trade_no, "state": OrderState::Rejected})))
        }
        Applied::Unchanged(state) => Err(not_in_review(state)),
        Applied::Refused(_) => Err(not_in_review(order.state)),
    }
}

fn not_in_review(state: OrderState) -> ApiError {
    ApiError::from(Code::NotInReview).with_detail(format!("the order is {}", state.as_str()))
}

/// Undoes a binding with no unpaid order to close: only if it is still the one read and no
/// order appeared since (`seen` is the order there was, if any).
async fn unbind_only(deps: &Deps, binding: &Binding, seen: Option<&Order>) -> Result<(), ApiError> {
    if deps.bindings.unbind(binding, seen.map(|o| &o.out_trade_no)).await.map_err(ApiError::store)? {
        return Ok(());
    }
    // The binding went (another unbind), or an order was made since it was read.
    let still = deps.bindings.binding_status(&binding.campaign_id, &binding.user).await.map_err(ApiError::store)?;
    Err(ApiError::from(if still.is_some() { Code::ChangedMeanwhile } else { Code::StudentNotBound }))
}

async fn unbind(deps: &Deps, p: &Principal, req: &Request) -> Result<Response<Body>, ApiError> {
    let campaign_id = path_param(req, "campaign_id")?;
    let user = UserId::parse(&path_param(req, "user_id")?).map_err(|_| ApiError::not_found())?;
    // From the table itself, not the index by user (a moment behind): an order created just
    // before the unbind is seen, and the unbind is conditional on no order appearing since.
    let current = deps.orders.current_in(&user, &campaign_id).await?;
    let order_paid = || ApiError::from(Code::OrderPaid);
    if current.as_ref().is_some_and(|o| o.state.is_paid()) {
        return Err(order_paid());
    }
    let binding = deps.bindings.binding_to_undo(&campaign_id, &user).await.map_err(ApiError::store)?;
    let Some(binding) = binding else { return Err(ApiError::from(Code::StudentNotBound)) };
    // An unpaid order goes with the binding: closed at WeChat Pay (so its prepay can no longer
    // be paid), then cancelled in the same write that unbinds.
    let unpaid = current.as_ref().filter(|o| o.state == OrderState::Created);
    match unpaid {
        None => unbind_only(deps, &binding, current.as_ref()).await?,
        Some(order) => {
            let (who, now) = (p.user_id.to_string(), OffsetDateTime::now_utc());
            let cause = "unbound_by_service";
            match payment::cancel_unpaid(&deps.orders, &deps.pay, order, cause, &who, Some(binding), now).await? {
                Cancelling::Cancelled => {}
                Cancelling::PaidMeanwhile(_) => return Err(order_paid()),
                Cancelling::NotUnpaid(state) if state.is_paid() => return Err(order_paid()),
                // The order moved, or the binding did, since they were read: nothing was written.
                Cancelling::NotUnpaid(_) => return Err(ApiError::from(Code::ChangedMeanwhile)),
            }
        }
    }
    let closed = unpaid.map(|o| o.out_trade_no.to_string());
    tracing::info!(campaign_id, user_id = %user, by = %p.user_id, closed_order = closed.as_deref(), "roster binding undone");
    Ok(json_response(
        StatusCode::OK,
        &json!({"campaign_id": campaign_id, "user_id": user, "bound": false, "cancelled_order": closed}),
    ))
}
