//! Plays API Gateway (routes → functions), the SQS event-source mappings and the schedules
//! of infra/template.yaml, as `.local/wiring.json` describes them, against `cargo lambda watch`.

use anyhow::Context;
use yunzhao_local::{env_or, gateway};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    yunzhao_local::init_logging();
    let file = env_or("WIRING_FILE", ".local/wiring.json");
    let wiring: gateway::Wiring =
        serde_json::from_slice(&std::fs::read(&file).with_context(|| format!("read {file}"))?)
            .context("parse wiring")?;
    let addr = env_or("GATEWAY_ADDR", "127.0.0.1:4000");
    // The console's built pages, served on the API's origin (CloudFront does this in AWS).
    let console = std::env::var_os("CONSOLE_DIR").map(std::path::PathBuf::from).filter(|d| d.is_dir());
    gateway::run(wiring, &addr, console).await
}
