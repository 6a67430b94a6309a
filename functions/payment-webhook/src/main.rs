mod handler;

use lambda_http::Error;
use yunzhao_adapters::aws::{self, Aws};

#[tokio::main]
async fn main() -> Result<(), Error> {
    yunzhao_http::init_logs();
    let aws = Aws::from_env().await?;
    let deps = handler::Deps { orders: aws.orders(), pay: aws::wechat_pay()? };
    yunzhao_http::serve(deps, handler::handle).await
}
