//! The fake WeChat server: `jscode2session` as WeChat speaks it, plus `/_fake/*` controls.

use anyhow::Context;
use yunzhao_adapters::wechat::pay::der_from_b64;
use yunzhao_adapters::wechat::pay_crypto::{RsaSigner, RsaVerifier};
use yunzhao_local::{env_or, fake_wechat};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    yunzhao_local::init_logging();
    let addr = env_or("FAKE_WECHAT_ADDR", "127.0.0.1:4010");
    let var = |name: &str| std::env::var(name).with_context(|| name.to_owned());
    let app = fake_wechat::FakeApp {
        appid: var("WECHAT_APPID")?,
        app_secret: var("WECHAT_APP_SECRET")?,
        web_appid: var("WECHAT_WEB_APPID")?,
        web_app_secret: var("WECHAT_WEB_APP_SECRET")?,
    };
    let pay_keys = fake_wechat::pay::PayKeys {
        appid: var("WECHAT_APPID")?,
        mchid: var("WECHATPAY_MCHID")?,
        merchant_public_key: RsaVerifier::from_der(&der_from_b64(&var("WECHATPAY_MERCHANT_PUBLIC_KEY")?)?),
        platform_key: RsaSigner::from_pkcs8_der(&der_from_b64(&var("FAKE_WECHATPAY_PLATFORM_KEY")?)?)?,
        platform_serial: var("FAKE_WECHATPAY_PLATFORM_SERIAL")?,
        apiv3_key: var("WECHATPAY_APIV3_KEY")?.into_bytes(),
    };
    let listener = tokio::net::TcpListener::bind(&addr).await.with_context(|| format!("bind {addr}"))?;
    tracing::info!(%addr, "fake WeChat listening");
    axum::serve(listener, fake_wechat::router(app, pay_keys)).await?;
    Ok(())
}
