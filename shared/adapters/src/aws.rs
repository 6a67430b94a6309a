//! AWS SDK configuration, loaded once per container. `AWS_ENDPOINT_URL` (the SDK's standard
//! variable) points every client at LocalStack when running locally.

pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// S3 with path-style addresses when an endpoint is overridden (LocalStack has no
/// per-bucket host names here); virtual-hosted style in AWS.
pub fn s3_client(sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    let local = std::env::var_os("AWS_ENDPOINT_URL").is_some();
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(sdk).force_path_style(local).build())
}

/// The clients, built here so the functions never name the SDK.
pub fn dynamodb(sdk: &aws_config::SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(sdk)
}

pub fn kms(sdk: &aws_config::SdkConfig) -> aws_sdk_kms::Client {
    aws_sdk_kms::Client::new(sdk)
}

use std::sync::Arc;

use crate::blobs::Blobs;
use crate::config::{self, ConfigError};
use crate::crypto::{Envelope, LookupHasher};
use crate::dynamo::idempotency::Idempotency;
use crate::dynamo::roster::DynamoBindings;
use crate::dynamo::{
    DynamoCampaigns, DynamoCounters, DynamoExports, DynamoOrders, DynamoRoster, DynamoStaff, DynamoUsers, ReviewQueue,
};
use crate::queues::JobQueue;
use crate::s3_post::Presigner;
use crate::wechat::pay::{PayConfig, WeChatPay};

/// What a function's `main` builds its adapters from, read once per container: the SDK's
/// configuration, the table (`TABLE_NAME`) and the settings each adapter needs.
pub struct Aws {
    sdk: aws_config::SdkConfig,
    ddb: aws_sdk_dynamodb::Client,
    table: String,
}

impl Aws {
    pub async fn from_env() -> Result<Self, ConfigError> {
        let table = config::required("TABLE_NAME")?;
        let sdk = sdk_config().await;
        Ok(Self { ddb: dynamodb(&sdk), sdk, table })
    }

    pub fn orders(&self) -> DynamoOrders {
        DynamoOrders::new(self.ddb.clone(), &self.table)
    }

    pub fn campaigns(&self) -> DynamoCampaigns {
        DynamoCampaigns::new(self.ddb.clone(), &self.table)
    }

    pub fn users(&self) -> DynamoUsers {
        DynamoUsers::new(self.ddb.clone(), &self.table)
    }

    pub fn consents(&self) -> crate::dynamo::DynamoConsents {
        crate::dynamo::DynamoConsents::new(self.ddb.clone(), &self.table)
    }

    pub fn bindings(&self) -> DynamoBindings {
        DynamoBindings::new(self.ddb.clone(), &self.table)
    }

    pub fn staff(&self) -> DynamoStaff {
        DynamoStaff::new(self.ddb.clone(), &self.table)
    }

    pub fn exports(&self) -> DynamoExports {
        DynamoExports::new(self.ddb.clone(), &self.table)
    }

    pub fn counters(&self) -> DynamoCounters {
        DynamoCounters::new(self.ddb.clone(), &self.table)
    }

    pub fn review_queue(&self) -> ReviewQueue {
        ReviewQueue::new(self.ddb.clone(), &self.table)
    }

    pub fn idempotency(&self) -> Idempotency {
        Idempotency::new(self.ddb.clone(), &self.table)
    }

    /// The roster, its lookups keyed by `LOOKUP_HMAC_KEY`; `data_key_id` seals what it
    /// writes (`None`: it reads only).
    pub fn roster(&self, data_key_id: Option<String>) -> Result<DynamoRoster, ConfigError> {
        let hasher = lookup_hasher()?;
        Ok(match data_key_id {
            Some(key) => DynamoRoster::new(self.ddb.clone(), &self.table, hasher, Arc::new(self.envelope(key))),
            None => DynamoRoster::read_only(self.ddb.clone(), &self.table, hasher),
        })
    }

    /// Opens and seals with the KMS key `key_id`.
    pub fn envelope(&self, key_id: String) -> Envelope {
        Envelope::new(kms(&self.sdk), key_id)
    }

    pub fn blobs(&self) -> Blobs {
        Blobs::new(&self.sdk)
    }

    /// Presigned POST forms into `bucket`.
    pub fn presigner(&self, bucket: impl Into<String>) -> Result<Presigner, ConfigError> {
        Presigner::from_sdk(&self.sdk, bucket)
    }

    /// The queue at the URL in `url_variable`.
    pub fn queue(&self, url_variable: &'static str) -> Result<JobQueue, ConfigError> {
        Ok(JobQueue::new(&self.sdk, config::required(url_variable)?))
    }

    /// Dead-letter queues by name, each at the URL in its variable.
    pub fn dead_letters(
        &self,
        queues: &[(&'static str, &'static str)],
    ) -> Result<crate::queues::DeadLetters, ConfigError> {
        let urls = queues.iter().map(|(name, var)| Ok((*name, config::required(var)?))).collect::<Result<_, _>>()?;
        Ok(crate::queues::DeadLetters::new(&self.sdk, urls))
    }
}

/// WeChat Pay, with the merchant's settings from the environment.
pub fn wechat_pay() -> Result<WeChatPay, Box<dyn std::error::Error + Send + Sync>> {
    Ok(WeChatPay::new(PayConfig::from_env()?)?)
}

/// The roster lookups' key (`LOOKUP_HMAC_KEY`, base64).
fn lookup_hasher() -> Result<Arc<LookupHasher>, ConfigError> {
    use base64::Engine;
    let key = config::required("LOOKUP_HMAC_KEY")?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(key.trim())
        .map_err(|e| ConfigError::Invalid("LOOKUP_HMAC_KEY", e.to_string()))?;
    Ok(Arc::new(LookupHasher::new(&bytes)))
}
