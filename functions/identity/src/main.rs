mod handler;

use lambda_http::Error;
use yunzhao_adapters::aws::Aws;
use yunzhao_adapters::config;
use yunzhao_http::SessionKeys;

#[tokio::main]
async fn main() -> Result<(), Error> {
    yunzhao_http::init_logs();
    let aws = Aws::from_env().await?;
    let uploads_bucket = config::required("UPLOADS_BUCKET")?;
    let deps = handler::Deps {
        campaigns: aws.campaigns(),
        roster: aws.roster(None)?,
        counters: aws.counters(),
        consents: aws.consents(),
        cards: handler::CardPhotos {
            blobs: aws.blobs(),
            uploads: aws.presigner(&uploads_bucket)?,
            bucket: uploads_bucket,
        },
        keys: SessionKeys::from_base64(&config::required("SESSION_SIGNING_KEY")?, time::Duration::hours(2))?,
    };
    yunzhao_http::serve(deps, handler::handle).await
}
