mod handler;

use lambda_runtime::Error;
use yunzhao_adapters::aws::{self, Aws};

#[tokio::main]
async fn main() -> Result<(), Error> {
    yunzhao_http::init_logs();
    let aws = Aws::from_env().await?;
    let deps = handler::Deps {
        campaigns: aws.campaigns(),
        orders: aws.orders(),
        exports: aws.exports(),
        pay: aws::wechat_pay()?,
        export_queue: aws.queue("EXPORT_QUEUE_URL")?,
    };
    yunzhao_http::serve_events(deps, handler::handle).await
}
