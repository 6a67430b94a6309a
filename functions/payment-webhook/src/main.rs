mod handler;

use lambda_http::{Error, service_fn};
use yunzhao_adapters::aws;
use yunzhao_adapters::config;
use yunzhao_adapters::dynamo::DynamoOrders;
use yunzhao_adapters::wechat::pay::{PayConfig, WeChatPay};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let table = config::required("TABLE_NAME")?;
    let deps = handler::Deps {
        orders: DynamoOrders::new(aws::dynamodb(&aws::sdk_config().await), table),
        pay: WeChatPay::new(PayConfig::from_env()?)?,
    };
    lambda_http::run(service_fn(|req| async { Ok::<_, Error>(handler::handle(&deps, req).await) })).await
}
