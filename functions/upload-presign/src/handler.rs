//! `POST /v1/orders/{order_id}/uploads`: the order's student opens a new upload attempt (a
//! retake is just another attempt, free) and gets a presigned S3 POST for exactly that key.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use time::{Duration, OffsetDateTime};
use yunzhao_adapters::dynamo::{DynamoCampaigns, DynamoOrders, roster};
use yunzhao_adapters::s3_post::Presigner;
use yunzhao_domain::campaign::CampaignStatus;
use yunzhao_domain::identity::BindingStatus;
use yunzhao_domain::order::OutTradeNo;
use yunzhao_http::{ApiError, SessionKeys, json_response, path_param, request_id, respond, route_key, unknown_route};

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
    pub ddb: aws_sdk_dynamodb::Client,
    pub table: String,
}

pub async fn handle(deps: &Deps, req: Request) -> Response<Body> {
    let request_id = request_id(&req);
    let result = async {
        let p = deps.keys.authenticate(&req)?;
        if route_key(&req) != "POST /v1/orders/{order_id}/uploads" {
            return Err(unknown_route());
        }
        let not_found = || ApiError::new(StatusCode::NOT_FOUND, "order_not_found", "There is no such order.", "没有找到该订单。");
        let no = OutTradeNo::parse(&path_param(&req, "order_id")?).map_err(|_| not_found())?;
        let down = |e: &dyn std::fmt::Display| ApiError::unavailable().with_detail(e.to_string());
        let order = match deps.orders.get(&no).await.map_err(|e| down(&e))? {
            Some(o) if o.user_id == p.user_id => o,
            _ => return Err(not_found()),
        };
        let (campaign, _) = deps.campaigns.get(&order.campaign_id).await.map_err(|e| down(&e))?.ok_or_else(not_found)?;
        if campaign.status(OffsetDateTime::now_utc()) == CampaignStatus::Closed {
            return Err(ApiError::conflict("campaign_closed", "This collection campaign has closed.", "该采集活动已结束。"));
        }
        // A student customer service unbound has no place on the roster: their photo could
        // never be exported.
        match roster::binding_status(&deps.ddb, &deps.table, &order.campaign_id, &order.user_id)
            .await
            .map_err(|e| down(&e))?
        {
            Some(BindingStatus::Complete) => {}
            Some(BindingStatus::CardPhotosNeeded) => return Err(ApiError::card_photos_required()),
            None => {
                return Err(ApiError::conflict(
                    "not_bound",
                    "You are no longer verified for this campaign; verify your identity again or contact customer service.",
                    "您在本活动中的身份已解除绑定，请重新验证身份或联系客服。",
                ));
            }
        }
        let key_for = |attempt: u32| format!("photos/{}/{}/a{attempt:04}", order.campaign_id, order.out_trade_no);
        let Some((attempt, key)) = deps.orders.start_attempt(&no, key_for).await.map_err(|e| down(&e))? else {
            return Err(ApiError::conflict(
                "upload_not_allowed",
                "This order cannot take a photo now (unpaid, in review, approved, cancelled or refunded).",
                "当前订单状态不能上传照片（未支付、审核中、已通过、已取消或已退款）。",
            ));
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
