//! Fixed-window failure counters: `PK=RATE#<scope>`, `SK=W#<window start>`, expiring by TTL
//! a minute after their window ends.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use time::OffsetDateTime;
use yunzhao_domain::identity::{FailureCounter, Limit, StoreError};

use super::describe;

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
    (AttributeValue::S(format!("RATE#{scope}")), AttributeValue::S(format!("W#{}", limit.window_start(now))))
}

impl FailureCounter for DynamoCounters {
    async fn failures(&self, scope: &str, limit: Limit, now: OffsetDateTime) -> Result<u32, StoreError> {
        let (pk, sk) = key(scope, limit, now);
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("PK", pk)
            .key("SK", sk)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError(describe(&e)))?;
        Ok(out.item.and_then(|i| i.get("count").and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok())).unwrap_or(0))
    }

    async fn record_failure(&self, scope: &str, limit: Limit, now: OffsetDateTime) -> Result<(), StoreError> {
        let (pk, sk) = key(scope, limit, now);
        let expires = limit.window_start(now) + limit.window.whole_seconds() + 60;
        self.client
            .update_item()
            .table_name(&self.table)
            .key("PK", pk)
            .key("SK", sk)
            .update_expression("ADD #count :one SET expires_at = :exp")
            .expression_attribute_names("#count", "count")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":exp", AttributeValue::N(expires.to_string()))
            .send()
            .await
            .map_err(|e| StoreError(describe(&e)))?;
        Ok(())
    }
}
