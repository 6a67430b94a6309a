//! The local gateway: what API Gateway, Lambda event-source mappings and EventBridge
//! schedules do in AWS, done against functions running under `cargo lambda watch`.
//! `infra/local/deploy.py` derives its wiring from infra/template.yaml.

mod api;
mod invoke;
mod queues;
mod schedules;

use anyhow::Context;
use serde::Deserialize;

pub use invoke::Invoker;

#[derive(Debug, Clone, Deserialize)]
pub struct Wiring {
    /// `cargo lambda watch`'s Invoke API.
    pub invoke_url: String,
    #[serde(default)]
    pub routes: Vec<Route>,
    #[serde(default)]
    pub queues: Vec<QueueMapping>,
    #[serde(default)]
    pub schedules: Vec<Schedule>,
}

/// An HTTP API route: `METHOD /path/{param}` → function.
#[derive(Debug, Clone, Deserialize)]
pub struct Route {
    pub method: String,
    pub path: String,
    pub function: String,
}

/// An SQS event source of a function.
#[derive(Debug, Clone, Deserialize)]
pub struct QueueMapping {
    pub function: String,
    pub queue_url: String,
    pub queue_arn: String,
    pub batch_size: i32,
    pub report_batch_item_failures: bool,
}

/// A schedule (`rate(...)`) invoking a function.
#[derive(Debug, Clone, Deserialize)]
pub struct Schedule {
    pub function: String,
    pub name: String,
    pub every_seconds: u64,
}

pub async fn run(wiring: Wiring, addr: &str, console_dir: Option<std::path::PathBuf>) -> anyhow::Result<()> {
    let invoker = Invoker::new(&wiring.invoke_url)?;
    if !wiring.queues.is_empty() {
        let sqs = aws_sdk_sqs::Client::new(&aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await);
        for mapping in wiring.queues.clone() {
            tokio::spawn(queues::poll(sqs.clone(), invoker.clone(), mapping));
        }
    }
    for schedule in wiring.schedules.clone() {
        tokio::spawn(schedules::tick(invoker.clone(), schedule));
    }
    let app = api::router(&wiring.routes, invoker, console_dir.as_deref());
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("bind {addr}"))?;
    tracing::info!(%addr, routes = wiring.routes.len(), queues = wiring.queues.len(), schedules = wiring.schedules.len(), "gateway listening");
    axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await?;
    Ok(())
}
