//! One SQS batch of S3 upload events. Per object version (`bucket/key@etag?versionId=…`,
//! idempotent): the attempt takes the upload and the order starts standardizing, the pipeline
//! runs off the async runtime, the results go to the results bucket, and the order moves to
//! review (with a task in the review queue) or back to the student with the reasons.
//! Transient failures are reported per message; a message that can never succeed is consumed.
//!
//! **An attempt's original is immutable: the first upload standardize takes is the one.** A
//! presigned POST names a fixed key (`photos/<campaign>/<no>/a<n>`) and stays usable for its
//! ten minutes, whatever happened to the attempt meanwhile: a student could post another file
//! to the key after the photo was standardized, even approved. So:
//! - the uploads bucket is versioned (infra/template.yaml): a second POST makes a new version
//!   and never destroys the first;
//! - standardize reads the version the event names (`s3.object.versionId`), and the attempt
//!   records it (`upload_version` on `ATTEMPT#<n>`, written once, in the transaction that
//!   starts standardizing: `Also::TakeUpload`) and so does the review task, whose
//!   links to the original name that version;
//! - an event for any other version of an attempt that took one is not standardized, and that
//!   version is deleted, so the first stays the key's current version: what anyone reading
//!   the key sees, and never a noncurrent version that the bucket's lifecycle would expire.
//!
//! (A fresh random key per form alone would not do: the same form could still overwrite its
//! own key within its ten minutes.)

use std::sync::Arc;

use aws_lambda_events::event::s3::S3Event;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::LambdaEvent;
use yunzhao_adapters::blobs::{Blobs, Fetched};
use yunzhao_adapters::dynamo::idempotency::{Claim, Idempotency};
use yunzhao_adapters::dynamo::{DynamoCampaigns, DynamoOrders};
use yunzhao_domain::objects;
use yunzhao_domain::order::{Also, Applied, Change, Fields, OutTradeNo, Transition};
use yunzhao_domain::review::ReviewTask;
use yunzhao_http::batch::{self, Failure};

type S3Record = aws_lambda_events::event::s3::S3EventRecord;

/// Uploads over this are not read (S3's policy already refuses > 15 MB).
const MAX_OBJECT_BYTES: u64 = 20 * 1024 * 1024;
/// A message is only started with this much of the invocation left: one photo takes about a
/// second, its S3 and DynamoDB writes a few more in a slow moment. The rest of the batch goes
/// back to the queue untouched rather than being cut off half-way by the timeout.
const TIME_RESERVE: std::time::Duration = std::time::Duration::from_secs(8);

pub struct Deps {
    pub orders: DynamoOrders,
    pub campaigns: DynamoCampaigns,
    pub idempotency: Idempotency,
    pub blobs: Blobs,
    pub results_bucket: String,
    pub models: Arc<yunzhao_imaging::Models>,
}

pub async fn handle(deps: &Deps, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    Ok(batch::each_message(event, TIME_RESERVE, |body| process_message(deps, body)).await)
}

/// One object version an S3 event announces.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Upload {
    bucket: String,
    key: String,
    etag: String,
    /// `None` in a bucket without versioning (S3 sends no `versionId`, or `"null"`).
    version: Option<String>,
}

impl Upload {
    fn from_record(record: S3Record) -> Self {
        let object = record.s3.object;
        Self {
            bucket: record.s3.bucket.name.unwrap_or_default(),
            key: object.key.unwrap_or_default(),
            etag: object.e_tag.unwrap_or_default(),
            version: object.version_id.filter(|v| !v.is_empty() && v != "null"),
        }
    }

    /// The idempotency key: one per object version (two versions of the same bytes share an
    /// etag, and the second must still be removed).
    fn idempotency_key(&self) -> String {
        let Upload { bucket, key, etag, version } = self;
        match version {
            Some(v) => format!("s3/{bucket}/{key}@{etag}?versionId={v}"),
            None => format!("s3/{bucket}/{key}@{etag}"),
        }
    }
}

/// The version to delete when an event's upload was not taken: another version of an attempt
/// that already took its upload (never the taken one, never a guess without a version id).
fn overwrite_to_remove<'a>(taken: Option<&str>, event: Option<&'a str>) -> Option<&'a str> {
    match (taken, event) {
        (Some(taken), Some(event)) if taken != event => Some(event),
        _ => None,
    }
}

