mod handler;

use lambda_http::Error;
use yunzhao_adapters::aws::Aws;
use yunzhao_adapters::config;
use yunzhao_http::StaffGate;

#[tokio::main]
async fn main() -> Result<(), Error> {
    yunzhao_http::init_logs();
    let aws = Aws::from_env().await?;
    // A reviewer's hold on a task; an abandoned task returns to the queue after it.
    let lease_seconds: i64 = config::parsed("REVIEW_LEASE_SECONDS", 600)?;
    let deps = handler::Deps {
        orders: aws.orders(),
        campaigns: aws.campaigns(),
        queue: aws.review_queue(),
        photos: handler::Photos {
            blobs: aws.blobs(),
            uploads_bucket: config::required("UPLOADS_BUCKET")?,
            results_bucket: config::required("RESULTS_BUCKET")?,
        },
        gate: StaffGate::new(aws.staff(), config::staff_session_policy()?),
        lease_ms: lease_seconds * 1000,
    };
    yunzhao_http::serve(deps, handler::handle).await
}
