mod handler;
mod pipeline;

use std::sync::Arc;

use lambda_runtime::Error;
use yunzhao_adapters::aws::Aws;
use yunzhao_adapters::blobs::UploadPhotos;
use yunzhao_adapters::config;

#[tokio::main]
async fn main() -> Result<(), Error> {
    yunzhao_http::init_logs();
    let aws = Aws::from_env().await?;
    // The models load once per container, in the init phase; a function of 2048 MB has two
    // vCPUs and the networks' matrix products use both.
    yunzhao_imaging::use_threads(std::thread::available_parallelism().map_or(1, |n| n.get().min(2)));
    let models = yunzhao_imaging::Models::load(std::path::Path::new(&config::required("MODELS_DIR")?))?;
    let deps = handler::Deps {
        orders: aws.orders(),
        campaigns: aws.campaigns(),
        idempotency: aws.idempotency(),
        photos: UploadPhotos { blobs: aws.blobs(), results_bucket: config::required("RESULTS_BUCKET")? },
        pipeline: pipeline::Pipeline(Arc::new(models)),
    };
    yunzhao_http::serve_events(deps, handler::handle).await
}
