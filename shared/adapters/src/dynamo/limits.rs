//! Fixed-window attempt counters: `PK=RATE#<scope>`, `SK=W#<window start>`, expiring by TTL
//! a minute after their window ends. An attempt is taken by one conditional increment, so
//! attempts arriving at once never pass the limit together.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use time::OffsetDateTime;
use yunzhao_domain::identity::{AttemptCounter, Limit, StoreError};

use super::keys;
use super::{describe, is_condition_failure};

#[derive(Clone)]
pub struct DynamoCounters {
    client: Client,
    table: String,
}

impl DynamoCounters {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }
}

fn key(scope: &str, limit: Limit, now: OffsetDateTime) -> (AttributeValue, AttributeValue) {
    (AttributeValue::S(keys::rate(scope)), AttributeValue::S(keys::window(limit.window_start(now))))
}

impl AttemptCounter for DynamoCounters {
    async fn take(&self, scope: &str, limit: Limit, now: OffsetDateTime) -> Result<bool, StoreError> {
        let (pk, sk) = key(scope, limit, now);
        let expires = limit.window_start(now) + limit.window.whole_seconds() + 60;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", pk)
            .key("SK", sk)
            .update_expression("ADD #count :one SET expires_at = :exp")
            .condition_expression("attribute_not_exists(#count) OR #count < :max")
            .expression_attribute_names("#count", "count")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":max", AttributeValue::N(limit.max_failures.to_string()))
            .expression_attribute_values(":exp", AttributeValue::N(expires.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(StoreError::Unavailable(describe(&e))),
        }
    }

    async fn give_back(&self, scope: &str, limit: Limit, now: OffsetDateTime) -> Result<(), StoreError> {
        let (pk, sk) = key(scope, limit, now);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", pk)
            .key("SK", sk)
            .update_expression("ADD #count :minus")
            .condition_expression("#count > :zero")
            .expression_attribute_names("#count", "count")
            .expression_attribute_values(":minus", AttributeValue::N("-1".into()))
            .expression_attribute_values(":zero", AttributeValue::N("0".into()))
            .send()
            .await;
        match result {
            // Nothing to give back (a new window began in between): nothing to do.
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Ok(()),
            Err(e) => Err(StoreError::Unavailable(describe(&e))),
        }
    }
}
