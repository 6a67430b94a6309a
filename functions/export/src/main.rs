mod archive;
mod handler;

use lambda_runtime::Error;
use yunzhao_adapters::aws::Aws;
use yunzhao_adapters::config;

#[tokio::main]
async fn main() -> Result<(), Error> {
    yunzhao_http::init_logs();
    let aws = Aws::from_env().await?;
    let deps = handler::Deps {
        orders: aws.orders(),
        campaigns: aws.campaigns(),
        exports: aws.exports(),
        envelope: aws.envelope(config::required("DATA_KEY_ID")?),
        bindings: aws.bindings(),
        blobs: aws.blobs(),
        results_bucket: config::required("RESULTS_BUCKET")?,
    };
    yunzhao_http::serve_events(deps, handler::handle).await
}
