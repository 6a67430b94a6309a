//! A function's run loop: JSON logs, then every request (or event) to its handler, with the
//! handler's dependencies built once per container and kept for its life.

use std::future::Future;

use lambda_http::{Body, Error, Request, Response, service_fn};

/// Serves API Gateway requests with `handle` over `deps`.
pub async fn serve<D, F, Fut>(deps: D, handle: F) -> Result<(), Error>
where
    D: Sync + 'static,
    F: Fn(&'static D, Request) -> Fut,
    Fut: Future<Output = Response<Body>> + Send,
{
    // Built once at init and used until the container ends: kept for the process's life.
    let deps: &'static D = Box::leak(Box::new(deps));
    lambda_http::run(service_fn(|req| {
        let response = handle(deps, req);
        async move { Ok::<_, Error>(response.await) }
    }))
    .await
}

/// Serves events (SQS batches, schedules) with `handle` over `deps`.
pub async fn serve_events<D, E, R, F, Fut>(deps: D, handle: F) -> Result<(), Error>
where
    D: Sync + 'static,
    E: serde::de::DeserializeOwned + Send + 'static,
    R: serde::Serialize + Send + 'static,
    F: Fn(&'static D, lambda_runtime::LambdaEvent<E>) -> Fut,
    Fut: Future<Output = Result<R, Error>> + Send,
{
    let deps: &'static D = Box::leak(Box::new(deps));
    lambda_runtime::run(lambda_runtime::service_fn(|event| handle(deps, event))).await
}

/// JSON logs (the Lambda runtime's format), before anything else is read.
pub fn init_logs() {
    lambda_http::tracing::init_default_subscriber();
}
