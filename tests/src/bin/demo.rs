//! `make demo`: a simulated student walks the journey on the local stack (so far: logs in
//! through the HTTP API), and the demo prints what the service stored.

use anyhow::Context;
use yunzhao_e2e::Stack;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let stack = Stack::from_env().await?;
    println!("API: {}", stack.api);

    let session = stack.log_in(None).await.context("student login")?;
    println!("1. student logged in through POST /v1/session: user {}", session.user_id);

    let me = stack.get("/v1/session", Some(&session.token)).await?;
    println!("2. GET /v1/session with the token: {} {}", me.status, me.body);

    let item = stack.item(&format!("USER#{}", session.user_id), "PROFILE").await?.context("user record missing")?;
    let mut fields: Vec<_> = item.iter().map(|(k, v)| format!("  {k}: {v:?}")).collect();
    fields.sort();
    println!("3. the user's record in DynamoDB (table {}):\n{}", stack.table, fields.join("\n"));
    Ok(())
}
