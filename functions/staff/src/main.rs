mod handler;

use lambda_http::{Error, service_fn};
use yunzhao_adapters::config::{self, ConfigError};
use yunzhao_adapters::wechat::{self, AppClient, WeChatWebLoginClient, web_login};
use yunzhao_adapters::{aws, dynamo::DynamoStaff};
use yunzhao_domain::staff::UnionId;
use yunzhao_http::StaffGate;

struct Config {
    table: String,
    wechat_base: String,
    open_base: String,
    web_appid: String,
    web_app_secret: String,
    console_origin: String,
    first_operator: Option<String>,
}

impl Config {
    fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            table: config::required("TABLE_NAME")?,
            wechat_base: config::optional("WECHAT_API_BASE").unwrap_or_else(|| wechat::API_BASE.into()),
            open_base: config::optional("WECHAT_OPEN_BASE").unwrap_or_else(|| web_login::OPEN_BASE.into()),
            web_appid: config::required("WECHAT_WEB_APPID")?,
            web_app_secret: config::required("WECHAT_WEB_APP_SECRET")?,
            console_origin: config::required("CONSOLE_ORIGIN")?,
            first_operator: config::optional("FIRST_OPERATOR_UNIONID"),
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let cfg = Config::from_env()?;
    let ddb = aws::dynamodb(&aws::sdk_config().await);
    let deps = handler::Deps {
        wechat: WeChatWebLoginClient::new(AppClient::new(cfg.wechat_base, cfg.web_appid.clone(), cfg.web_app_secret)?),
        gate: StaffGate::new(DynamoStaff::new(ddb, cfg.table), config::staff_session_policy()?),
        site: handler::Site {
            open_base: cfg.open_base,
            web_appid: cfg.web_appid,
            origin: cfg.console_origin.trim_end_matches('/').to_owned(),
            first_operator: cfg.first_operator.as_deref().map(UnionId::parse).transpose()?,
        },
    };
    lambda_http::run(service_fn(|req| async { Ok::<_, Error>(handler::handle(&deps, req).await) })).await
}
