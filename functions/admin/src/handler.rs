//! Administration routes. Operators run the service (schools); school admins run their own
//! school's campaigns, rosters and exports and cannot see any other school's. Staff sign in
//! to the console (`yunzhao_http::StaffGate`); staff accounts are the staff function's.

use std::time::Duration;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use yunzhao_adapters::blobs::{Blobs, Fetched};
use yunzhao_adapters::dynamo::campaigns::{CampaignStoreError, Progress, School};
use yunzhao_adapters::dynamo::exports::{Export, ExportStatus};
use yunzhao_adapters::dynamo::{
    DynamoCampaigns, DynamoCounters, DynamoExports, DynamoOrders, DynamoRoster, DynamoStaff,
};
use yunzhao_adapters::queues::JobQueue;
use yunzhao_adapters::roster_file::{self, FileError};
use yunzhao_adapters::s3_post::Presigner;
use yunzhao_domain::Role;
use yunzhao_domain::campaign::{
    Agreement, Campaign, CampaignKind, IdentityMode, PhotoSpec, Preset, SHANGHAI, Window, parse_shanghai_time,
};
use yunzhao_domain::identity::{AttemptCounter, Limit};
use yunzhao_domain::order::counting_orders;
use yunzhao_domain::progress::{Filter, Progress as RosterProgress};
use yunzhao_domain::roster::validate_sheet;
use yunzhao_http::{
    ApiError, Code, Principal, StaffGate, json_response, parse_json, path_param, query_param, request_id, respond,
    route_key, unknown_route,
};

/// A roster upload link is good for this long.
const UPLOAD_LINK_TTL: Duration = Duration::from_secs(15 * 60);

/// Exports of a campaign for its school: requested here, built by the export function.
pub struct Exports {
    pub store: DynamoExports,
    /// Each export decrypts every ID number of the campaign: requests are counted per campaign.
    pub counters: DynamoCounters,
    pub queue: JobQueue,
    pub bucket: String,
}

/// Exports a campaign may request a day, an Asia/Shanghai day (each decrypts every ID number
/// of the campaign).
const EXPORTS_PER_DAY: Limit = Limit::per(20, time::Duration::days(1));
/// An export still building after this long has failed (its message is in the dead-letter
/// queue): another may be requested.
const EXPORT_BUILDING_MS: i64 = 20 * 60 * 1000;

/// A download link of an export is good for this long.
const EXPORT_LINK_TTL: Duration = Duration::from_secs(15 * 60);

pub struct Deps {
    pub campaigns: DynamoCampaigns,
    pub orders: DynamoOrders,
    pub roster: DynamoRoster,
    pub exports: Exports,
    pub blobs: Blobs,
    pub uploads_bucket: String,
    /// Roster files come from the browser as a presigned POST (the bucket's CORS allows POST).
    pub roster_uploads: Presigner,
    pub gate: StaffGate<DynamoStaff>,
}

pub async fn handle(deps: &Deps, req: Request) -> Response<Body> {
    let request_id = request_id(&req);
    let result = async {
        let p = deps.gate.authenticate(&req).await?;
        match route_key(&req).as_str() {
            "POST /v1/admin/schools" => create_school(deps, &p, &req).await,
            "GET /v1/admin/schools" => list_schools(deps, &p).await,
            "GET /v1/admin/presets" => Ok(presets()),
            "POST /v1/admin/campaigns" => create_campaign(deps, &p, &req).await,
            "GET /v1/admin/campaigns" => list_campaigns(deps, &p, &req).await,
            "GET /v1/admin/campaigns/{campaign_id}" => {
                let (c, progress) = own_campaign(deps, &p, &path_param(&req, "campaign_id")?).await?;
                Ok(json_response(StatusCode::OK, &campaign_view(&c, &progress)))
            }
            "PUT /v1/admin/campaigns/{campaign_id}" => update_campaign(deps, &p, &req).await,
            "GET /v1/admin/campaigns/{campaign_id}/progress" => progress(deps, &p, &req).await,
            "POST /v1/admin/campaigns/{campaign_id}/roster-uploads" => roster_upload(deps, &p, &req).await,
            "POST /v1/admin/campaigns/{campaign_id}/roster-imports/{import_id}" => roster_import(deps, &p, &req).await,
            "GET /v1/admin/campaigns/{campaign_id}/roster-imports/{import_id}" => roster_report(deps, &p, &req).await,
            "POST /v1/admin/campaigns/{campaign_id}/exports" => request_export(deps, &p, &req).await,
            "GET /v1/admin/campaigns/{campaign_id}/exports" => list_exports(deps, &p, &req).await,
            "GET /v1/admin/campaigns/{campaign_id}/exports/{export_id}" => show_export(deps, &p, &req).await,
            _ => Err(unknown_route()),
        }
    }
    .await;
    respond(&request_id, result)
}

