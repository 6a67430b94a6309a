//! `POST /v1/identity/verify` binds the caller to their roster entry in a campaign;
//! `GET /v1/campaigns` lists the campaigns they are verified for and the open campaigns of
//! their schools. Nothing here reveals which field of a wrong answer was wrong.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use yunzhao_adapters::dynamo::DynamoCampaigns;
use yunzhao_adapters::dynamo::campaigns::Progress;
use yunzhao_domain::campaign::{Campaign, CampaignStatus, SHANGHAI};
use yunzhao_domain::identity::{self, Claim, FailureCounter, RosterLookup, VerifyInput, VerifyOutcome};
use yunzhao_http::{
    ApiError, Principal, SessionKeys, json_response, parse_json, request_id, respond, route_key, unknown_route,
};

pub struct Deps<R, F> {
    pub campaigns: DynamoCampaigns,
    pub roster: R,
    pub counters: F,
    pub keys: SessionKeys,
}

/// What the enrolment listing needs from the roster store beyond verification.
pub trait Enrollments {
    fn enrollments(
        &self,
        user: &yunzhao_domain::UserId,
    ) -> impl std::future::Future<Output = Result<Vec<(String, Value)>, identity::StoreError>> + Send;
}

impl Enrollments for yunzhao_adapters::dynamo::DynamoRoster {
    async fn enrollments(&self, user: &yunzhao_domain::UserId) -> Result<Vec<(String, Value)>, identity::StoreError> {
        yunzhao_adapters::dynamo::DynamoRoster::enrollments(self, user).await
    }
}

#[derive(Deserialize)]
struct VerifyRequest {
    campaign_id: String,
    #[serde(flatten)]
    input: VerifyInput,
}

pub async fn handle<R: RosterLookup + Enrollments, F: FailureCounter>(
    deps: &Deps<R, F>,
    req: Request,
) -> Response<Body> {
    let request_id = request_id(&req);
    let result = async {
        let principal = deps.keys.authenticate(&req)?;
        match route_key(&req).as_str() {
            "POST /v1/identity/verify" => verify(deps, &principal, &req).await,
            "GET /v1/campaigns" => list(deps, &principal).await,
            _ => Err(unknown_route()),
        }
    }
    .await;
    respond(&request_id, result)
}

fn store_down(e: impl std::fmt::Display) -> ApiError {
    ApiError::unavailable().with_detail(e.to_string())
}

fn campaign_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "campaign_not_found",
        "There is no such collection campaign.",
        "没有找到该采集活动。",
    )
}

async fn verify<R: RosterLookup, F: FailureCounter>(
    deps: &Deps<R, F>,
    principal: &Principal,
    req: &Request,
) -> Result<Response<Body>, ApiError> {
    let body: VerifyRequest = parse_json(req)?;
    let now = OffsetDateTime::now_utc();
    let (campaign, _) =
        deps.campaigns.get(&body.campaign_id).await.map_err(store_down)?.ok_or_else(campaign_not_found)?;
    if campaign.status(now) == CampaignStatus::Closed {
        return Err(ApiError::conflict(
            "campaign_closed",
            "This collection campaign has closed.",
            "该采集活动已结束。",
        ));
    }
    let claim = Claim::parse(campaign.identity_mode, &body.input, now.to_offset(SHANGHAI).date())
        .map_err(|e| ApiError::invalid_request(e.to_string(), claim_error_zh(&e)))?;
    let outcome = identity::verify(&deps.roster, &deps.counters, &campaign, &claim, &principal.user_id, now)
        .await
        .map_err(store_down)?;
    let outcome_name = match &outcome {
        VerifyOutcome::Verified { newly: true, .. } => "verified",
        VerifyOutcome::Verified { newly: false, .. } => "already_verified",
        VerifyOutcome::NoMatch => "no_match",
        VerifyOutcome::Conflict => "bound_to_another",
        VerifyOutcome::YouHoldAnother => "holds_another",
        VerifyOutcome::Limited(_) => "rate_limited",
    };
    tracing::info!(campaign_id = %campaign.id, user_id = %principal.user_id, outcome = outcome_name, "identity verification");
    match outcome {
        VerifyOutcome::Verified { entry, .. } => Ok(json_response(
            StatusCode::OK,
            &json!({"verified": true, "campaign_id": campaign.id, "entry": entry.view}),
        )),
        VerifyOutcome::NoMatch => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no_match",
            "We could not find you on the school's list. Please check what you entered and try again.",
            "未能在学校名单中找到匹配的信息，请核对填写内容后重试。",
        )),
        VerifyOutcome::Conflict => Err(ApiError::conflict(
            "already_bound",
            "These details are already linked to another WeChat account. Please contact customer service.",
            "该信息已被其他微信账号绑定，请联系客服处理。",
        )),
        VerifyOutcome::YouHoldAnother => Err(ApiError::conflict(
            "already_verified_as_another",
            "Your account is already verified as another student in this campaign. Please contact customer service.",
            "您的账号已在本活动中绑定了其他学生信息，请联系客服处理。",
        )),
        VerifyOutcome::Limited(seconds) => Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            "Too many unsuccessful attempts. Please wait and try again later.",
            "尝试次数过多，请稍后再试。",
        )
        .retry_after(seconds)),
    }
}

fn claim_error_zh(e: &identity::ClaimError) -> &'static str {
    use identity::ClaimError::*;
    match e {
        NeedNameAndId => "本活动需要填写姓名和身份证号。",
        InvalidIdNumber => "身份证号格式不正确，请核对。",
        NeedExamNumber => "本活动需要填写考生号。",
        NeedCollectionCode => "本活动需要填写图像采集码。",
    }
}

fn summary(c: &Campaign, now: OffsetDateTime) -> Value {
    json!({
        "id": c.id,
        "school_id": c.school_id,
        "name": c.name,
        "kind": c.kind,
        "price_fen": c.price_fen,
        "opens_at": c.window.opens_at.to_offset(SHANGHAI).format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        "closes_at": c.window.closes_at.to_offset(SHANGHAI).format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        "status": c.status(now),
        "identity_mode": c.identity_mode,
        "require_id_card_photos": c.require_id_card_photos,
    })
}

/// Campaigns the student is verified for, and the not-yet-closed campaigns of the same
/// schools they could verify for. Other schools' campaigns are never listed.
async fn list<R: Enrollments, F>(deps: &Deps<R, F>, principal: &Principal) -> Result<Response<Body>, ApiError> {
    let now = OffsetDateTime::now_utc();
    let enrolled = deps.roster.enrollments(&principal.user_id).await.map_err(store_down)?;
    let mut items = Vec::new();
    let mut schools = std::collections::BTreeSet::new();
    let mut seen = std::collections::HashSet::new();
    for (cid, entry) in enrolled {
        if let Some((c, _)) = deps.campaigns.get(&cid).await.map_err(store_down)? {
            let mut v = summary(&c, now);
            v["verified"] = json!(true);
            v["entry"] = entry;
            schools.insert(c.school_id.clone());
            seen.insert(c.id.clone());
            items.push(v);
        }
    }
    for school in schools {
        let campaigns: Vec<(Campaign, Progress)> = deps.campaigns.list_by_school(&school).await.map_err(store_down)?;
        for (c, _) in campaigns {
            if !seen.contains(&c.id) && c.status(now) != CampaignStatus::Closed {
                let mut v = summary(&c, now);
                v["verified"] = json!(false);
                items.push(v);
            }
        }
    }
    Ok(json_response(StatusCode::OK, &json!({ "campaigns": items })))
}
