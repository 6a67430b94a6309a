//! The single DynamoDB table. Keys are `PK`/`SK` strings; each entity documents its own
//! key shapes. Every state change is a conditional write.

pub mod campaigns;
pub mod exports;
pub mod idempotency;
pub mod inspect;
pub mod keys;
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
pub use users::{DynamoConsents, DynamoUsers};

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::get_item::GetItemError;
use aws_sdk_dynamodb::operation::query::QueryError;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;

pub(crate) type Item = std::collections::HashMap<String, AttributeValue>;

/// A store that did not answer (or refused for now): worth a retry.
pub(crate) fn unavailable<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    e: &SdkError<E, R>,
) -> yunzhao_domain::StoreError {
    yunzhao_domain::StoreError::Unavailable(describe(e))
}

/// A record that does not read (or a request that cannot be built from it): a bug.
pub(crate) fn corrupt(e: impl std::fmt::Display) -> yunzhao_domain::StoreError {
    yunzhao_domain::StoreError::Corrupt(e.to_string())
}

/// A string attribute.
pub(crate) fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

/// A number attribute.
pub(crate) fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// Every item a query matches, across all its pages (the SDK's paginator).
pub(crate) async fn query_all(
    query: QueryFluentBuilder,
) -> Result<Vec<Item>, SdkError<QueryError, aws_sdk_dynamodb::config::http::HttpResponse>> {
    query.into_paginator().items().send().collect().await
}

/// An item as the stores write it: its table and index keys ([`keys`]), what kind of thing it
/// is, and the entity's own fields beside them. Every typed item is one of these.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct Stored<T> {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    #[serde(rename = "GSI1PK", default, skip_serializing_if = "Option::is_none")]
    pub gsi1pk: Option<String>,
    #[serde(rename = "GSI1SK", default, skip_serializing_if = "Option::is_none")]
    pub gsi1sk: Option<String>,
    #[serde(rename = "GSI2PK", default, skip_serializing_if = "Option::is_none")]
    pub gsi2pk: Option<String>,
    #[serde(rename = "GSI2SK", default, skip_serializing_if = "Option::is_none")]
    pub gsi2sk: Option<String>,
    pub entity: String,
    #[serde(flatten)]
    pub body: T,
}

impl<T> Stored<T> {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>, entity: &str, body: T) -> Self {
        let (gsi1pk, gsi1sk, gsi2pk, gsi2sk) = (None, None, None, None);
        Self { pk: pk.into(), sk: sk.into(), gsi1pk, gsi1sk, gsi2pk, gsi2sk, entity: entity.to_owned(), body }
    }

    /// Also under GSI1 at `pk`/`sk`.
    pub fn gsi1(self, pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self { gsi1pk: Some(pk.into()), gsi1sk: Some(sk.into()), ..self }
    }

    /// Also under GSI2 at `pk`/`sk`.
    pub fn gsi2(self, pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self { gsi2pk: Some(pk.into()), gsi2sk: Some(sk.into()), ..self }
    }
}

impl<T: serde::Serialize> Stored<T> {
    pub fn item(&self) -> Result<Item, serde_dynamo::Error> {
        serde_dynamo::to_item(self)
    }
}

/// The entity an item holds.
pub(crate) fn read<T: serde::de::DeserializeOwned>(item: Item) -> Result<T, serde_dynamo::Error> {
    Ok(serde_dynamo::from_item::<_, Stored<T>>(item)?.body)
}

/// One item by key, read strongly consistent (a read right after a write sees it).
pub(crate) async fn get_item(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    pk: &str,
    sk: &str,
) -> Result<Option<Item>, SdkError<GetItemError, aws_sdk_dynamodb::config::http::HttpResponse>> {
    let get = client.get_item().table_name(table);
    let get = get.key("PK", AttributeValue::S(pk.to_owned())).key("SK", AttributeValue::S(sk.to_owned()));
    Ok(get.consistent_read(true).send().await?.item)
}

/// A query of the items of partition `pk` whose sort key starts with `prefix`, to page
/// through with [`query_all`] (or to narrow further first).
pub(crate) fn query_prefix(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    pk: &str,
    prefix: &str,
) -> QueryFluentBuilder {
    client
        .query()
        .table_name(table)
        .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
        .expression_attribute_values(":pk", AttributeValue::S(pk.to_owned()))
        .expression_attribute_values(":prefix", AttributeValue::S(prefix.to_owned()))
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
    e.as_service_error().and_then(cancellation) == Some(Cancelled::ByCondition)
}

