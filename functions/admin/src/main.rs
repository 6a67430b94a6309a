mod handler;

use lambda_http::Error;
use yunzhao_adapters::aws::Aws;
use yunzhao_adapters::config;
use yunzhao_http::StaffGate;

#[tokio::main]
async fn main() -> Result<(), Error> {
    yunzhao_http::init_logs();
    let aws = Aws::from_env().await?;
    let uploads_bucket = config::required("UPLOADS_BUCKET")?;
    let deps = handler::Deps {
        campaigns: aws.campaigns(),
        orders: aws.orders(),
        roster: aws.roster(Some(config::required("DATA_KEY_ID")?))?,
        exports: handler::Exports {
            store: aws.exports(),
            counters: aws.counters(),
            queue: aws.queue("EXPORT_QUEUE_URL")?,
            bucket: config::required("RESULTS_BUCKET")?,
        },
        blobs: aws.blobs(),
        roster_uploads: aws.presigner(&uploads_bucket)?,
        uploads_bucket,
        gate: StaffGate::new(aws.staff(), config::staff_session_policy()?),
    };
    yunzhao_http::serve(deps, handler::handle).await
}
