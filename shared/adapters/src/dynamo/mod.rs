//! The single DynamoDB table. Keys are `PK`/`SK` strings; each entity documents its own
//! key shapes. Every state change is a conditional write.

pub mod campaigns;
pub mod exports;
pub mod idempotency;
pub mod limits;
pub mod orders;
pub mod review;
pub mod roster;
pub mod staff;
pub mod users;

pub use campaigns::DynamoCampaigns;
pub use exports::DynamoExports;
pub use limits::DynamoCounters;
pub use orders::DynamoOrders;
pub use review::ReviewQueue;
pub use roster::DynamoRoster;
pub use staff::DynamoStaff;
pub use users::DynamoUsers;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::query::QueryError;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;

pub(crate) type Item = std::collections::HashMap<String, AttributeValue>;

/// Every item a query matches, across all its pages (the SDK's paginator).
pub(crate) async fn query_all(
    query: QueryFluentBuilder,
) -> Result<Vec<Item>, SdkError<QueryError, aws_sdk_dynamodb::config::http::HttpResponse>> {
    query.into_paginator().items().send().collect().await
}

/// Whether a failed request is a failed condition (a lost race or an illegal transition),
/// as opposed to the store being unavailable.
pub(crate) fn is_condition_failure<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    matches!(e.code(), Some("ConditionalCheckFailedException" | "TransactionCanceledException"))
}

/// Whether a cancelled transaction was cancelled by one of its conditions (a lost race), as
/// opposed to throttling or a conflicting transaction, which are worth a retry. A store that
/// gives no reasons (some local emulators) is read as a condition failure.
pub(crate) fn cancelled_by_condition(
    e: &SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
        aws_sdk_dynamodb::config::http::HttpResponse,
    >,
) -> bool {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError as E;
    match e.as_service_error() {
        Some(E::TransactionCanceledException(t)) => {
            let reasons = t.cancellation_reasons();
            reasons.is_empty() || reasons.iter().any(|r| r.code() == Some("ConditionalCheckFailed"))
        }
        _ => false,
    }
}

/// Text of an SDK error for the log: code and message only, never request contents.
pub(crate) fn describe<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    e: &SdkError<E, R>,
) -> String {
    match (e.code(), e.message()) {
        (Some(code), Some(msg)) => format!("{code}: {msg}"),
        (Some(code), None) => code.to_owned(),
        _ => format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(e)),
    }
}