/// The reasons a transaction was cancelled, one per item (`None`: not a cancellation).
pub(crate) fn cancellation_codes(
    e: &aws_sdk_dynamodb::error::SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
        aws_sdk_dynamodb::config::http::HttpResponse,
    >,
) -> Option<Vec<String>> {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError as E;
    match e.as_service_error() {
        Some(E::TransactionCanceledException(t)) => {
            Some(t.cancellation_reasons().iter().map(|r| r.code().unwrap_or("None").to_owned()).collect())
        }
        _ => None,
    }
}

/// What a cancelled transaction's reasons say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cancelled {
    /// One of its conditions failed: a lost race or an illegal change, reported as such.
    ByCondition,
    /// Only conflicting transactions or throttling: worth another try.
    Retryable,
    /// Something else (a validation error, an item too large): the store's error.
    Other,
}

/// The reasons of a cancelled transaction, read; `None` when it was not a cancellation. A
/// store that gives no reasons (some local emulators) is read as a condition failure.
pub(crate) fn cancellation(
    e: &aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
) -> Option<Cancelled> {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError as E;
    let E::TransactionCanceledException(t) = e else { return None };
    let reasons = t.cancellation_reasons();
    if reasons.is_empty() || reasons.iter().any(|r| r.code() == Some("ConditionalCheckFailed")) {
        return Some(Cancelled::ByCondition);
    }
    let retryable =
        |code: Option<&str>| matches!(code, None | Some("None" | "TransactionConflict" | "ThrottlingError"));
    if reasons.iter().all(|r| retryable(r.code())) { Some(Cancelled::Retryable) } else { Some(Cancelled::Other) }
}

/// Tries of a transaction cancelled only by conflicting transactions.
const TRANSACT_TRIES: u32 = 4;

/// Sends a transaction, again (after 20, 40, 80 ms and a little jitter) while it is cancelled
/// only because other transactions were writing the same items at that moment; a failed
/// condition or any other error is returned at once.
pub(crate) async fn transact_retrying(
    client: &aws_sdk_dynamodb::Client,
    items: Vec<aws_sdk_dynamodb::types::TransactWriteItem>,
) -> Result<
    (),
    SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
        aws_sdk_dynamodb::config::http::HttpResponse,
    >,
> {
    let mut tries = 0;
    loop {
        tries += 1;
        let result = client.transact_write_items().set_transact_items(Some(items.clone())).send().await;
        match result {
            Ok(_) => return Ok(()),
            Err(e)
                if tries < TRANSACT_TRIES
                    && e.as_service_error().and_then(cancellation) == Some(Cancelled::Retryable) =>
            {
                let jitter = u64::from(uuid::Uuid::new_v4().as_bytes()[0] % 16);
                tokio::time::sleep(std::time::Duration::from_millis((10 << tries) + jitter)).await;
            }
            Err(e) => return Err(e),
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    use aws_sdk_dynamodb::types::CancellationReason;
    use aws_sdk_dynamodb::types::error::TransactionCanceledException;

    fn cancelled(codes: &[&str]) -> TransactWriteItemsError {
        let reasons = codes.iter().map(|c| CancellationReason::builder().code(*c).build()).collect();
        TransactWriteItemsError::TransactionCanceledException(
            TransactionCanceledException::builder().set_cancellation_reasons(Some(reasons)).build(),
        )
    }

    #[test]
    fn a_conflicting_transaction_is_retried_and_only_a_failed_condition_is_a_lost_race() {
        assert_eq!(cancellation(&cancelled(&["None", "TransactionConflict"])), Some(Cancelled::Retryable));
        assert_eq!(cancellation(&cancelled(&["ThrottlingError", "None"])), Some(Cancelled::Retryable));
        assert_eq!(cancellation(&cancelled(&["ConditionalCheckFailed", "None"])), Some(Cancelled::ByCondition));
        assert_eq!(
            cancellation(&cancelled(&["TransactionConflict", "ConditionalCheckFailed"])),
            Some(Cancelled::ByCondition),
            "a failed condition wins: retrying cannot help"
        );
        assert_eq!(cancellation(&cancelled(&[])), Some(Cancelled::ByCondition), "no reasons given");
        assert_eq!(cancellation(&cancelled(&["ValidationError"])), Some(Cancelled::Other));
        let other =
            TransactWriteItemsError::generic(aws_sdk_dynamodb::error::ErrorMetadata::builder().code("Boom").build());
        assert_eq!(cancellation(&other), None);
    }
}
