mod handler;

use std::sync::Arc;

use lambda_runtime::{Error, service_fn};
use yunzhao_adapters::aws;
use yunzhao_adapters::config;
use yunzhao_adapters::dynamo::idempotency::Idempotency;
use yunzhao_adapters::dynamo::{DynamoCampaigns, DynamoOrders};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let table = config::required("TABLE_NAME")?;
    let sdk = aws::sdk_config().await;
    let ddb = aws::dynamodb(&sdk);
    // The models load once per container, in the init phase; a function of 2048 MB has two
    // vCPUs and the networks' matrix products use both.
    yunzhao_imaging::use_threads(std::thread::available_parallelism().map_or(1, |n| n.get().min(2)));
    let models = yunzhao_imaging::Models::load(std::path::Path::new(&config::required("MODELS_DIR")?))?;
    let deps = handler::Deps {
        orders: DynamoOrders::new(ddb.clone(), &table),
        campaigns: DynamoCampaigns::new(ddb.clone(), &table),
        idempotency: Idempotency::new(ddb.clone(), &table),
        blobs: yunzhao_adapters::blobs::Blobs::new(&sdk),
        results_bucket: config::required("RESULTS_BUCKET")?,
        models: Arc::new(models),
    };
    lambda_runtime::run(service_fn(|event| handler::handle(&deps, event))).await
}