/// Operators act for every school; a school admin only for their own.
fn may_manage(p: &Principal, school_id: &str) -> bool {
    p.acts_for(Role::SchoolAdmin, school_id)
}

/// A school admin's school (they act for exactly one).
fn own_school(p: &Principal) -> Option<String> {
    if p.has(Role::SchoolAdmin) { p.school_ids.first().cloned() } else { None }
}

/// A campaign the caller may manage. Another school's campaign is "not found", not
/// "forbidden": its existence is not the caller's business.
async fn own_campaign(deps: &Deps, p: &Principal, id: &str) -> Result<(Campaign, Progress), ApiError> {
    if !(p.has(Role::Operator) || p.has(Role::SchoolAdmin)) {
        return Err(ApiError::forbidden());
    }
    match deps.campaigns.get(id).await.map_err(ApiError::store)? {
        Some((c, progress)) if may_manage(p, &c.school_id) => Ok((c, progress)),
        _ => Err(ApiError::campaign_not_found()),
    }
}

#[derive(Deserialize)]
struct NewSchool {
    name: String,
}

async fn create_school(deps: &Deps, p: &Principal, req: &Request) -> Result<Response<Body>, ApiError> {
    p.require(Role::Operator)?;
    let body: NewSchool = parse_json(req)?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid_request(
            "A school needs a name of 1–100 characters.",
            "学校名称应为 1–100 个字符。",
        ));
    }
    let school = School { id: format!("s_{}", uuid::Uuid::new_v4().simple()), name: name.to_owned() };
    deps.campaigns.create_school(&school).await.map_err(ApiError::store)?;
    tracing::info!(school_id = %school.id, by = %p.user_id, "school created");
    Ok(json_response(StatusCode::CREATED, &json!({"school": school})))
}

/// Whether the caller may read the school's campaigns: its admins, and customer service and
/// operators (who work across schools).
fn may_read(p: &Principal, school_id: &str) -> bool {
    p.serves_all_schools() || may_manage(p, school_id)
}

/// The schools the caller manages or serves (operators and customer service: all).
async fn list_schools(deps: &Deps, p: &Principal) -> Result<Response<Body>, ApiError> {
    if !(p.serves_all_schools() || p.has(Role::SchoolAdmin)) {
        return Err(ApiError::forbidden());
    }
    let all = deps.campaigns.schools().await.map_err(ApiError::store)?;
    let mine: Vec<&School> = all.iter().filter(|s| may_read(p, &s.id)).collect();
    Ok(json_response(StatusCode::OK, &json!({"schools": mine})))
}

/// The photo-spec presets a campaign starts from, with their geometry (for the frame preview).
fn presets() -> Response<Body> {
    let all: Vec<Value> = [
        (Preset::Chsi, "学信网毕业生图像 (480×640)", "CHSI graduation (480×640)"),
        (Preset::Degree, "学位照 (150×210)", "Degree (150×210)"),
        (Preset::NewStudent, "新生入学照 (480×640 白底)", "New student (480×640, white)"),
        (Preset::ResidentIdCard, "居民身份证 (358×441)", "Resident ID card (358×441)"),
    ]
    .into_iter()
    .map(|(p, zh, en)| json!({"id": p, "label_zh": zh, "label_en": en, "spec": PhotoSpec::preset(p)}))
    .collect();
    json_response(StatusCode::OK, &json!({ "presets": all }))
}

/// A campaign as an admin writes it.
#[derive(Deserialize)]
struct CampaignInput {
    school_id: Option<String>,
    name: String,
    kind: CampaignKind,
    preset: Option<Preset>,
    spec: Option<PhotoSpec>,
    opens_at: String,
    closes_at: String,
    price_fen: u32,
    identity_mode: IdentityMode,
    #[serde(default)]
    require_id_card_photos: bool,
    /// Left out: false for a new campaign, unchanged on an update (as `free_checks`).
    allow_withdraw: Option<bool>,
    free_checks: Option<u32>,
    /// 《用户隐私协议》 students accept before verifying: left out, unchanged (none for a new
    /// campaign); `null`, removed.
    #[serde(default, deserialize_with = "present")]
    privacy_agreement: Option<Option<Agreement>>,
}

