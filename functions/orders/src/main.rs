mod handler;

use lambda_http::{Error, service_fn};
use yunzhao_adapters::aws;
use yunzhao_adapters::blobs::Blobs;
use yunzhao_adapters::config::{self, ConfigError};
use yunzhao_adapters::dynamo::{DynamoCampaigns, DynamoOrders, DynamoStaff, DynamoUsers};
use yunzhao_adapters::wechat::pay::{PayConfig, WeChatPay};
use yunzhao_http::{SessionKeys, StaffGate};

struct Config {
    table: String,
    results_bucket: String,
    session_key: String,
}

impl Config {
    fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            table: config::required("TABLE_NAME")?,
            results_bucket: config::required("RESULTS_BUCKET")?,
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
        users: DynamoUsers::new(ddb.clone(), &cfg.table),
        pay: WeChatPay::new(PayConfig::from_env()?)?,
        results: handler::Results { blobs: Blobs::new(&sdk), bucket: cfg.results_bucket },
        keys: SessionKeys::from_base64(&cfg.session_key, time::Duration::hours(2))?,
        gate: StaffGate::new(DynamoStaff::new(ddb, &cfg.table), config::staff_session_policy()?),
    };
    lambda_http::run(service_fn(|req| async { Ok::<_, Error>(handler::handle(&deps, req).await) })).await
}
