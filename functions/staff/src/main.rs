mod handler;

use lambda_http::Error;
use yunzhao_adapters::aws::Aws;
use yunzhao_adapters::config;
use yunzhao_adapters::wechat::{self, AppClient, WeChatWebLoginClient, web_login};
use yunzhao_domain::staff::UnionId;
use yunzhao_http::StaffGate;

#[tokio::main]
async fn main() -> Result<(), Error> {
    yunzhao_http::init_logs();
    let aws = Aws::from_env().await?;
    let base = config::optional("WECHAT_API_BASE").unwrap_or_else(|| wechat::API_BASE.into());
    let web_appid = config::required("WECHAT_WEB_APPID")?;
    let app = AppClient::new(base, web_appid.clone(), config::required("WECHAT_WEB_APP_SECRET")?)?;
    let deps = handler::Deps {
        wechat: WeChatWebLoginClient::new(app),
        gate: StaffGate::new(aws.staff(), config::staff_session_policy()?),
        site: handler::Site {
            open_base: config::optional("WECHAT_OPEN_BASE").unwrap_or_else(|| web_login::OPEN_BASE.into()),
            web_appid,
            origin: config::required("CONSOLE_ORIGIN")?.trim_end_matches('/').to_owned(),
            first_operator: config::optional("FIRST_OPERATOR_UNIONID").as_deref().map(UnionId::parse).transpose()?,
        },
    };
    yunzhao_http::serve(deps, handler::handle).await
}