/// A field that was sent, as `Some` (its `null` as `Some(None)`), told from one left out.
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

fn invalid_campaign(message: String) -> ApiError {
    ApiError::coded(Code::InvalidCampaign, message, Code::InvalidCampaign.messages().1)
}

impl CampaignInput {
    fn into_campaign(self, id: String, school_id: String) -> Result<Campaign, ApiError> {
        let spec = match (self.preset, self.spec) {
            (Some(p), None) => PhotoSpec::preset(p),
            (None, Some(mut s)) => {
                s.preset = None;
                s
            }
            _ => return Err(invalid_campaign("Give either a preset or a custom spec.".into())),
        };
        let opens = parse_shanghai_time(&self.opens_at).map_err(|e| invalid_campaign(format!("opens_at: {e}")))?;
        let closes = parse_shanghai_time(&self.closes_at).map_err(|e| invalid_campaign(format!("closes_at: {e}")))?;
        let campaign = Campaign {
            id,
            school_id,
            name: self.name.trim().to_owned(),
            kind: self.kind,
            spec,
            window: Window::new(opens, closes).map_err(|e| invalid_campaign(e.to_string()))?,
            price_fen: self.price_fen,
            identity_mode: self.identity_mode,
            require_id_card_photos: self.require_id_card_photos,
            allow_withdraw: self.allow_withdraw.unwrap_or(false),
            free_checks: self.free_checks.unwrap_or(yunzhao_domain::campaign::DEFAULT_FREE_CHECKS),
            privacy_agreement: self.privacy_agreement.flatten(),
            code: None,
            closed: false,
        };
        campaign.validate().map_err(|e| invalid_campaign(e.to_string()))?;
        Ok(campaign)
    }
}

fn campaign_view(c: &Campaign, progress: &Progress) -> Value {
    let fmt = |t: OffsetDateTime| t.to_offset(SHANGHAI).format(&Rfc3339).unwrap_or_default();
    json!({
        "campaign": {
            "id": c.id, "school_id": c.school_id, "name": c.name, "kind": c.kind, "spec": c.spec,
            "opens_at": fmt(c.window.opens_at), "closes_at": fmt(c.window.closes_at),
            "price_fen": c.price_fen, "identity_mode": c.identity_mode,
            "require_id_card_photos": c.require_id_card_photos,
            "allow_withdraw": c.allow_withdraw,
            "free_checks": c.free_checks,
            "privacy_agreement": c.privacy_agreement,
            "code": c.code,
            "status": c.status(OffsetDateTime::now_utc()),
        },
        "progress": progress,
    })
}

async fn create_campaign(deps: &Deps, p: &Principal, req: &Request) -> Result<Response<Body>, ApiError> {
    let input: CampaignInput = parse_json(req)?;
    let school_id = input.school_id.clone().or_else(|| own_school(p)).ok_or_else(|| {
        ApiError::invalid_request("Say which school the campaign is for (school_id).", "请指定学校（school_id）。")
    })?;
    if !may_manage(p, &school_id) {
        return Err(ApiError::forbidden());
    }
    if !deps.campaigns.school_exists(&school_id).await.map_err(ApiError::store)? {
        return Err(ApiError::invalid_request("There is no such school.", "学校不存在。"));
    }
    let mut campaign = input.into_campaign(format!("c_{}", uuid::Uuid::new_v4().simple()), school_id)?;
    // A fresh public code; another campaign's (one in 300 million) means another try.
    let mut tries = 0;
    loop {
        campaign.code = Some(yunzhao_domain::campaign::new_code());
        match deps.campaigns.create(&campaign).await {
            Err(CampaignStoreError::CodeTaken) if tries < 3 => tries += 1,
            other => break other.map_err(ApiError::store)?,
        }
    }
    tracing::info!(campaign_id = %campaign.id, school_id = %campaign.school_id, by = %p.user_id, "campaign created");
    Ok(json_response(StatusCode::CREATED, &campaign_view(&campaign, &Progress::default())))
}

