//! Idempotency records (the Powertools model): `PK=IDEMP#<key>`, `SK=IDEMP`, status
//! INPROGRESS or COMPLETED, a lease for the in-progress state and a TTL. A handler claims
//! the key before working and completes it after; on failure it releases it so a retry can
//! work again.

use aws_sdk_dynamodb::Client;
use time::OffsetDateTime;

use super::keys;
use super::{describe, is_condition_failure};
use super::{n, s};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Ours to do.
    Acquired,
    /// Done before: do nothing.
    Completed,
    /// Another invocation holds an unexpired lease: try again later.
    Busy,
}

#[derive(Clone)]
pub struct Idempotency {
    client: Client,
    table: String,
}

impl Idempotency {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    pub async fn claim(&self, key: &str, lease_secs: i64, keep_days: i64) -> Result<Claim, String> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("PK", s(&keys::idempotency(key)))
            .item("SK", s("IDEMP"))
            .item("entity", s("idempotency"))
            .item("status", s("INPROGRESS"))
            .item("in_progress_until", n(now + lease_secs))
            .item("expires_at", n(now + keep_days * 86_400))
            .condition_expression("attribute_not_exists(PK) OR (#status = :busy AND in_progress_until < :now)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":busy", s("INPROGRESS"))
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Claim::Acquired),
            Err(e) if is_condition_failure(&e) => {
                let item = self
                    .client
                    .get_item()
                    .table_name(&self.table)
                    .key("PK", s(&keys::idempotency(key)))
                    .key("SK", s("IDEMP"))
                    .consistent_read(true)
                    .send()
                    .await
                    .map_err(|e| describe(&e))?
                    .item;
                let done = item.and_then(|i| i.get("status").and_then(|v| v.as_s().ok()).cloned()).as_deref()
                    == Some("COMPLETED");
                Ok(if done { Claim::Completed } else { Claim::Busy })
            }
            Err(e) => Err(describe(&e)),
        }
    }

    pub async fn complete(&self, key: &str) -> Result<(), String> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(&keys::idempotency(key)))
            .key("SK", s("IDEMP"))
            .update_expression("SET #status = :done REMOVE in_progress_until")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":done", s("COMPLETED"))
            .send()
            .await
            .map_err(|e| describe(&e))?;
        Ok(())
    }

    pub async fn release(&self, key: &str) -> Result<(), String> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("PK", s(&keys::idempotency(key)))
            .key("SK", s("IDEMP"))
            .send()
            .await
            .map_err(|e| describe(&e))?;
        Ok(())
    }
}
