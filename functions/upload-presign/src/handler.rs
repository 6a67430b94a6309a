//! `POST /v1/orders/{order_id}/uploads`: the order's student opens a new upload attempt (a
//! retake is just another attempt, free) and gets a presigned S3 POST for exactly that key.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use time::{Duration, OffsetDateTime};
use yunzhao_adapters::dynamo::roster::DynamoBindings;
use yunzhao_adapters::dynamo::{DynamoCampaigns, DynamoOrders};
use yunzhao_adapters::s3_post::Presigner;
use yunzhao_domain::campaign::CampaignStatus;
use yunzhao_domain::identity::BindingStatus;
use yunzhao_domain::order::OutTradeNo;
use yunzhao_http::{
    ApiError, Code, SessionKeys, json_response, path_param, request_id, respond, route_key, unknown_route,
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
        let not_found = || ApiError::from(Code::OrderNotFound);
        let no = OutTradeNo::parse(&path_param(&req, "order_id")?).map_err(|_| not_found())?;
        let down = |e: &dyn std::fmt::Display| ApiError::unavailable().with_detail(e.to_string());
        let order = match deps.orders.get(&no).await.map_err(|e| down(&e))? {
            Some(o) if o.user_id == p.user_id => o,
            _ => return Err(not_found()),
        };
        let (campaign, _) = deps.campaigns.get(&order.campaign_id).await.map_err(|e| down(&e))?.ok_or_else(not_found)?;
        if campaign.status(OffsetDateTime::now_utc()) == CampaignStatus::Closed {
            return Err(ApiError::from(Code::CampaignClosed));
        }
        // A student customer service unbound has no place on the roster: their photo could
        // never be exported.
        match deps.bindings.binding_status(&order.campaign_id, &order.user_id)
            .await
            .map_err(|e| down(&e))?
        {
            Some(BindingStatus::Complete) => {}
            Some(BindingStatus::CardPhotosNeeded) => return Err(ApiError::card_photos_required()),
            None => {
                return Err(ApiError::from(Code::NotBound));
            }
        }
        let key_for = |attempt: u32| yunzhao_domain::objects::upload(&order.campaign_id, &order.out_trade_no, attempt);
        let Some((attempt, key)) = deps.orders.start_attempt(&no, key_for).await.map_err(|e| down(&e))? else {
            return Err(ApiError::from(Code::UploadNotAllowed));
        };
        let post = deps.uploads.post(&key, MIN_BYTES, MAX_BYTES, LINK_TTL).await.map_err(|e| down(&e))?;
        tracing::info!(out_trade_no = %no, attempt, "upload attempt opened");
        Ok(json_response(
            StatusCode::CREATED,
            &json!({
                "attempt": attempt,
                "upload": {"method": "POST", "url": post.url, "fields": post.fields, "file_field": "file",
                           "expires_at": post.expires_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
                           "min_bytes": MIN_BYTES, "max_bytes": MAX_BYTES},
            }),
        ))
    }
    .await;
    respond(&request_id, result)
}
