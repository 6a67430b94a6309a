mod handler;

use lambda_http::{Error, service_fn};
use yunzhao_adapters::aws;
use yunzhao_adapters::config;
use yunzhao_adapters::dynamo::{DynamoOrders, ReviewQueue};
use yunzhao_http::SessionKeys;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let table = config::required("TABLE_NAME")?;
    let session_key = config::required("SESSION_SIGNING_KEY")?;
    let sdk = aws::sdk_config().await;
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    let deps = handler::Deps {
        orders: DynamoOrders::new(ddb.clone(), &table),
        queue: ReviewQueue::new(ddb.clone(), &table),
        ddb,
        table,
        keys: SessionKeys::from_base64(&session_key, time::Duration::hours(2))?,
    };
    lambda_http::run(service_fn(|req| async { Ok::<_, Error>(handler::handle(&deps, req).await) })).await
}
