//! `POST /v1/orders/{order_id}/uploads`: the order's student opens a new upload attempt (a
//! retake is just another attempt, free) and gets a presigned S3 POST for exactly that key.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};
use yunzhao_adapters::dynamo::roster::DynamoBindings;
use yunzhao_adapters::dynamo::{DynamoCampaigns, DynamoOrders};
use yunzhao_adapters::s3_post::Presigner;
use yunzhao_domain::upload::{self, StartError, Started};
use yunzhao_http::{
    ApiError, Code, SessionKeys, json_response, order_param, request_id, respond, route_key, unknown_route,
};

/// Phone photos: more than 10 KB (anything smaller cannot be a usable photo), at most 15 MB.
pub const MIN_BYTES: u64 = 10 * 1024;
pub const MAX_BYTES: u64 = 15 * 1024 * 1024;
/// The form is good for this long; the student is holding the phone.
const LINK_TTL: Duration = Duration::minutes(10);

pub struct Deps {
    pub orders: DynamoOrders,
    pub campaigns: DynamoCampaigns,
    pub uploads: Presigner,
    pub keys: SessionKeys,
    /// The binding check (`USER#<u>`/`ENROLL#<c>`: bound, and complete).
    pub bindings: DynamoBindings,
}

pub async fn handle(deps: &Deps, req: Request) -> Response<Body> {
    let request_id = request_id(&req);
    let result = async {
        let p = deps.keys.authenticate(&req)?;
        if route_key(&req) != "POST /v1/orders/{order_id}/uploads" {
            return Err(unknown_route());
        }
        let no = order_param(&req)?;
        let now = OffsetDateTime::now_utc();
        let started = upload::start_attempt(&deps.orders, &deps.campaigns, &deps.bindings, &p.user_id, &no, now);
        let Started { attempt, key } = started.await.map_err(not_started)?;
        let post = deps.uploads.post(&key, MIN_BYTES, MAX_BYTES, LINK_TTL).await.map_err(ApiError::store)?;
        Ok(json_response(
            StatusCode::CREATED,
            &json!({
                "attempt": attempt,
                "upload": {"method": "POST", "url": post.url, "fields": post.fields, "file_field": "file",
                           "expires_at": post.expires_at.format(&Rfc3339).unwrap_or_default(),
                           "min_bytes": MIN_BYTES, "max_bytes": MAX_BYTES},
            }),
        ))
    }
    .await;
    respond(&request_id, result)
}

/// Why no attempt could be opened, as the student reads it.
fn not_started(e: StartError) -> ApiError {
    match e {
        StartError::NoOrder => ApiError::from(Code::OrderNotFound),
        StartError::CampaignClosed => ApiError::from(Code::CampaignClosed),
        StartError::NotBound => ApiError::from(Code::NotBound),
        StartError::CardPhotosNeeded => ApiError::card_photos_required(),
        StartError::NotAllowed => ApiError::from(Code::UploadNotAllowed),
        StartError::NoChecksLeft => ApiError::from(Code::NoChecksLeft),
        StartError::Store(e) => e.into(),
    }
}
