mod handler;

use lambda_http::Error;
use yunzhao_adapters::aws::{self, Aws};
use yunzhao_adapters::config;
use yunzhao_http::StaffGate;

#[tokio::main]
async fn main() -> Result<(), Error> {
    yunzhao_http::init_logs();
    let aws = Aws::from_env().await?;
    let deps = handler::Deps {
        orders: aws.orders(),
        campaigns: aws.campaigns(),
        dead_letters: aws.dead_letters(&[("standardize", "STANDARDIZE_DLQ_URL"), ("export", "EXPORT_DLQ_URL")])?,
        queue: aws.review_queue(),
        roster: aws.roster(None)?,
        pay: aws::wechat_pay()?,
        gate: StaffGate::new(aws.staff(), config::staff_session_policy()?),
        bindings: aws.bindings(),
        consents: aws.consents(),
    };
    yunzhao_http::serve(deps, handler::handle).await
}
