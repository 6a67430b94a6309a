mod handler;

use std::sync::Arc;

use base64::Engine;
use lambda_http::{Error, service_fn};
use yunzhao_adapters::aws;
use yunzhao_adapters::config::{self, ConfigError};
use yunzhao_adapters::crypto::{Envelope, LookupHasher};
use yunzhao_adapters::dynamo::{
    DynamoCampaigns, DynamoCounters, DynamoExports, DynamoOrders, DynamoRoster, DynamoStaff,
};
use yunzhao_adapters::queues::JobQueue;
use yunzhao_adapters::s3_post::Presigner;
use yunzhao_http::StaffGate;

struct Config {
    table: String,
    uploads_bucket: String,
    results_bucket: String,
    export_queue: String,
    data_key_id: String,
    lookup_key: String,
}

impl Config {
    fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            table: config::required("TABLE_NAME")?,
            uploads_bucket: config::required("UPLOADS_BUCKET")?,
            results_bucket: config::required("RESULTS_BUCKET")?,
            export_queue: config::required("EXPORT_QUEUE_URL")?,
            data_key_id: config::required("DATA_KEY_ID")?,
            lookup_key: config::required("LOOKUP_HMAC_KEY")?,
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let cfg = Config::from_env()?;
    let sdk = aws::sdk_config().await;
    let ddb = aws::dynamodb(&sdk);
    let hasher = Arc::new(LookupHasher::new(&base64::engine::general_purpose::STANDARD.decode(cfg.lookup_key.trim())?));
    let envelope = Arc::new(Envelope::new(aws::kms(&sdk), cfg.data_key_id));
    let deps = handler::Deps {
        campaigns: DynamoCampaigns::new(ddb.clone(), &cfg.table),
        orders: DynamoOrders::new(ddb.clone(), &cfg.table),
        roster: DynamoRoster::new(ddb.clone(), &cfg.table, hasher, envelope),
        exports: handler::Exports {
            store: DynamoExports::new(ddb.clone(), &cfg.table),
            counters: DynamoCounters::new(ddb.clone(), &cfg.table),
            queue: JobQueue::new(&sdk, cfg.export_queue),
            bucket: cfg.results_bucket,
        },
        blobs: yunzhao_adapters::blobs::Blobs::new(&sdk),
        roster_uploads: Presigner::from_sdk(&sdk, cfg.uploads_bucket.clone())?,
        uploads_bucket: cfg.uploads_bucket,
        gate: StaffGate::new(DynamoStaff::new(ddb, &cfg.table), config::staff_session_policy()?),
    };
    lambda_http::run(service_fn(|req| async { Ok::<_, Error>(handler::handle(&deps, req).await) })).await
}
