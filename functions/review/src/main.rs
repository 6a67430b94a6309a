mod handler;

use lambda_http::{Error, service_fn};
use yunzhao_adapters::aws;
use yunzhao_adapters::config::{self, ConfigError};
use yunzhao_adapters::dynamo::{DynamoCampaigns, DynamoOrders, DynamoStaff, ReviewQueue};
use yunzhao_http::{StaffGate, staff};

struct Config {
    table: String,
    uploads_bucket: String,
    results_bucket: String,
    lease_seconds: i64,
    staff_session_hours: u64,
    staff_idle_minutes: u64,
}

impl Config {
    fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            table: config::required("TABLE_NAME")?,
            uploads_bucket: config::required("UPLOADS_BUCKET")?,
            results_bucket: config::required("RESULTS_BUCKET")?,
            staff_session_hours: config::parsed("STAFF_SESSION_HOURS", 10)?,
            staff_idle_minutes: config::parsed("STAFF_IDLE_MINUTES", 30)?,
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
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    let deps = handler::Deps {
        orders: DynamoOrders::new(ddb.clone(), &cfg.table),
        campaigns: DynamoCampaigns::new(ddb.clone(), &cfg.table),
        queue: ReviewQueue::new(ddb.clone(), &cfg.table),
        photos: handler::Photos {
            s3: aws::s3_client(&sdk),
            uploads_bucket: cfg.uploads_bucket,
            results_bucket: cfg.results_bucket,
        },
        gate: StaffGate::new(
            DynamoStaff::new(ddb, &cfg.table),
            staff::policy(cfg.staff_session_hours, cfg.staff_idle_minutes),
        ),
        lease_ms: cfg.lease_seconds * 1000,
    };
    lambda_http::run(service_fn(|req| async { Ok::<_, Error>(handler::handle(&deps, req).await) })).await
}
