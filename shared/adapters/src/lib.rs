//! Adapters: DynamoDB, S3, SQS and WeChat clients that implement the domain's ports, and
//! the typed configuration every function reads once at start-up.

pub mod aws;
pub mod blobs;
pub mod config;
pub mod crypto;
pub mod dynamo;
pub mod queues;
pub mod roster_file;
pub mod s3_post;
pub mod wechat;

/// Now, in milliseconds since the epoch: the unit of queue, audit and export times.
pub fn now_ms() -> i64 {
    yunzhao_domain::millis(time::OffsetDateTime::now_utc())
}
