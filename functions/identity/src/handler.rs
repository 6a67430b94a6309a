//! `POST /v1/identity/verify` binds the caller to their roster entry in a campaign;
//! `POST /v1/identity/card-photos` gives the student the roster matched, in a campaign that
//! asks for ID-card photos, upload links while that binding waits for them (a verification
//! once both are uploaded completes it); `GET /v1/campaigns` lists the campaigns they are verified for and the open campaigns of
//! their schools. Nothing here reveals which field of a wrong answer was wrong.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use yunzhao_adapters::blobs::{Blobs, Fetched};
use yunzhao_adapters::dynamo::campaigns::Progress;
use yunzhao_adapters::dynamo::{DynamoCampaigns, DynamoConsents};
use yunzhao_domain::campaign::{Campaign, CampaignStatus, IdentityMode, SHANGHAI};
use yunzhao_domain::identity::{
    self, AttemptCounter, BindingStatus, CardLink, CardPhoto, CardPhotoStore, CardSide, Claim, ConsentError,
    RosterLookup, VerifyInput, VerifyOutcome,
};
use yunzhao_http::{
    ApiError, Code, Principal, SessionKeys, json_response, parse_json, path_param, request_id, respond, route_key,
    source_ip, unknown_route,
};

pub struct Deps<R, F> {
    pub campaigns: DynamoCampaigns,
    pub roster: R,
    pub counters: F,
    pub cards: CardPhotos,
    /// The privacy agreements students accepted (`USER#<u>`/`CONSENT#…`).
    pub consents: DynamoConsents,
    pub keys: SessionKeys,
}

/// ID-card photos, uploaded privately beside the roster files (`identity/<campaign>/<user>/<side>`,
/// in the versioned uploads bucket).
pub struct CardPhotos {
    pub blobs: Blobs,
    pub uploads: yunzhao_adapters::s3_post::Presigner,
    pub bucket: String,
}

impl CardPhotos {
    fn key(campaign_id: &str, user: &yunzhao_domain::UserId, side: CardSide) -> String {
        yunzhao_domain::objects::card_photo(campaign_id, user, side.as_str())
    }
}

impl CardPhotoStore for CardPhotos {
    /// The first bytes say what the file is (any bytes satisfy the form's size limits); the
    /// version read is the one recorded if it completes the binding.
    async fn inspect(
        &self,
        campaign_id: &str,
        user: &yunzhao_domain::UserId,
        side: CardSide,
    ) -> Result<CardPhoto, identity::StoreError> {
        let key = Self::key(campaign_id, user, side);
        let first = self.blobs.first_bytes(&self.bucket, &key, 64).await;
        let photo = match first.map_err(|e| identity::StoreError::Unavailable(e.to_string()))? {
            Fetched::Found(photo) => photo,
            Fetched::Missing | Fetched::TooLarge(_) => return Ok(CardPhoto::Missing),
        };
        let (version, bytes) = (photo.version, photo.bytes);
        if image::guess_format(&bytes).is_err() {
            return Ok(CardPhoto::NotAnImage);
        }
        // Unversioned buckets answer "null": the uploads bucket is versioned.
        let version =
            version.ok_or_else(|| identity::StoreError::Unavailable("uploads bucket is not versioned".into()))?;
        Ok(CardPhoto::Image { version })
    }
}

fn not_an_image(side: CardSide) -> ApiError {
    let (en, zh) = match side {
        CardSide::Front => (
            "The photo of your ID card's front is not an image: take it again.",
            "身份证正面照片不是有效的图片，请重新拍摄上传。",
        ),
        CardSide::Back => (
            "The photo of your ID card's back is not an image: take it again.",
            "身份证反面照片不是有效的图片，请重新拍摄上传。",
        ),
    };
    ApiError::coded(Code::IdCardPhotoNotAnImage, en, zh)
}

/// What the enrolment listing needs from the roster store beyond verification.
pub trait Enrollments {
    fn enrollments(
        &self,
        user: &yunzhao_domain::UserId,
    ) -> impl std::future::Future<Output = Result<Vec<(String, Value, BindingStatus)>, identity::StoreError>> + Send;
}

impl Enrollments for yunzhao_adapters::dynamo::DynamoRoster {
    async fn enrollments(
        &self,
        user: &yunzhao_domain::UserId,
    ) -> Result<Vec<(String, Value, BindingStatus)>, identity::StoreError> {
        yunzhao_adapters::dynamo::DynamoRoster::enrollments(self, user).await
    }
}

