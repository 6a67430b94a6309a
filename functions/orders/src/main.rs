mod handler;

use lambda_http::Error;
use yunzhao_adapters::aws::{self, Aws};
use yunzhao_adapters::config;
use yunzhao_http::{SessionKeys, StaffGate};

#[tokio::main]
async fn main() -> Result<(), Error> {
    yunzhao_http::init_logs();
    let aws = Aws::from_env().await?;
    let deps = handler::Deps {
        orders: aws.orders(),
        campaigns: aws.campaigns(),
        users: aws.users(),
        bindings: aws.bindings(),
        pay: aws::wechat_pay()?,
        results: handler::Results { blobs: aws.blobs(), bucket: config::required("RESULTS_BUCKET")? },
        keys: SessionKeys::from_base64(&config::required("SESSION_SIGNING_KEY")?, time::Duration::hours(2))?,
        gate: StaffGate::new(aws.staff(), config::staff_session_policy()?),
    };
    yunzhao_http::serve(deps, handler::handle).await
}
