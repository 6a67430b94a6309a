//! AWS SDK configuration, loaded once per container. `AWS_ENDPOINT_URL` (the SDK's standard
//! variable) points every client at LocalStack when running locally.

pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}
