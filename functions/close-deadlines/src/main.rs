mod handler;

use lambda_runtime::{Error, service_fn};
use yunzhao_adapters::aws;
use yunzhao_adapters::config;
use yunzhao_adapters::dynamo::{DynamoCampaigns, DynamoExports, DynamoOrders};
use yunzhao_adapters::queues::JobQueue;
use yunzhao_adapters::wechat::pay::{PayConfig, WeChatPay};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let table = config::required("TABLE_NAME")?;
    let sdk = aws::sdk_config().await;
    let ddb = aws::dynamodb(&sdk);
    let deps = handler::Deps {
        campaigns: DynamoCampaigns::new(ddb.clone(), &table),
        orders: DynamoOrders::new(ddb.clone(), &table),
        exports: DynamoExports::new(ddb, &table),
        pay: WeChatPay::new(PayConfig::from_env()?)?,
        export_queue: JobQueue::new(&sdk, config::required("EXPORT_QUEUE_URL")?),
    };
    lambda_runtime::run(service_fn(|event| handler::handle(&deps, event))).await
}
