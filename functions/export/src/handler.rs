//! One export per queue message `{campaign_id, export_id}`: the campaign's roster (identifiers
//! opened with KMS, only here), its orders, the approved standard photos from S3, built into
//! one archive at `exports/<campaign>/<export_id>.zip` in the results bucket, and the export
//! record filled in. Building an export again writes the same archive.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use futures::{StreamExt, TryStreamExt};
use lambda_runtime::LambdaEvent;
use serde::Deserialize;
use time::OffsetDateTime;
use tracing::Instrument;
use yunzhao_adapters::blobs::{Blobs, Fetched};
use yunzhao_adapters::crypto::Envelope;
use yunzhao_adapters::dynamo::exports::{Export, ExportStatus};
use yunzhao_adapters::dynamo::roster::DynamoBindings;
use yunzhao_adapters::dynamo::roster::OpenedEntry;
use yunzhao_adapters::dynamo::{DynamoCampaigns, DynamoExports, DynamoOrders};
use yunzhao_domain::campaign::SHANGHAI;
use yunzhao_domain::export;
use yunzhao_domain::objects;
use yunzhao_http::batch::{self, Failure};

use crate::archive::{self, Approved, Missing};

/// Standard photos read from S3 at once while building an archive.
const PHOTO_FETCHES: usize = 16;
/// A job is only started with this much of the invocation left (a large campaign's archive
/// takes tens of seconds); otherwise it goes back to the queue untouched.
const TIME_RESERVE: std::time::Duration = std::time::Duration::from_secs(60);

pub struct Deps {
    pub orders: DynamoOrders,
    pub campaigns: DynamoCampaigns,
    pub exports: DynamoExports,
    pub envelope: Envelope,
    pub bindings: DynamoBindings,
    pub blobs: Blobs,
    pub results_bucket: String,
}

#[derive(Deserialize)]
struct Job {
    campaign_id: String,
    export_id: String,
}

pub async fn handle(deps: &Deps, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    Ok(batch::each_message(event, TIME_RESERVE, |body| async move {
        let job = serde_json::from_str::<Job>(&body).map_err(|_| Failure::drop("export message is not a job"))?;
        let span = tracing::info_span!("export", campaign_id = job.campaign_id, export_id = job.export_id);
        build(deps, &job).instrument(span).await
    })
    .await)
}

/// Where a student without an approved photo stands, for the school's list.
fn shanghai(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp(ms / 1000)
        .map(|t| t.to_offset(SHANGHAI))
        .map(|t| format!("{:04}-{:02}-{:02} {:02}:{:02}", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute()))
        .unwrap_or_default()
}

async fn build(deps: &Deps, job: &Job) -> Result<(), Failure> {
    let Some(export) = deps.exports.get(&job.campaign_id, &job.export_id).await.map_err(Failure::retry)? else {
        tracing::warn!(campaign_id = job.campaign_id, export_id = job.export_id, outcome = "ignored", "no such export");
        return Ok(());
    };
    if export.status == ExportStatus::Ready {
        return Ok(());
    }
    let (campaign, _) = deps
        .campaigns
        .get(&job.campaign_id)
        .await
        .map_err(Failure::retry)?
        .ok_or_else(|| Failure::drop(format!("campaign {} missing", job.campaign_id)))?;
    let entries: Vec<OpenedEntry> =
        deps.bindings.open_entries(&deps.envelope, &campaign.id).await.map_err(Failure::retry)?;
    let orders = deps.orders.by_campaign(&campaign.id).await.map_err(Failure::retry)?;
    let selection = export::select(&entries, orders, export.since).map_err(Failure::drop)?;
    let missing = selection.missing.iter().map(|(entry, stage)| Missing { entry, status: stage.labels().1 }).collect();
    let jpegs = fetch_photos(deps, selection.photos.iter().map(|p| p.photo_key.clone()).collect()).await?;
    let approved = (selection.photos.iter().zip(jpegs))
        .map(|(p, jpeg)| Approved { entry: p.entry, approved_at: shanghai(p.approved_at), jpeg })
        .collect();
    let built = archive::build(campaign.spec.naming, approved, missing).map_err(Failure::retry)?;
    let done = store(deps, export, built, selection.approved_until).await?;
    tracing::info!(
        campaign_id = done.campaign_id,
        export_id = done.export_id,
        photos = done.photos,
        missing = done.missing,
        bytes = done.bytes,
        outcome = "ready",
        "export built"
    );
    Ok(())
}

/// The standard photos at `keys`, fetched a few at a time: a campaign's final export reads
/// thousands.
async fn fetch_photos(deps: &Deps, keys: Vec<String>) -> Result<Vec<Vec<u8>>, Failure> {
    futures::stream::iter(keys)
        .map(|key| async move {
            match deps.blobs.get(&deps.results_bucket, &key, None, u64::MAX).await.map_err(Failure::retry)? {
                Fetched::Found(photo) => Ok(photo.bytes),
                _ => Err(Failure::retry(format!("{key} missing"))),
            }
        })
        .buffered(PHOTO_FETCHES)
        .try_collect()
        .await
}

/// The archive stored (a browser saves it as `<campaign>-<export>.zip`) and the export record
/// filled in: ready.
async fn store(deps: &Deps, export: Export, built: archive::Built, approved_until: i64) -> Result<Export, Failure> {
    let digest = hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &built.zip));
    let key = objects::export_archive(&export.campaign_id, &export.export_id);
    let bytes = built.zip.len() as u64;
    let name = format!("{}-{}.zip", export.campaign_id, export.export_id);
    deps.blobs
        .put(&deps.results_bucket, &key, built.zip, "application/zip", Some(&name))
        .await
        .map_err(Failure::retry)?;
    let done = Export {
        status: ExportStatus::Ready,
        object_key: Some(key),
        sha256: Some(digest),
        photos: built.photos,
        missing: built.missing,
        bytes,
        approved_until,
        ..export
    };
    deps.exports.finish(&done).await.map_err(Failure::retry)?;
    Ok(done)
}
