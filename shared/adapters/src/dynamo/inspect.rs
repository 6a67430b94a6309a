//! The table seen from outside, for the end-to-end tests: items as JSON, read by key or by
//! partition, and changed by hand to set up what a test needs (a short counter, an order an
//! hour stuck). No function uses it.

use serde_json::{Map, Value};

use super::{Item, describe, query_all, s};

#[derive(Debug, thiserror::Error)]
#[error("table: {0}")]
pub struct InspectError(String);

fn err(e: impl std::fmt::Display) -> InspectError {
    InspectError(e.to_string())
}

fn json(item: Item) -> Result<Value, InspectError> {
    serde_dynamo::from_item(item).map_err(err)
}

#[derive(Clone)]
pub struct Table {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl Table {
    pub fn new(sdk: &aws_config::SdkConfig, table: impl Into<String>) -> Self {
        Self { client: crate::aws::dynamodb(sdk), table: table.into() }
    }

    /// The item at `pk`/`sk` (a strongly consistent read).
    pub async fn get(&self, pk: &str, sk: &str) -> Result<Option<Value>, InspectError> {
        let item = super::get_item(&self.client, &self.table, pk, sk).await.map_err(|e| InspectError(describe(&e)))?;
        item.map(json).transpose()
    }

    /// The items of partition `pk` whose sort key starts with `sk_prefix` (all of them for
    /// ""), consistent.
    pub async fn query(&self, pk: &str, sk_prefix: &str) -> Result<Vec<Value>, InspectError> {
        let query = if sk_prefix.is_empty() {
            let whole = self.client.query().table_name(&self.table).key_condition_expression("PK = :pk");
            whole.expression_attribute_values(":pk", s(pk))
        } else {
            super::query_prefix(&self.client, &self.table, pk, sk_prefix)
        };
        let query = query.consistent_read(true);
        query_all(query).await.map_err(|e| InspectError(describe(&e)))?.into_iter().map(json).collect()
    }

    /// Sets the attributes `fields` names (a JSON object) on the item at `pk`/`sk`.
    pub async fn set(&self, pk: &str, sk: &str, fields: &Map<String, Value>) -> Result<(), InspectError> {
        let mut update = self.client.update_item().table_name(&self.table).key("PK", s(pk)).key("SK", s(sk));
        let mut sets = Vec::new();
        for (i, (name, value)) in fields.iter().enumerate() {
            sets.push(format!("#n{i} = :v{i}"));
            update = update
                .expression_attribute_names(format!("#n{i}"), name)
                .expression_attribute_values(format!(":v{i}"), serde_dynamo::to_attribute_value(value).map_err(err)?);
        }
        update
            .update_expression(format!("SET {}", sets.join(", ")))
            .send()
            .await
            .map_err(|e| InspectError(describe(&e)))?;
        Ok(())
    }

    pub async fn delete(&self, pk: &str, sk: &str) -> Result<(), InspectError> {
        let delete = self.client.delete_item().table_name(&self.table).key("PK", s(pk)).key("SK", s(sk));
        delete.send().await.map_err(|e| InspectError(describe(&e)))?;
        Ok(())
    }
}
