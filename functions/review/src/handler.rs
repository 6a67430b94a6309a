//! Reviewers (role `reviewer`, or operators) work a campaign's queue: claim the oldest photo
//! nobody holds (a lease), look at it with the original and the cut-out and the check report
//! (every look is audited), and approve or reject it with reason codes. A decision needs the
//! lease: deciding twice, or deciding a task someone else holds, is a conflict.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use yunzhao_adapters::blobs::{Blobs, Fetched};
use yunzhao_adapters::dynamo::review::QueueStats;
use yunzhao_adapters::dynamo::{DynamoCampaigns, DynamoOrders, DynamoStaff, ReviewQueue};
use yunzhao_adapters::now_ms;
use yunzhao_domain::Role;
use yunzhao_domain::campaign::Campaign;
use yunzhao_domain::objects;
use yunzhao_domain::photo::Reason;
use yunzhao_domain::review::{self, AuditEntry, Claimed, DecideError, Decided, Decision, ReviewTask};
use yunzhao_http::{
    ApiError, Code, Principal, StaffGate, json_response, parse_json, path_param, request_id, respond, route_key,
    unknown_route,
};

/// Links to photos are good for this long.
const LINK_TTL: std::time::Duration = std::time::Duration::from_secs(300);
/// Reviewers promise a decision within two working days; the queue shows its age against it.
const PROMISE_HOURS: i64 = 48;

pub struct Photos {
    pub blobs: Blobs,
    pub uploads_bucket: String,
    pub results_bucket: String,
}

impl Photos {
    /// A short-lived link to an object; to `version` of it when given (an original: a later
    /// write to the same key is never what the link shows).
    async fn link(&self, bucket: &str, key: &str, version: Option<&str>) -> Result<String, ApiError> {
        self.blobs.link(bucket, key, version, LINK_TTL).await.map_err(ApiError::store)
    }

    async fn report(&self, prefix: &str) -> Result<Value, ApiError> {
        let key = objects::Results::at(prefix).report();
        match self.blobs.get(&self.results_bucket, &key, None, u64::MAX).await.map_err(ApiError::store)? {
            Fetched::Found(report) => serde_json::from_slice(&report.bytes).map_err(ApiError::store),
            _ => Err(ApiError::store(format!("{key} missing"))),
        }
    }
}

pub struct Deps {
    pub orders: DynamoOrders,
    pub campaigns: DynamoCampaigns,
    pub queue: ReviewQueue,
    pub photos: Photos,
    pub gate: StaffGate<DynamoStaff>,
    pub lease_ms: i64,
}

pub async fn handle(deps: &Deps, req: Request) -> Response<Body> {
    let request_id = request_id(&req);
    let result = async {
        let p = deps.gate.authenticate(&req).await?;
        // The reason codes are every staff member's vocabulary (customer service sends back with them).
        if route_key(&req) == "GET /v1/review/reasons" {
            return Ok(reasons());
        }
        if !(p.has(Role::Reviewer) || p.has(Role::Operator)) {
            return Err(ApiError::forbidden());
        }
        if route_key(&req) == "GET /v1/review/queues" {
            return overview(deps, &p).await;
        }
        let campaign_id = path_param(&req, "campaign_id")?;
        let campaign = match deps.campaigns.get(&campaign_id).await.map_err(ApiError::store)? {
            Some((c, _)) if p.acts_for(Role::Reviewer, &c.school_id) => c,
            _ => return Err(ApiError::campaign_not_found()),
        };
        match route_key(&req).as_str() {
            "GET /v1/review/campaigns/{campaign_id}/queue" => queue(deps, &campaign_id).await,
            "POST /v1/review/campaigns/{campaign_id}/claims" => claim(deps, &p, &campaign, &req).await,
            "GET /v1/review/campaigns/{campaign_id}/tasks/{task_id}" => {
                let task = held(deps, &p, &campaign_id, &path_param(&req, "task_id")?).await?;
                show(deps, &p, &campaign, &task).await
            }
            "POST /v1/review/campaigns/{campaign_id}/tasks/{task_id}/decision" => {
                decide(deps, &p, &campaign_id, &path_param(&req, "task_id")?, &req).await
            }
            "POST /v1/review/campaigns/{campaign_id}/tasks/{task_id}/release" => {
                release(deps, &p, &campaign_id, &path_param(&req, "task_id")?).await
            }
            "POST /v1/review/campaigns/{campaign_id}/tasks/{task_id}/lease" => {
                renew(deps, &p, &campaign_id, &path_param(&req, "task_id")?).await
            }
            _ => Err(unknown_route()),
        }
    }
    .await;
    respond(&request_id, result)
}

fn rfc3339(ms: i64) -> Value {
    OffsetDateTime::from_unix_timestamp(ms / 1000)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .map_or(Value::Null, Value::String)
}

