mod handler;

use lambda_http::{Error, service_fn};
use yunzhao_adapters::aws;
use yunzhao_adapters::config::{self, ConfigError};
use yunzhao_adapters::dynamo::roster::DynamoBindings;
use yunzhao_adapters::dynamo::{DynamoCampaigns, DynamoOrders};
use yunzhao_adapters::s3_post::Presigner;
use yunzhao_http::SessionKeys;

struct Config {
    table: String,
    uploads_bucket: String,
    session_key: String,
}

impl Config {
    fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            table: config::required("TABLE_NAME")?,
            uploads_bucket: config::required("UPLOADS_BUCKET")?,
            session_key: config::required("SESSION_SIGNING_KEY")?,
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
        uploads: Presigner::from_sdk(&sdk, cfg.uploads_bucket)?,
        keys: SessionKeys::from_base64(&cfg.session_key, time::Duration::hours(2))?,
        bindings: DynamoBindings::new(ddb, cfg.table),
    };
    lambda_http::run(service_fn(|req| async { Ok::<_, Error>(handler::handle(&deps, req).await) })).await
}