async fn update_campaign(deps: &Deps, p: &Principal, req: &Request) -> Result<Response<Body>, ApiError> {
    let (existing, progress) = own_campaign(deps, p, &path_param(req, "campaign_id")?).await?;
    if existing.closed {
        return Err(ApiError::from(Code::CampaignClosed));
    }
    let mut input: CampaignInput = parse_json(req)?;
    input.allow_withdraw = input.allow_withdraw.or(Some(existing.allow_withdraw));
    input.free_checks = input.free_checks.or(Some(existing.free_checks));
    input.privacy_agreement = input.privacy_agreement.or(Some(existing.privacy_agreement.clone()));
    if input.school_id.as_deref().is_some_and(|s| s != existing.school_id) {
        return Err(invalid_campaign("A campaign cannot move to another school.".into()));
    }
    let mut campaign = input.into_campaign(existing.id.clone(), existing.school_id.clone())?;
    (campaign.closed, campaign.code) = (existing.closed, existing.code.clone());
    deps.campaigns.update(&campaign, OffsetDateTime::now_utc()).await.map_err(|e| match e {
        CampaignStoreError::NotFound => ApiError::campaign_not_found(),
        e => ApiError::store(e),
    })?;
    tracing::info!(campaign_id = %campaign.id, by = %p.user_id, "campaign updated");
    Ok(json_response(StatusCode::OK, &campaign_view(&campaign, &progress)))
}

async fn list_campaigns(deps: &Deps, p: &Principal, req: &Request) -> Result<Response<Body>, ApiError> {
    let school_id = query_param(req, "school_id")
        .or_else(|| own_school(p))
        .ok_or_else(|| ApiError::invalid_request("Say which school (school_id).", "请指定学校（school_id）。"))?;
    if !may_read(p, &school_id) {
        return Err(ApiError::forbidden());
    }
    let campaigns = deps.campaigns.list_by_school(&school_id).await.map_err(ApiError::store)?;
    let views: Vec<Value> = campaigns.iter().map(|(c, progress)| campaign_view(c, progress)).collect();
    Ok(json_response(StatusCode::OK, &json!({"campaigns": views})))
}

fn roster_key(campaign_id: &str, import_id: &str) -> String {
    yunzhao_domain::objects::roster_file(campaign_id, import_id)
}

fn import_id_param(req: &Request) -> Result<String, ApiError> {
    let id = path_param(req, "import_id")?;
    let ok = id.len() == 34 && id.starts_with("r_") && id[2..].bytes().all(|b| b.is_ascii_hexdigit());
    if ok { Ok(id) } else { Err(ApiError::not_found()) }
}

async fn roster_upload(deps: &Deps, p: &Principal, req: &Request) -> Result<Response<Body>, ApiError> {
    let (c, _) = own_campaign(deps, p, &path_param(req, "campaign_id")?).await?;
    let import_id = format!("r_{}", uuid::Uuid::new_v4().simple());
    let ttl = time::Duration::seconds(UPLOAD_LINK_TTL.as_secs() as i64);
    let max = roster_file::MAX_BYTES as u64;
    // The file's type is sniffed from its bytes on import; the upload pins one neutral type.
    let post = deps
        .roster_uploads
        .post_as(&roster_key(&c.id, &import_id), 1, max, ttl, Some(ROSTER_CONTENT_TYPE))
        .await
        .map_err(|e| ApiError::internal().with_detail(e))?;
    Ok(json_response(
        StatusCode::CREATED,
        &json!({
            "import_id": import_id,
            "upload": {"method": "POST", "url": post.url, "fields": post.fields, "file_field": "file",
                       "expires_at": post.expires_at.format(&Rfc3339).unwrap_or_default()},
            "max_bytes": roster_file::MAX_BYTES,
        }),
    ))
}

/// Where every student on the roster stands: counts by stage and by class/major, and the
/// students who have not finished, filtered by stage, name or student number (`q`),
/// department, major or class.
async fn progress(deps: &Deps, p: &Principal, req: &Request) -> Result<Response<Body>, ApiError> {
    let (c, _) = own_campaign(deps, p, &path_param(req, "campaign_id")?).await?;
    let lines = deps.roster.lines(&c.id).await.map_err(ApiError::store)?;
    let counting = counting_orders(deps.orders.by_campaign(&c.id).await?);
    let text = query_param(req, "q").map(|q| q.trim().to_owned()).filter(|q| !q.is_empty());
    // Student numbers are stored masked: a whole 学号 is found through its keyed pointer.
    let numbered = match text.as_deref() {
        Some(q) if looks_like_student_no(q) => deps.roster.by_student_no(&c.id, q).await.map_err(ApiError::store)?,
        _ => None,
    };
    let filter = Filter {
        stage: query_param(req, "stage").and_then(|s| serde_json::from_value(json!(s)).ok()),
        text,
        numbered_entry: numbered.map(|n| n.entry_id),
        department: query_param(req, "department"),
        major: query_param(req, "major"),
        class: query_param(req, "class"),
    };
    let progress = yunzhao_domain::progress::progress(&lines, &counting, &filter);
    Ok(json_response(StatusCode::OK, &progress_view(&c.id, lines.len(), &progress)))
}