fn queue_view(campaign_id: &str, stats: &QueueStats, now: i64) -> Value {
    let age_s = stats.oldest_queued_at.map(|t| (now - t).max(0) / 1000);
    json!({
        "campaign_id": campaign_id,
        "waiting": stats.waiting,
        "claimed": stats.claimed,
        "oldest_queued_at": stats.oldest_queued_at.map(rfc3339),
        "oldest_age_seconds": age_s,
        "promise_hours": PROMISE_HOURS,
        "promise_at_risk": age_s.is_some_and(|a| a > PROMISE_HOURS * 3600 * 3 / 4),
    })
}

async fn queue(deps: &Deps, campaign_id: &str) -> Result<Response<Body>, ApiError> {
    let now = now_ms();
    let stats = deps.queue.stats(campaign_id, now).await.map_err(ApiError::store)?;
    Ok(json_response(StatusCode::OK, &queue_view(campaign_id, &stats, now)))
}

/// Every campaign with photos in review that the caller may review, the oldest waiting
/// first: where reviewers start.
async fn overview(deps: &Deps, p: &Principal) -> Result<Response<Body>, ApiError> {
    let now = now_ms();
    let all = deps.queue.overview(now).await.map_err(ApiError::store)?;
    let mut queues = Vec::new();
    let mut school_names = std::collections::HashMap::new();
    for (campaign_id, stats) in &all {
        let Some((c, _)) = deps.campaigns.get(campaign_id).await.map_err(ApiError::store)? else { continue };
        if !p.acts_for(Role::Reviewer, &c.school_id) {
            continue;
        }
        if !school_names.contains_key(&c.school_id) {
            let school = deps.campaigns.school(&c.school_id).await.map_err(ApiError::store)?;
            school_names.insert(c.school_id.clone(), school.map(|s| s.name).unwrap_or_default());
        }
        let mut view = queue_view(campaign_id, stats, now);
        view["campaign_name"] = json!(c.name);
        view["school_id"] = json!(c.school_id);
        view["school_name"] = json!(school_names.get(&c.school_id));
        queues.push(view);
    }
    Ok(json_response(StatusCode::OK, &json!({"queues": queues})))
}

/// The codes reviewers reject with, with their labels and the student's message.
fn reasons() -> Response<Body> {
    let all: Vec<Value> = Reason::ALL
        .iter()
        .map(|r| {
            let ((label_en, label_zh), (message_en, message_zh)) = (r.labels(), r.messages());
            json!({"code": r.as_str(), "label_en": label_en, "label_zh": label_zh, "message_en": message_en, "message_zh": message_zh})
        })
        .collect();
    json_response(StatusCode::OK, &json!({ "reasons": all }))
}

#[derive(Deserialize, Default)]
struct ClaimBody {
    /// Tasks not to be given (the one on screen while the next is fetched, skipped ones).
    #[serde(default)]
    except: Vec<String>,
}

/// How many tasks one claim may pass over (a console skips a few, not hundreds).
const MAX_EXCEPT: usize = 50;

async fn release(deps: &Deps, p: &Principal, campaign_id: &str, task_id: &str) -> Result<Response<Body>, ApiError> {
    let who = p.user_id.to_string();
    if !deps.queue.release(campaign_id, task_id, &who, now_ms()).await.map_err(ApiError::store)? {
        return Err(task_not_held());
    }
    tracing::info!(campaign_id, task_id, by = who, "review task released");
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    Ok(response)
}

/// Keeps a task the reviewer still has open theirs (the console renews while it is on screen).
async fn renew(deps: &Deps, p: &Principal, campaign_id: &str, task_id: &str) -> Result<Response<Body>, ApiError> {
    let who = p.user_id.to_string();
    let until = deps.queue.renew(campaign_id, task_id, &who, now_ms(), deps.lease_ms).await.map_err(ApiError::store)?;
    let until = until.ok_or_else(task_not_held)?;
    Ok(json_response(
        StatusCode::OK,
        &json!({"task_id": task_id, "lease_until": rfc3339(until), "lease_seconds": deps.lease_ms / 1000}),
    ))
}

fn task_not_held() -> ApiError {
    ApiError::from(Code::TaskNotHeld)
}

async fn claim(deps: &Deps, p: &Principal, campaign: &Campaign, req: &Request) -> Result<Response<Body>, ApiError> {
    let body: ClaimBody = if req.body().is_empty() { ClaimBody::default() } else { parse_json(req)? };
    if body.except.len() > MAX_EXCEPT {
        return Err(ApiError::invalid_request("Pass over at most 50 tasks.", "一次最多跳过 50 个任务。"));
    }
    let who = p.user_id.to_string();
    let campaign_id = campaign.id.as_str();
    let claimed =
        deps.queue.claim(campaign_id, &who, &body.except, now_ms(), deps.lease_ms).await.map_err(ApiError::store)?;
    match claimed {
        Claimed::Task(task) => {
            tracing::info!(campaign_id, task_id = task.task_id, by = who, "review task claimed");
            show(deps, p, campaign, &task).await
        }
        Claimed::Empty => Err(ApiError::from(Code::QueueEmpty)),
        Claimed::HoldingTooMany => Err(ApiError::from(Code::HoldingTooMany)),
    }
}

