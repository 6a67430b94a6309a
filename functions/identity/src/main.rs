mod handler;

use std::sync::Arc;

use base64::Engine;
use lambda_http::{Error, service_fn};
use yunzhao_adapters::aws;
use yunzhao_adapters::config::{self, ConfigError};
use yunzhao_adapters::crypto::LookupHasher;
use yunzhao_adapters::dynamo::{DynamoCampaigns, DynamoCounters, DynamoRoster};
use yunzhao_http::SessionKeys;

struct Config {
    table: String,
    uploads_bucket: String,
    session_key: String,
    lookup_key: String,
}

impl Config {
    fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            table: config::required("TABLE_NAME")?,
            uploads_bucket: config::required("UPLOADS_BUCKET")?,
            session_key: config::required("SESSION_SIGNING_KEY")?,
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
    let deps = handler::Deps {
        campaigns: DynamoCampaigns::new(ddb.clone(), &cfg.table),
        roster: DynamoRoster::read_only(ddb.clone(), &cfg.table, hasher),
        counters: DynamoCounters::new(ddb, &cfg.table),
        cards: handler::CardPhotos {
            blobs: yunzhao_adapters::blobs::Blobs::new(&sdk),
            uploads: yunzhao_adapters::s3_post::Presigner::from_sdk(&sdk, &cfg.uploads_bucket)?,
            bucket: cfg.uploads_bucket,
        },
        keys: SessionKeys::from_base64(&cfg.session_key, time::Duration::hours(2))?,
    };
    lambda_http::run(service_fn(|req| async { Ok::<_, Error>(handler::handle(&deps, req).await) })).await
}
