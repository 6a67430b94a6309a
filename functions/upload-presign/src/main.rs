mod handler;

use lambda_http::Error;
use yunzhao_adapters::aws::Aws;
use yunzhao_adapters::config;
use yunzhao_http::SessionKeys;

#[tokio::main]
async fn main() -> Result<(), Error> {
    yunzhao_http::init_logs();
    let aws = Aws::from_env().await?;
    let deps = handler::Deps {
        orders: aws.orders(),
        campaigns: aws.campaigns(),
        uploads: aws.presigner(config::required("UPLOADS_BUCKET")?)?,
        keys: SessionKeys::from_base64(&config::required("SESSION_SIGNING_KEY")?, time::Duration::hours(2))?,
        bindings: aws.bindings(),
    };
    yunzhao_http::serve(deps, handler::handle).await
}