/// The task, if the caller holds it now; anyone else's or a decided one is a conflict.
async fn held(deps: &Deps, p: &Principal, campaign_id: &str, task_id: &str) -> Result<ReviewTask, ApiError> {
    match deps.queue.get(campaign_id, task_id).await.map_err(ApiError::store)? {
        Some(t) if t.held_by(p.user_id.as_str(), now_ms()) => Ok(t),
        _ => Err(task_not_held()),
    }
}

/// The task with short-lived links to its photos (and the ID-card photos where the campaign
/// collected them), the spec it was framed to and the check report; the look is audited.
/// Links to the ID-card photos of the task's student: the versions checked when the binding
/// completed, not whatever the keys hold now.
async fn card_photo_links(
    deps: &Deps,
    campaign: &Campaign,
    task: &ReviewTask,
) -> Result<Vec<(&'static str, String)>, ApiError> {
    let photos = &deps.photos;
    let order = deps.orders.get(&task.out_trade_no).await?.ok_or_else(task_not_held)?;
    let versions = deps.orders.card_versions(&order.user_id, &campaign.id).await?;
    let mut links = Vec::new();
    for side in ["front", "back"] {
        let key = objects::card_photo(&campaign.id, &order.user_id, side);
        let version = versions.as_ref().map(|v| if side == "front" { v.front.as_str() } else { v.back.as_str() });
        links.push((side, photos.link(&photos.uploads_bucket, &key, version).await?));
    }
    Ok(links)
}

async fn show(deps: &Deps, p: &Principal, campaign: &Campaign, task: &ReviewTask) -> Result<Response<Body>, ApiError> {
    let photos = &deps.photos;
    let prefix = &task.result_prefix;
    let mut links = json!({
        // The version the attempt took and standardize read, not whatever the key holds now.
        "original_url": photos.link(&photos.uploads_bucket, &task.upload_key, task.upload_version.as_deref()).await?,
        "standard_url": photos.link(&photos.results_bucket, &objects::Results::at(prefix).standard(), None).await?,
        "cutout_url": photos.link(&photos.results_bucket, &objects::Results::at(prefix).cutout(), None).await?,
        "expires_in": LINK_TTL.as_secs(),
    });
    if campaign.require_id_card_photos {
        for (side, url) in card_photo_links(deps, campaign, task).await? {
            links[format!("id_card_{side}_url")] = json!(url);
        }
    }
    let report = photos.report(prefix).await?;
    let entry = AuditEntry {
        at: now_ms(),
        actor: p.user_id.to_string(),
        action: "viewed_photos".into(),
        detail: format!("review task {} attempt {}", task.task_id, task.attempt),
    };
    deps.queue.audit(&task.out_trade_no, &entry).await.map_err(ApiError::store)?;
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "task_id": task.task_id,
            "campaign_id": task.campaign_id,
            "order_id": task.out_trade_no,
            "attempt": task.attempt,
            "queued_at": rfc3339(task.queued_at),
            "lease_until": task.lease_until.map(rfc3339),
            "lease_seconds": deps.lease_ms / 1000,
            "photos": links,
            "spec": campaign.spec,
            "report": report,
        }),
    ))
}

async fn decide(
    deps: &Deps,
    p: &Principal,
    campaign_id: &str,
    task_id: &str,
    req: &Request,
) -> Result<Response<Body>, ApiError> {
    let decision: Decision = parse_json(req)?;
    let who = p.user_id.to_string();
    let decided = review::decide(&deps.orders, &deps.queue, &who, campaign_id, task_id, decision, now_ms())
        .await
        .map_err(decide_error)?;
    let Decided { out_trade_no, state, reasons, note, action } = decided;
    tracing::info!(campaign_id, task_id, %out_trade_no, by = who, decision = action, "photo decided");
    Ok(json_response(
        StatusCode::OK,
        &json!({"order_id": out_trade_no, "state": state, "reasons": reasons, "note": note}),
    ))
}

fn decide_error(e: DecideError) -> ApiError {
    match e {
        DecideError::NoteTooLong => {
            ApiError::invalid_request("The note is limited to 200 characters.", "备注最多 200 个字符。")
        }
        DecideError::ApprovalWithReasons => {
            ApiError::invalid_request("An approval carries no reasons.", "通过审核时无需填写不合格原因。")
        }
        DecideError::RejectionUnexplained => ApiError::invalid_request(
            "A rejection needs at least one reason code or a note for the student.",
            "退回时请至少选择一个原因或填写备注。",
        ),
        DecideError::NotHeld => task_not_held(),
        DecideError::Withdrawn => ApiError::from(Code::TaskWithdrawn),
        DecideError::Store(e) => e.into(),
    }
}