fn progress_view(campaign_id: &str, roster: usize, p: &RosterProgress) -> Value {
    let stages: Vec<Value> = p
        .by_stage
        .iter()
        .map(|(s, n)| json!({"stage": s, "label_zh": s.labels().1, "label_en": s.labels().0, "count": n}))
        .collect();
    let groups: Vec<Value> = p
        .groups
        .iter()
        .map(|((department, major, class), g)| {
            json!({"department": department, "major": major, "class": class, "total": g.total, "approved": g.approved, "done": g.done})
        })
        .collect();
    let students: Vec<Value> = p
        .listed
        .iter()
        .map(|l| {
            let (en, zh) = l.stage.labels();
            json!({"line": l.line, "stage": l.stage, "stage_zh": zh, "stage_en": en,
                   "order_id": l.order.map(|o| o.out_trade_no.to_string())})
        })
        .collect();
    json!({"campaign_id": campaign_id, "roster": roster, "stages": stages, "groups": groups,
           "students": students, "matching": p.matching, "truncated": p.matching > p.listed.len()})
}

/// A search text that may be a whole 学号 (three characters at least: shorter texts are parts
/// of names or numbers).
fn looks_like_student_no(q: &str) -> bool {
    q.len() >= 3 && yunzhao_domain::roster::is_student_no(q)
}

/// What a roster upload is labelled as (CSV and XLSX alike).
const ROSTER_CONTENT_TYPE: &str = "application/octet-stream";

async fn roster_import(deps: &Deps, p: &Principal, req: &Request) -> Result<Response<Body>, ApiError> {
    let (c, _) = own_campaign(deps, p, &path_param(req, "campaign_id")?).await?;
    let import_id = import_id_param(req)?;
    let key = roster_key(&c.id, &import_id);
    let fetched = deps.blobs.get(&deps.uploads_bucket, &key, None, roster_file::MAX_BYTES as u64).await;
    let bytes = match fetched.map_err(ApiError::store)? {
        Fetched::Found(file) => file.bytes,
        Fetched::Missing => return Err(ApiError::from(Code::RosterFileMissing)),
        Fetched::TooLarge(_) => return Err(file_error(FileError::TooLarge)),
    };
    let rows = roster_file::read_rows(&bytes).map_err(file_error)?;
    let now = OffsetDateTime::now_utc();
    let (good, bad) = validate_sheet(&rows, c.identity_mode, now.to_offset(SHANGHAI).date());
    let imported = deps.roster.import(&c, &import_id, good).await;
    // `enrolled` is the campaign's entries counted after the writes, also those of an import
    // that failed half-way (what it did create is counted now, or by the next import).
    deps.roster.recount_enrolled(&c.id).await.map_err(ApiError::store)?;
    let mut report = imported.map_err(ApiError::store)?;
    report.rows += bad.len();
    report.errors.extend(bad.into_iter().map(Into::into));
    report.errors.sort_by_key(|e| e.line);
    deps.roster.save_report(&c.id, &import_id, &report, now).await.map_err(ApiError::store)?;
    tracing::info!(
        campaign_id = %c.id, import_id, rows = report.rows, created = report.created, updated = report.updated,
        unchanged = report.unchanged, errors = report.errors.len(), "roster imported"
    );
    Ok(json_response(StatusCode::OK, &json!({"import_id": import_id, "report": report})))
}

fn file_error(e: FileError) -> ApiError {
    let code = if e == FileError::TooLarge { Code::RosterTooLarge } else { Code::UnreadableRoster };
    ApiError::coded(code, e.to_string(), code.messages().1)
}

