mod handler;

use lambda_http::{Error, service_fn};
use yunzhao_adapters::aws;
use yunzhao_adapters::blobs::Blobs;
use yunzhao_adapters::config::{self, ConfigError};
use yunzhao_adapters::dynamo::{DynamoCampaigns, DynamoOrders, DynamoStaff, ReviewQueue};
use yunzhao_http::StaffGate;

struct Config {
    table: String,
    uploads_bucket: String,
    results_bucket: String,
    lease_seconds: i64,
}

impl Config {
    fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            table: config::required("TABLE_NAME")?,
            uploads_bucket: config::required("UPLOADS_BUCKET")?,
            results_bucket: config::required("RESULTS_BUCKET")?,
            // A reviewer's hold on a task; an abandoned task returns to the queue after it.
            lease_seconds: config::parsed("REVIEW_LEASE_SECONDS", 600)?,
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let cfg = Config::from_env()?;
    let sdk = aws::sdk_config().await;
    let ddb = aws::dynamodb(&sdk);
    let deps = handler::Deps {
        orders: DynamoOrders::new(ddb.clone(), &cfg.table),
        campaigns: DynamoCampaigns::new(ddb.clone(), &cfg.table),
        queue: ReviewQueue::new(ddb.clone(), &cfg.table),
        photos: handler::Photos {
            blobs: Blobs::new(&sdk),
            uploads_bucket: cfg.uploads_bucket,
            results_bucket: cfg.results_bucket,
        },
        gate: StaffGate::new(DynamoStaff::new(ddb, &cfg.table), config::staff_session_policy()?),
        lease_ms: cfg.lease_seconds * 1000,
    };
    lambda_http::run(service_fn(|req| async { Ok::<_, Error>(handler::handle(&deps, req).await) })).await
}
