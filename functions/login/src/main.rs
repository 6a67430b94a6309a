mod handler;

use lambda_http::Error;
use yunzhao_adapters::aws::Aws;
use yunzhao_adapters::{config, wechat};
use yunzhao_http::SessionKeys;

#[tokio::main]
async fn main() -> Result<(), Error> {
    yunzhao_http::init_logs();
    let aws = Aws::from_env().await?;
    let base = config::optional("WECHAT_API_BASE").unwrap_or_else(|| wechat::API_BASE.into());
    let app = wechat::AppClient::new(base, config::required("WECHAT_APPID")?, config::required("WECHAT_APP_SECRET")?)?;
    let minutes = config::parsed("SESSION_TTL_MINUTES", 120)?;
    let deps = handler::Deps {
        wechat: wechat::WeChatLoginClient::new(app),
        users: aws.users(),
        keys: SessionKeys::from_base64(&config::required("SESSION_SIGNING_KEY")?, time::Duration::minutes(minutes))?,
    };
    yunzhao_http::serve(deps, handler::handle).await
}