async fn roster_report(deps: &Deps, p: &Principal, req: &Request) -> Result<Response<Body>, ApiError> {
    let (c, _) = own_campaign(deps, p, &path_param(req, "campaign_id")?).await?;
    let import_id = import_id_param(req)?;
    let report =
        deps.roster.report(&c.id, &import_id).await.map_err(ApiError::store)?.ok_or_else(ApiError::not_found)?;
    Ok(json_response(StatusCode::OK, &json!({"import_id": import_id, "report": report})))
}

#[derive(Deserialize, Default)]
struct ExportRequest {
    /// Only photos approved since the last finished export.
    #[serde(default)]
    incremental: bool,
}

async fn request_export(deps: &Deps, p: &Principal, req: &Request) -> Result<Response<Body>, ApiError> {
    let (campaign, _) = own_campaign(deps, p, &path_param(req, "campaign_id")?).await?;
    let body: ExportRequest = if req.body().is_empty() { ExportRequest::default() } else { parse_json(req)? };
    let store = &deps.exports.store;
    let now_ms = yunzhao_adapters::now_ms();
    let done = store.list(&campaign.id).await.map_err(ApiError::store)?;
    let in_progress = || ApiError::from(Code::ExportInProgress);
    // One at a time: a second request while one is building would only build the same file
    // (answered early here; the conditional write below is what holds it).
    if done.iter().any(|e| e.status == ExportStatus::Building && now_ms - e.requested_at < EXPORT_BUILDING_MS) {
        return Err(in_progress());
    }
    let now = OffsetDateTime::now_utc();
    let scope = format!("export#{}", campaign.id);
    if !deps.exports.counters.take(&scope, EXPORTS_PER_DAY, now).await.map_err(ApiError::store)? {
        return Err(ApiError::from(Code::TooManyExports).retry_after(EXPORTS_PER_DAY.retry_after(now)));
    }
    let since = if body.incremental {
        done.iter().filter(|e| e.status == ExportStatus::Ready).map(|e| e.approved_until).max().unwrap_or(0)
    } else {
        0
    };
    let export_id = format!("e{now_ms:013}{}", &uuid::Uuid::new_v4().simple().to_string()[..6]);
    let export = Export::requested(&campaign.id, &export_id, p.user_id.as_str(), now_ms, since);
    if !store.request_alone(&export, EXPORT_BUILDING_MS).await.map_err(ApiError::store)? {
        // Another request took the campaign's export a moment ago: this one did not count.
        deps.exports.counters.give_back(&scope, EXPORTS_PER_DAY, now).await.map_err(ApiError::store)?;
        return Err(in_progress());
    }
    let job = json!({"campaign_id": campaign.id, "export_id": export.export_id});
    deps.exports.queue.send(&job).await.map_err(ApiError::store)?;
    tracing::info!(campaign_id = campaign.id, export_id = export.export_id, incremental = body.incremental, by = %p.user_id, "export requested");
    Ok(json_response(StatusCode::ACCEPTED, &json!({"export": export})))
}

async fn list_exports(deps: &Deps, p: &Principal, req: &Request) -> Result<Response<Body>, ApiError> {
    let (campaign, _) = own_campaign(deps, p, &path_param(req, "campaign_id")?).await?;
    let exports = deps.exports.store.list(&campaign.id).await.map_err(ApiError::store)?;
    Ok(json_response(StatusCode::OK, &json!({"exports": exports})))
}

/// An export's state and, once ready, a short-lived download link.
async fn show_export(deps: &Deps, p: &Principal, req: &Request) -> Result<Response<Body>, ApiError> {
    let (campaign, _) = own_campaign(deps, p, &path_param(req, "campaign_id")?).await?;
    let export_id = path_param(req, "export_id")?;
    let Some(export) = deps.exports.store.get(&campaign.id, &export_id).await.map_err(ApiError::store)? else {
        return Err(ApiError::from(Code::ExportNotFound));
    };
    let mut view = json!({"export": export});
    if let Some(key) = &export.object_key {
        let link = deps.blobs.link(&deps.exports.bucket, key, None, EXPORT_LINK_TTL).await.map_err(ApiError::store)?;
        let at = yunzhao_adapters::now_ms();
        deps.exports
            .store
            .record_link(&campaign.id, &export_id, p.user_id.as_str(), at)
            .await
            .map_err(ApiError::store)?;
        view["download_url"] = json!(link);
        view["expires_in"] = json!(EXPORT_LINK_TTL.as_secs());
        tracing::info!(campaign_id = campaign.id, export_id, by = %p.user_id, "export download link issued");
    }
    Ok(json_response(StatusCode::OK, &view))
}