#[derive(Deserialize)]
struct VerifyRequest {
    campaign_id: String,
    #[serde(flatten)]
    input: VerifyInput,
}

pub async fn handle<R: RosterLookup + Enrollments, F: AttemptCounter>(
    deps: &Deps<R, F>,
    req: Request,
) -> Response<Body> {
    let request_id = request_id(&req);
    let result = async {
        // Public: what a student finds by the code the school printed, before logging in.
        if route_key(&req) == "GET /v1/campaigns/code/{code}" {
            return by_code(deps, &path_param(&req, "code")?).await;
        }
        let principal = deps.keys.authenticate(&req)?;
        match route_key(&req).as_str() {
            "POST /v1/identity/verify" => verify(deps, &principal, &req).await,
            "POST /v1/identity/card-photos" => card_photo_upload(deps, &principal, &req).await,
            "POST /v1/identity/consent" => consent(deps, &principal, &req).await,
            "GET /v1/campaigns" => list(deps, &principal).await,
            _ => Err(unknown_route()),
        }
    }
    .await;
    respond(&request_id, result)
}

async fn verify<R: RosterLookup, F: AttemptCounter>(
    deps: &Deps<R, F>,
    principal: &Principal,
    req: &Request,
) -> Result<Response<Body>, ApiError> {
    let body: VerifyRequest = parse_json(req)?;
    let now = OffsetDateTime::now_utc();
    let campaign = campaign(deps, &body.campaign_id).await?;
    if campaign.status(now) == CampaignStatus::Closed {
        return Err(ApiError::from(Code::CampaignClosed));
    }
    let claim = Claim::parse(campaign.identity_mode, &body.input, now.to_offset(SHANGHAI).date())
        .map_err(|e| ApiError::invalid_request(e.to_string(), claim_error_zh(&e)))?;
    let source = source_ip(req);
    let asker = identity::Asker { user: &principal.user_id, source: source.as_deref() };
    let ports =
        identity::Ports { roster: &deps.roster, counter: &deps.counters, cards: &deps.cards, consents: &deps.consents };
    let outcome = identity::verify(ports, &campaign, &claim, asker, now).await.map_err(ApiError::store)?;
    tracing::info!(campaign_id = %campaign.id, user_id = %principal.user_id, outcome = outcome.name(), "identity verification");
    match outcome {
        VerifyOutcome::Verified { entry, status, .. } => Ok(json_response(
            StatusCode::OK,
            &json!({"verified": true, "campaign_id": campaign.id, "binding_status": status, "entry": entry.view}),
        )),
        VerifyOutcome::CardPhotoNotAnImage(side) => Err(not_an_image(side)),
        VerifyOutcome::NoMatch => Err(ApiError::from(Code::NoMatch)),
        VerifyOutcome::Conflict => Err(ApiError::from(Code::AlreadyBound)),
        VerifyOutcome::YouHoldAnother => Err(ApiError::from(Code::AlreadyVerifiedAsAnother)),
        VerifyOutcome::Limited(seconds) => Err(ApiError::from(Code::TooManyAttempts).retry_after(seconds)),
        VerifyOutcome::CollectedOffline => Err(ApiError::from(Code::CollectedOffline)),
        VerifyOutcome::ConsentRequired => Err(ApiError::from(Code::ConsentRequired)),
    }
}

#[derive(Deserialize)]
struct CardPhotoRequest {
    campaign_id: String,
    side: String,
}

/// A presigned POST for one side of the caller's ID card in a campaign.
async fn card_photo_upload<R: RosterLookup, F>(
    deps: &Deps<R, F>,
    principal: &Principal,
    req: &Request,
) -> Result<Response<Body>, ApiError> {
    let body: CardPhotoRequest = parse_json(req)?;
    let side = CardSide::parse(&body.side)
        .ok_or_else(|| ApiError::invalid_request("side is front or back.", "side 只能是 front 或 back。"))?;
    let campaign = campaign(deps, &body.campaign_id).await?;
    // Only where the campaign asks for them, while it is open, for the student the roster
    // matched, until the photos completed the binding.
    let link = identity::card_photo_link(&deps.roster, &campaign, &principal.user_id).await.map_err(ApiError::store)?;
    if link == CardLink::NotNeeded {
        return Err(ApiError::from(Code::CardPhotosNotNeeded));
    }
    ApiError::unless_open(campaign.status(OffsetDateTime::now_utc()))?;
    match link {
        CardLink::Allowed | CardLink::NotNeeded => {}
        CardLink::VerifyFirst => {
            return Err(ApiError::from(Code::VerifyIdentityFirst));
        }
        CardLink::AlreadyComplete => {
            return Err(ApiError::from(Code::CardPhotosComplete));
        }
    }
    let key = CardPhotos::key(&campaign.id, &principal.user_id, side);
    let post = deps
        .cards
        .uploads
        .post(&key, 10 * 1024, 10 * 1024 * 1024, time::Duration::minutes(10))
        .await
        .map_err(ApiError::store)?;
    Ok(json_response(
        StatusCode::CREATED,
        &json!({"side": side, "upload": {"method": "POST", "url": post.url, "fields": post.fields, "file_field": "file"}}),
    ))
}

