//! One SQS batch of S3 upload events. Per object (`bucket/key@etag`, idempotent): the order
//! starts standardizing, the pipeline runs off the async runtime, the results go to the
//! results bucket, and the order moves to review (with a task in the review queue) or back to
//! the student with the reasons. Transient failures are reported per message; a message
//! that can never succeed is consumed.

use std::sync::Arc;

use aws_lambda_events::event::s3::S3Event;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_s3::primitives::ByteStream;
use lambda_runtime::LambdaEvent;
use yunzhao_adapters::dynamo::idempotency::{Claim, Idempotency};
use yunzhao_adapters::dynamo::orders::Applied;
use yunzhao_adapters::dynamo::review::ReviewTask;
use yunzhao_adapters::dynamo::{DynamoCampaigns, DynamoOrders, ReviewQueue};
use yunzhao_domain::order::{OutTradeNo, Transition};

/// Uploads over this are not read (S3's policy already refuses > 15 MB).
const MAX_OBJECT_BYTES: i64 = 20 * 1024 * 1024;
/// A message is only started with this much of the invocation left: one photo takes about a
/// second, its S3 and DynamoDB writes a few more in a slow moment. The rest of the batch goes
/// back to the queue untouched rather than being cut off half-way by the timeout.
const TIME_RESERVE: std::time::Duration = std::time::Duration::from_secs(8);

pub struct Deps {
    pub orders: DynamoOrders,
    pub campaigns: DynamoCampaigns,
    pub idempotency: Idempotency,
    pub s3: aws_sdk_s3::Client,
    pub review: ReviewQueue,
    pub results_bucket: String,
    pub models: Arc<yunzhao_imaging::Models>,
}

pub async fn handle(deps: &Deps, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    let mut response = SqsBatchResponse::default();
    // The function's timeout (30 s) is far above the reserve, so an invocation that starts
    // below it has no real deadline (local runtimes send none, or the invoke time): no guard.
    let deadline = std::time::UNIX_EPOCH + std::time::Duration::from_millis(event.context.deadline);
    let deadline = deadline
        .duration_since(std::time::SystemTime::now())
        .is_ok_and(|left| left >= TIME_RESERVE)
        .then_some(deadline);
    for message in event.payload.records {
        let id = message.message_id.clone().unwrap_or_default();
        let body = message.body.unwrap_or_default();
        let left = deadline.map(|d| d.duration_since(std::time::SystemTime::now()).unwrap_or_default());
        if let Some(left) = left.filter(|l| *l < TIME_RESERVE) {
            tracing::warn!(
                message_id = id,
                left_ms = left.as_millis() as u64,
                outcome = "retry",
                "too little time left"
            );
            response.batch_item_failures.push(retry(id));
            continue;
        }
        if let Err(e) = process_message(deps, &body).await {
            tracing::warn!(message_id = id, error = %e, outcome = "retry", "upload not standardized yet");
            response.batch_item_failures.push(retry(id));
        }
    }
    Ok(response)
}

/// The message goes back to the queue, to be delivered again after its visibility timeout.
fn retry(id: String) -> BatchItemFailure {
    let mut failure = BatchItemFailure::default();
    failure.item_identifier = id;
    failure
}

/// `photos/<campaign>/<out_trade_no>/a<attempt>` → (order, attempt).
fn parse_key(key: &str) -> Option<(OutTradeNo, u32)> {
    let mut parts = key.split('/');
    let (prefix, _campaign, no, attempt) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if prefix != "photos" || parts.next().is_some() {
        return None;
    }
    Some((OutTradeNo::parse(no).ok()?, attempt.strip_prefix('a')?.parse().ok()?))
}

async fn process_message(deps: &Deps, body: &str) -> Result<(), String> {
    // S3 also sends an `s3:TestEvent` when a notification is configured: nothing to do.
    let Ok(event) = serde_json::from_str::<S3Event>(body) else {
        tracing::info!(outcome = "ignored", "queue message that is not an S3 event");
        return Ok(());
    };
    for record in event.records {
        let bucket = record.s3.bucket.name.unwrap_or_default();
        let key = record.s3.object.key.unwrap_or_default();
        let etag = record.s3.object.e_tag.unwrap_or_default();
        let Some((no, attempt)) = parse_key(&key) else {
            tracing::warn!(key, outcome = "ignored", "object key is not an upload attempt");
            continue;
        };
        let idem = format!("s3/{bucket}/{key}@{etag}");
        match deps.idempotency.claim(&idem, 120, 30).await? {
            Claim::Completed => {
                tracing::info!(out_trade_no = %no, attempt, outcome = "duplicate", "event already handled");
                continue;
            }
            Claim::Busy => return Err("another invocation is standardizing this object".into()),
            Claim::Acquired => {}
        }
        match standardize(deps, &bucket, &key, &no, attempt).await {
            Ok(()) => deps.idempotency.complete(&idem).await?,
            Err(e) => {
                deps.idempotency.release(&idem).await?;
                return Err(e);
            }
        }
    }
    Ok(())
}

