mod handler;

use lambda_http::{Error, service_fn};
use yunzhao_adapters::config::{self, ConfigError};
use yunzhao_adapters::{aws, dynamo::DynamoUsers, wechat};
use yunzhao_http::SessionKeys;

struct Config {
    table: String,
    wechat_base: String,
    appid: String,
    app_secret: String,
    session_key: String,
    session_minutes: i64,
}

impl Config {
    fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            table: config::required("TABLE_NAME")?,
            wechat_base: config::optional("WECHAT_API_BASE").unwrap_or_else(|| wechat::API_BASE.into()),
            appid: config::required("WECHAT_APPID")?,
            app_secret: config::required("WECHAT_APP_SECRET")?,
            session_key: config::required("SESSION_SIGNING_KEY")?,
            session_minutes: config::parsed("SESSION_TTL_MINUTES", 120)?,
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let cfg = Config::from_env()?;
    let deps = handler::Deps {
        wechat: wechat::WeChatLoginClient::new(wechat::AppClient::new(cfg.wechat_base, cfg.appid, cfg.app_secret)?),
        users: DynamoUsers::new(aws::dynamodb(&aws::sdk_config().await), cfg.table),
        keys: SessionKeys::from_base64(&cfg.session_key, time::Duration::minutes(cfg.session_minutes))?,
    };
    lambda_http::run(service_fn(|req| async { Ok::<_, Error>(handler::handle(&deps, req).await) })).await
}