async fn process_message(deps: &Deps, body: String) -> Result<(), Failure> {
    // S3 also sends an `s3:TestEvent` when a notification is configured: nothing to do.
    let Ok(event) = serde_json::from_str::<S3Event>(&body) else {
        tracing::info!(outcome = "ignored", "queue message that is not an S3 event");
        return Ok(());
    };
    for record in event.records {
        let upload = Upload::from_record(record);
        let Some((no, attempt)) = objects::parse_upload(&upload.key) else {
            tracing::warn!(key = upload.key, outcome = "ignored", "object key is not an upload attempt");
            continue;
        };
        let idem = upload.idempotency_key();
        match deps.idempotency.claim(&idem, 120, 30).await.map_err(Failure::retry)? {
            Claim::Completed => {
                tracing::info!(out_trade_no = %no, attempt, outcome = "duplicate", "event already handled");
                continue;
            }
            Claim::Busy => return Err(Failure::retry("another invocation is standardizing this object")),
            Claim::Acquired => {}
        }
        match standardize(deps, &upload, &no, attempt).await {
            Ok(()) => deps.idempotency.complete(&idem).await.map_err(Failure::retry)?,
            Err(e) => {
                deps.idempotency.release(&idem).await.map_err(Failure::retry)?;
                return Err(e);
            }
        }
    }
    Ok(())
}

async fn standardize(deps: &Deps, upload: &Upload, no: &OutTradeNo, attempt: u32) -> Result<(), Failure> {
    let started = std::time::Instant::now();
    let order = deps.orders.get(no).await?;
    let Some(order) = order else {
        tracing::warn!(out_trade_no = %no, outcome = "ignored", "upload for an unknown order");
        return Ok(());
    };
    let Some((campaign, _)) = deps.campaigns.get(&order.campaign_id).await.map_err(Failure::retry)? else {
        // Retrying would only carry the message to the dead-letter queue.
        return Err(Failure::drop(format!("campaign {} missing", order.campaign_id)));
    };
    let version = upload.version.as_deref();
    let start = Change::new(Transition::StartStandardizing, "upload_received", "standardize")
        .also(Also::LatestAttempt(attempt))
        .also(Also::TakeUpload { attempt, etag: upload.etag.clone(), version: upload.version.clone() });
    let moved = deps.orders.apply(&order, start).await?;
    let state = match moved {
        Applied::Moved => None,
        Applied::Unchanged(state) => Some(state),
        Applied::Refused(_) => Some(order.state),
    };
    if let Some(state) = state {
        // The attempt took another upload already; or it was superseded by a newer attempt,
        // or the order is in review, approved, refunded…
        let taken = deps.orders.attempt(no, attempt).await.map_err(Failure::retry)?.and_then(|a| a.upload_version);
        if let Some(extra) = overwrite_to_remove(taken.as_deref(), version) {
            remove_version(deps, upload, extra).await?;
            tracing::warn!(
                out_trade_no = %no, attempt, state = state.as_str(), outcome = "overwrite_removed",
                "another upload to an attempt that took one: removed, the first kept"
            );
            return Ok(());
        }
        tracing::info!(out_trade_no = %no, attempt, state = state.as_str(), outcome = "ignored", "upload not taken");
        return Ok(());
    }
    let fetched = deps.blobs.get(&upload.bucket, &upload.key, upload.version.as_deref(), MAX_OBJECT_BYTES).await;
    // When the photo was uploaded: a capture long before it is a hint for the reviewer.
    let (bytes, uploaded_at) = match fetched.map_err(Failure::retry)? {
        Fetched::Found(photo) => (photo.bytes, photo.last_modified),
        Fetched::TooLarge(_) => (Vec::new(), None), // read nothing: ends as not_a_photo
        Fetched::Missing => return Err(Failure::retry(format!("{} not readable yet", upload.key))),
    };
    let (models, spec) = (deps.models.clone(), campaign.spec.clone());
    let options = yunzhao_imaging::Options { uploaded_at, ..Default::default() };
    let out = tokio::task::spawn_blocking(move || yunzhao_imaging::run_pipeline_with(&bytes, &spec, &models, &options))
        .await
        .map_err(Failure::retry)?
        .map_err(Failure::retry)?;

    let prefix = objects::attempt_results(no, attempt);
    let results = objects::Results::at(&prefix);
    let report = serde_json::to_vec_pretty(&out.report).map_err(Failure::retry)?;
    let mut objects: Vec<(String, Vec<u8>, &str)> = vec![(results.report(), report, "application/json")];
    if let Some(p) = &out.photo {
        objects.push((results.standard(), p.standard_jpeg.clone(), "image/jpeg"));
        objects.push((results.preview(), p.preview_jpeg.clone(), "image/jpeg"));
        objects.push((results.cutout(), p.cutout_png.clone(), "image/png"));
    }
    for (k, body, content_type) in objects {
        deps.blobs.put(&deps.results_bucket, &k, body, content_type, None).await.map_err(Failure::retry)?;
    }
    let mut set =
        Fields { reasons: Some(out.report.reasons.clone()), result_prefix: Some(prefix.clone()), ..Fields::default() };
    let mut also = vec![Also::LatestAttempt(attempt)];
    let (transition, cause) = if out.report.passed {
        // The review task is queued in the same transaction that moves the order into review:
        // no order waits in review without a task, and no task outlives its order's state.
        let now_ms = yunzhao_adapters::now_ms();
        let task = ReviewTask::new(
            &order.campaign_id,
            no,
            attempt,
            prefix.clone(),
            upload.key.clone(),
            upload.version.clone(),
            now_ms,
        );
        set.review_task_id = Some(task.task_id.clone());
        also.push(Also::QueueTask(task));
        (Transition::PassChecks, "checks_passed")
    } else {
        (Transition::FailChecks, "checks_failed")
    };
    let finished = Change { transition, cause: cause.into(), actor: "standardize".into(), set, also };
    deps.orders.apply(&order, finished).await?;
    tracing::info!(
        out_trade_no = %no, attempt, passed = out.report.passed, reasons = ?out.report.reasons,
        duration_ms = started.elapsed().as_millis() as u64, outcome = cause, "standardized"
    );
    Ok(())
}

