//! The fake WeChat server: `jscode2session` as WeChat speaks it, plus `/_fake/*` controls.

use anyhow::Context;
use yunzhao_local::{env_or, fake_wechat};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    yunzhao_local::init_logging();
    let addr = env_or("FAKE_WECHAT_ADDR", "127.0.0.1:4010");
    let app = fake_wechat::FakeApp {
        appid: std::env::var("WECHAT_APPID").context("WECHAT_APPID")?,
        app_secret: std::env::var("WECHAT_APP_SECRET").context("WECHAT_APP_SECRET")?,
    };
    let listener = tokio::net::TcpListener::bind(&addr).await.with_context(|| format!("bind {addr}"))?;
    tracing::info!(%addr, "fake WeChat listening");
    axum::serve(listener, fake_wechat::router(app)).await?;
    Ok(())
}