async fn standardize(deps: &Deps, bucket: &str, key: &str, no: &OutTradeNo, attempt: u32) -> Result<(), String> {
    let started = std::time::Instant::now();
    let order = deps.orders.get(no).await.map_err(|e| e.to_string())?;
    let Some(order) = order else {
        tracing::warn!(out_trade_no = %no, outcome = "ignored", "upload for an unknown order");
        return Ok(());
    };
    let Some((campaign, _)) = deps.campaigns.get(&order.campaign_id).await.map_err(|e| e.to_string())? else {
        return Err(format!("campaign {} missing", order.campaign_id));
    };
    let latest = Some(attempt);
    let moved = deps
        .orders
        .apply_guarded(&order, Transition::StartStandardizing, "upload_received", "standardize", vec![], vec![], latest)
        .await
        .map_err(|e| e.to_string())?;
    if let Applied::Unchanged(state) = moved {
        // Superseded by a newer attempt, or the order is in review, approved, refunded…
        tracing::info!(out_trade_no = %no, attempt, state = state.as_str(), outcome = "ignored", "upload not taken");
        return Ok(());
    }
    let object = deps
        .s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| aws_sdk_s3::error::DisplayErrorContext(&e).to_string())?;
    let bytes = if object.content_length().unwrap_or(0) > MAX_OBJECT_BYTES {
        Vec::new() // read nothing: ends as not_a_photo
    } else {
        object.body.collect().await.map_err(|e| e.to_string())?.into_bytes().to_vec()
    };
    let (models, spec) = (deps.models.clone(), campaign.spec.clone());
    let out = tokio::task::spawn_blocking(move || yunzhao_imaging::run_pipeline(&bytes, &spec, &models))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;

    let prefix = format!("attempts/{no}/a{attempt:04}");
    let report = serde_json::to_vec_pretty(&out.report).map_err(|e| e.to_string())?;
    let mut objects: Vec<(String, Vec<u8>, &str)> = vec![(format!("{prefix}/report.json"), report, "application/json")];
    if let Some(p) = &out.photo {
        objects.push((format!("{prefix}/standard.jpg"), p.standard_jpeg.clone(), "image/jpeg"));
        objects.push((format!("{prefix}/preview.jpg"), p.preview_jpeg.clone(), "image/jpeg"));
        objects.push((format!("{prefix}/cutout.png"), p.cutout_png.clone(), "image/png"));
    }
    for (k, body, content_type) in objects {
        deps.s3
            .put_object()
            .bucket(&deps.results_bucket)
            .key(&k)
            .content_type(content_type)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| aws_sdk_s3::error::DisplayErrorContext(&e).to_string())?;
    }
    let reasons: Vec<AttributeValue> =
        out.report.reasons.iter().map(|r| AttributeValue::S(r.as_str().to_owned())).collect();
    let mut set = vec![("reasons", AttributeValue::L(reasons)), ("result_prefix", AttributeValue::S(prefix.clone()))];
    let mut also = Vec::new();
    let (transition, cause) = if out.report.passed {
        // The review task is queued in the same transaction that moves the order into review:
        // no order waits in review without a task, and no task outlives its order's state.
        let now_ms = yunzhao_adapters::now_ms();
        let task = ReviewTask::new(&order.campaign_id, no, attempt, prefix.clone(), key.to_owned(), now_ms);
        also.push(deps.review.enqueue(&task).map_err(|e| e.to_string())?);
        set.push(("review_task_id", AttributeValue::S(task.task_id)));
        (Transition::PassChecks, "checks_passed")
    } else {
        (Transition::FailChecks, "checks_failed")
    };
    deps.orders
        .apply_guarded(&order, transition, cause, "standardize", set, also, latest)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(
        out_trade_no = %no, attempt, passed = out.report.passed, reasons = ?out.report.reasons,
        duration_ms = started.elapsed().as_millis() as u64, outcome = cause, "standardized"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_keys_name_their_order_and_attempt() {
        let (no, attempt) = parse_key("photos/c_1/YZ0123456789ABCDEF01234567/a0003").expect("ours");
        assert_eq!((no.as_str(), attempt), ("YZ0123456789ABCDEF01234567", 3));
        for other in
            ["rosters/c_1/r_1", "photos/c_1/YZ01/a1/extra", "photos/c_1/bad no/a1", "photos/c_1/YZ0123456789/x1"]
        {
            assert!(parse_key(other).is_none(), "{other}");
        }
    }
}
