mod archive;
mod handler;

use lambda_runtime::{Error, service_fn};
use yunzhao_adapters::aws;
use yunzhao_adapters::config;
use yunzhao_adapters::crypto::Envelope;
use yunzhao_adapters::dynamo::roster::DynamoBindings;
use yunzhao_adapters::dynamo::{DynamoCampaigns, DynamoExports, DynamoOrders};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let table = config::required("TABLE_NAME")?;
    let sdk = aws::sdk_config().await;
    let ddb = aws::dynamodb(&sdk);
    let deps = handler::Deps {
        orders: DynamoOrders::new(ddb.clone(), &table),
        campaigns: DynamoCampaigns::new(ddb.clone(), &table),
        exports: DynamoExports::new(ddb.clone(), &table),
        envelope: Envelope::new(aws::kms(&sdk), config::required("DATA_KEY_ID")?),
        bindings: DynamoBindings::new(ddb, table),
        blobs: yunzhao_adapters::blobs::Blobs::new(&sdk),
        results_bucket: config::required("RESULTS_BUCKET")?,
    };
    lambda_runtime::run(service_fn(|event| handler::handle(&deps, event))).await
}
