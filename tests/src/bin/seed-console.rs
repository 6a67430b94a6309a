//! Prints (as JSON) the data the console's browser tests work on: see `yunzhao_e2e::seed`.

use yunzhao_e2e::{Stack, seed};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let stack = Stack::from_env().await?;
    let n = std::env::var("SEED_IN_REVIEW").ok().and_then(|v| v.parse().ok()).unwrap_or(5);
    println!("{}", serde_json::to_string_pretty(&seed::console(&stack, n).await?)?);
    Ok(())
}