/// Deletes one version of an upload (already gone is fine: the same event delivered twice).
async fn remove_version(deps: &Deps, upload: &Upload, version: &str) -> Result<(), Failure> {
    deps.blobs.delete_version(&upload.bucket, &upload.key, version).await.map_err(Failure::retry)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An `ObjectCreated:Post` notification as S3 sends it, with the object's `version`.
    fn event(version: serde_json::Value) -> S3Event {
        let mut object = serde_json::json!({
            "key": "photos/c_1/YZ0123456789ABCDEF01234567/a0001", "size": 20480,
            "eTag": "0123456789abcdef0123456789abcdef", "sequencer": "0055AED6DCD90281E5",
        });
        if !version.is_null() {
            object["versionId"] = version;
        }
        serde_json::from_value(serde_json::json!({"Records": [{
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "cn-north-1",
            "eventTime": "2026-05-01T08:00:00.000Z", "eventName": "ObjectCreated:Post",
            "userIdentity": {"principalId": "AWS:AROAEXAMPLE:upload-presign"},
            "requestParameters": {"sourceIPAddress": "203.0.113.7"},
            "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
            "s3": {"s3SchemaVersion": "1.0", "configurationId": "photos",
                   "bucket": {"name": "uploads", "arn": "arn:aws-cn:s3:::uploads"}, "object": object},
        }]}))
        .expect("an S3 event")
    }

    fn upload(version: serde_json::Value) -> Upload {
        Upload::from_record(event(version).records.remove(0))
    }

    #[test]
    fn an_upload_is_the_version_its_event_names() {
        // GIVEN the event of a POST to a versioned bucket
        let u = upload(serde_json::json!("3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY"));
        // THEN the upload is that version of that key
        assert_eq!(u.version.as_deref(), Some("3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY"));
        assert_eq!((u.bucket.as_str(), u.etag.as_str()), ("uploads", "0123456789abcdef0123456789abcdef"));
        assert_eq!(
            u.idempotency_key(),
            "s3/uploads/photos/c_1/YZ0123456789ABCDEF01234567/a0001@0123456789abcdef0123456789abcdef\
             ?versionId=3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY"
        );
    }

    #[test]
    fn without_versioning_an_upload_has_no_version() {
        // S3 omits versionId, or sends null or "null", for a bucket that is not versioned.
        for v in [serde_json::Value::Null, serde_json::json!("null"), serde_json::json!("")] {
            let u = upload(v.clone());
            assert_eq!(u.version, None, "{v}");
            assert!(u.idempotency_key().ends_with("@0123456789abcdef0123456789abcdef"), "{v}");
        }
    }

    #[test]
    fn only_another_version_of_a_taken_attempt_is_removed() {
        // A second write to an attempt that took one: removed, the first kept.
        assert_eq!(overwrite_to_remove(Some("v1"), Some("v2")), Some("v2"));
        // The taken version itself (the event again), an attempt that took none (superseded,
        // or the order moved on) and an event without a version: nothing is deleted.
        assert_eq!(overwrite_to_remove(Some("v1"), Some("v1")), None);
        assert_eq!(overwrite_to_remove(None, Some("v2")), None);
        assert_eq!(overwrite_to_remove(Some("v1"), None), None);
    }
}