async fn campaign<R, F>(deps: &Deps<R, F>, id: &str) -> Result<Campaign, ApiError> {
    let found = deps.campaigns.get(id).await.map_err(ApiError::store)?;
    found.map(|(c, _)| c).ok_or_else(ApiError::campaign_not_found)
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
        "allow_withdraw": c.allow_withdraw,
        "free_checks": c.free_checks,
        "privacy_agreement": c.privacy_agreement,
    })
}

/// The campaign a public code names, as a student who has not verified yet sees it: what it
/// is, what it costs, when, and what they will need. No roster is read.
async fn by_code<R, F>(deps: &Deps<R, F>, code: &str) -> Result<Response<Body>, ApiError> {
    let found = deps.campaigns.by_code(&code.trim().to_lowercase()).await.map_err(ApiError::store)?;
    let (c, _) = found.ok_or_else(ApiError::campaign_not_found)?;
    let school = deps.campaigns.school(&c.school_id).await.map_err(ApiError::store)?;
    let mut view = summary(&c, OffsetDateTime::now_utc());
    view["school_name"] = json!(school.map(|s| s.name));
    view["code"] = json!(c.code);
    let mut needs: Vec<&str> = match c.identity_mode {
        IdentityMode::NameIdNumber => vec!["name", "id_number"],
        IdentityMode::ExamNumber => vec!["exam_number"],
        IdentityMode::CollectionCode => vec!["collection_code"],
    };
    if c.require_id_card_photos {
        needs.push("id_card_photos");
    }
    view["needs"] = json!(needs);
    Ok(json_response(StatusCode::OK, &json!({ "campaign": view })))
}

#[derive(Deserialize)]
struct ConsentRequest {
    campaign_id: String,
    version: String,
}

/// The student accepts the version of the campaign's privacy agreement they read (勾选《用户
/// 隐私协议》), before verifying.
async fn consent<R, F>(deps: &Deps<R, F>, principal: &Principal, req: &Request) -> Result<Response<Body>, ApiError> {
    let body: ConsentRequest = parse_json(req)?;
    let campaign = campaign(deps, &body.campaign_id).await?;
    let now = OffsetDateTime::now_utc();
    let accepted = identity::accept_agreement(&deps.consents, &campaign, &principal.user_id, &body.version, now).await;
    let consent = accepted.map_err(|e| match e {
        ConsentError::NoAgreement => ApiError::from(Code::NoAgreement),
        ConsentError::Outdated { current } => ApiError::from(Code::AgreementChanged).with_detail(current),
        ConsentError::Store(e) => e.into(),
    })?;
    Ok(json_response(StatusCode::OK, &json!({ "consent": consent })))
}

/// Campaigns the student is verified for, and the not-yet-closed campaigns of the same
/// schools they could verify for. Other schools' campaigns are never listed.
async fn list<R: Enrollments, F>(deps: &Deps<R, F>, principal: &Principal) -> Result<Response<Body>, ApiError> {
    let now = OffsetDateTime::now_utc();
    let enrolled = deps.roster.enrollments(&principal.user_id).await.map_err(ApiError::store)?;
    let mut items = Vec::new();
    let mut schools = std::collections::BTreeSet::new();
    let mut seen = std::collections::HashSet::new();
    for (cid, entry, status) in enrolled {
        if let Some((c, _)) = deps.campaigns.get(&cid).await.map_err(ApiError::store)? {
            let mut v = summary(&c, now);
            v["verified"] = json!(true);
            v["binding_status"] = json!(status);
            v["entry"] = entry;
            schools.insert(c.school_id.clone());
            seen.insert(c.id.clone());
            items.push(v);
        }
    }
    for school in schools {
        let campaigns: Vec<(Campaign, Progress)> =
            deps.campaigns.list_by_school(&school).await.map_err(ApiError::store)?;
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
