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

use aws_lambda_events::event::s3::S3Event;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::LambdaEvent;
use yunzhao_adapters::blobs::UploadPhotos;
use yunzhao_adapters::dynamo::idempotency::{Claim, Idempotency};
use yunzhao_adapters::dynamo::{DynamoCampaigns, DynamoOrders};
use yunzhao_domain::objects;
use yunzhao_domain::order::OutTradeNo;
use yunzhao_domain::upload::{self, Posted, ProcessDeps, ProcessError, Processed};
use yunzhao_http::batch::{self, Failure};

use crate::pipeline::Pipeline;

type S3Record = aws_lambda_events::event::s3::S3EventRecord;

/// A message is only started with this much of the invocation left: one photo takes about a
/// second, its S3 and DynamoDB writes a few more in a slow moment. The rest of the batch goes
/// back to the queue untouched rather than being cut off half-way by the timeout.
const TIME_RESERVE: std::time::Duration = std::time::Duration::from_secs(8);

pub struct Deps {
    pub orders: DynamoOrders,
    pub campaigns: DynamoCampaigns,
    pub idempotency: Idempotency,
    pub photos: UploadPhotos,
    pub pipeline: Pipeline,
}

pub async fn handle(deps: &Deps, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    Ok(batch::each_message(event, TIME_RESERVE, |body| process_message(deps, body)).await)
}

/// The object version an S3 event record announces.
fn posted(record: S3Record) -> Posted {
    let object = record.s3.object;
    Posted {
        bucket: record.s3.bucket.name.unwrap_or_default(),
        key: object.key.unwrap_or_default(),
        etag: object.e_tag.unwrap_or_default(),
        version: object.version_id.filter(|v| !v.is_empty() && v != "null"),
    }
}

/// The idempotency key: one per object version (two versions of the same bytes share an
/// etag, and the second must still be removed).
fn idempotency_key(posted: &Posted) -> String {
    let Posted { bucket, key, etag, version } = posted;
    match version {
        Some(v) => format!("s3/{bucket}/{key}@{etag}?versionId={v}"),
        None => format!("s3/{bucket}/{key}@{etag}"),
    }
}

async fn process_message(deps: &Deps, body: String) -> Result<(), Failure> {
    // S3 also sends an `s3:TestEvent` when a notification is configured: nothing to do.
    let Ok(event) = serde_json::from_str::<S3Event>(&body) else {
        tracing::info!(outcome = "ignored", "queue message that is not an S3 event");
        return Ok(());
    };
    for record in event.records {
        let posted = posted(record);
        let Some((no, attempt)) = objects::parse_upload(&posted.key) else {
            tracing::warn!(key = posted.key, outcome = "ignored", "object key is not an upload attempt");
            continue;
        };
        let idem = idempotency_key(&posted);
        match deps.idempotency.claim(&idem, 120, 30).await.map_err(Failure::retry)? {
            Claim::Completed => {
                tracing::info!(out_trade_no = %no, attempt, outcome = "duplicate", "event already handled");
                continue;
            }
            Claim::Busy => return Err(Failure::retry("another invocation is standardizing this object")),
            Claim::Acquired => {}
        }
        match standardize(deps, &posted, &no, attempt).await {
            Ok(()) => deps.idempotency.complete(&idem).await.map_err(Failure::retry)?,
            Err(e) => {
                deps.idempotency.release(&idem).await.map_err(Failure::retry)?;
                return Err(e);
            }
        }
    }
    Ok(())
}

async fn standardize(deps: &Deps, posted: &Posted, no: &OutTradeNo, attempt: u32) -> Result<(), Failure> {
    let started = std::time::Instant::now();
    let ports = ProcessDeps {
        orders: &deps.orders,
        campaigns: &deps.campaigns,
        photos: &deps.photos,
        pipeline: &deps.pipeline,
    };
    let processed = upload::process_upload(ports, posted, no, attempt).await;
    let duration_ms = started.elapsed().as_millis() as u64;
    match processed.map_err(failure)? {
        Processed::UnknownOrder => {
            tracing::warn!(out_trade_no = %no, outcome = "ignored", "upload for an unknown order")
        }
        Processed::NotTaken(state) => {
            tracing::info!(out_trade_no = %no, attempt, state = state.as_str(), outcome = "ignored", "upload not taken")
        }
        Processed::OverwriteRemoved(state) => tracing::warn!(
            out_trade_no = %no, attempt, state = state.as_str(), outcome = "overwrite_removed",
            "another upload to an attempt that took one: removed, the first kept"
        ),
        Processed::Passed => {
            tracing::info!(out_trade_no = %no, attempt, passed = true, duration_ms, outcome = "checks_passed", "standardized")
        }
        Processed::Failed(reasons) => tracing::info!(
            out_trade_no = %no, attempt, passed = false, ?reasons, duration_ms, outcome = "checks_failed", "standardized"
        ),
    }
    Ok(())
}

/// A missing campaign can never succeed (retrying would only carry the message to the
/// dead-letter queue); everything else may on the next delivery.
fn failure(e: ProcessError) -> Failure {
    match e {
        ProcessError::CampaignMissing(_) => Failure::drop(e),
        ProcessError::Store(e) => e.into(),
        other => Failure::retry(other),
    }
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

    fn upload(version: serde_json::Value) -> Posted {
        posted(event(version).records.remove(0))
    }

    #[test]
    fn an_upload_is_the_version_its_event_names() {
        // GIVEN the event of a POST to a versioned bucket
        let u = upload(serde_json::json!("3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY"));
        // THEN the upload is that version of that key
        assert_eq!(u.version.as_deref(), Some("3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY"));
        assert_eq!((u.bucket.as_str(), u.etag.as_str()), ("uploads", "0123456789abcdef0123456789abcdef"));
        assert_eq!(
            idempotency_key(&u),
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
            assert!(idempotency_key(&u).ends_with("@0123456789abcdef0123456789abcdef"), "{v}");
        }
    }
}
