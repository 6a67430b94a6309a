mod handler;

use std::sync::Arc;

use base64::Engine;
use lambda_http::{Error, service_fn};
use yunzhao_adapters::aws;
use yunzhao_adapters::config;
use yunzhao_adapters::crypto::LookupHasher;
use yunzhao_adapters::dynamo::roster::DynamoBindings;
use yunzhao_adapters::dynamo::{DynamoCampaigns, DynamoOrders, DynamoRoster, DynamoStaff, ReviewQueue};
use yunzhao_adapters::queues::DeadLetters;
use yunzhao_adapters::wechat::pay::{PayConfig, WeChatPay};
use yunzhao_http::StaffGate;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let table = config::required("TABLE_NAME")?;
    let policy = config::staff_session_policy()?;
    let lookup_key = config::required("LOOKUP_HMAC_KEY")?;
    let hasher = Arc::new(LookupHasher::new(&base64::engine::general_purpose::STANDARD.decode(lookup_key.trim())?));
    let sdk = aws::sdk_config().await;
    let ddb = aws::dynamodb(&sdk);
    let deps = handler::Deps {
        orders: DynamoOrders::new(ddb.clone(), &table),
        campaigns: DynamoCampaigns::new(ddb.clone(), &table),
        dead_letters: DeadLetters::new(
            &sdk,
            vec![
                ("standardize", config::required("STANDARDIZE_DLQ_URL")?),
                ("export", config::required("EXPORT_DLQ_URL")?),
            ],
        ),
        queue: ReviewQueue::new(ddb.clone(), &table),
        roster: DynamoRoster::read_only(ddb.clone(), &table, hasher),
        pay: WeChatPay::new(PayConfig::from_env()?)?,
        gate: StaffGate::new(DynamoStaff::new(ddb.clone(), &table), policy),
        bindings: DynamoBindings::new(ddb, table),
    };
    lambda_http::run(service_fn(|req| async { Ok::<_, Error>(handler::handle(&deps, req).await) })).await
}
