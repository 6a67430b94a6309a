//! The review queue and the audit trail in the table:
//! - `PK=REVIEWQ#<campaign>`, `SK=TASK#<task_id>`: a photo waiting for a reviewer, `task_id` =
//!   `<queued_at millis, 13 digits>-<out_trade_no>` so a query returns the oldest first. A claim
//!   is a lease (`lease_by`, `lease_until`) written under the condition that no live lease
//!   exists; a decision deletes the task under the condition that the decider holds the lease,
//!   in the same transaction as the order's transition. `GSI1PK=REVIEW_TASKS`,
//!   `GSI1SK=<queued_at>#<campaign>#<no>` lists every waiting task of every campaign, oldest
//!   first, for the reviewers' overview (an index of the tasks themselves: nothing to drift).
//! - `PK=ORDER#<no>`, `SK=AUDIT#<millis>#<rand>`: who looked at or acted on an order's photos.
//!
//! The queue lives in DynamoDB rather than SQS because reviewers need what SQS cannot give:
//! a task per campaign, its depth and oldest age, and a decision that removes the task
//! atomically with the order's change.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};
use serde::{Deserialize, Serialize};
use yunzhao_domain::order::OutTradeNo;

use super::{describe, is_condition_failure, query_all};

#[derive(Debug, thiserror::Error)]
#[error("review store: {0}")]
pub struct ReviewStoreError(pub String);

fn err<E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    e: &aws_sdk_dynamodb::error::SdkError<E, R>,
) -> ReviewStoreError {
    ReviewStoreError(describe(e))
}

fn corrupt(e: impl std::fmt::Display) -> ReviewStoreError {
    ReviewStoreError(format!("corrupt: {e}"))
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewTask {
    pub task_id: String,
    pub campaign_id: String,
    pub out_trade_no: OutTradeNo,
    pub attempt: u32,
    /// Where the attempt's results are in the results bucket.
    pub result_prefix: String,
    /// Where the original upload is in the uploads bucket.
    pub upload_key: String,
    /// Which version of `upload_key` the attempt took (the one standardized): reviewers are
    /// shown that one, never a later write to the key. `None` for tasks queued before the
    /// uploads bucket was versioned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_version: Option<String>,
    pub queued_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_until: Option<i64>,
}

impl ReviewTask {
    pub fn new(
        campaign_id: &str,
        no: &OutTradeNo,
        attempt: u32,
        result_prefix: String,
        upload_key: String,
        upload_version: Option<String>,
        now_ms: i64,
    ) -> Self {
        Self {
            task_id: format!("{now_ms:013}-{no}"),
            campaign_id: campaign_id.to_owned(),
            out_trade_no: no.clone(),
            attempt,
            result_prefix,
            upload_key,
            upload_version,
            queued_at: now_ms,
            lease_by: None,
            lease_until: None,
        }
    }

    pub fn held_by(&self, who: &str, now_ms: i64) -> bool {
        self.lease_by.as_deref() == Some(who) && self.lease_until.is_some_and(|u| u > now_ms)
    }

    fn free(&self, now_ms: i64) -> bool {
        self.lease_until.is_none_or(|u| u <= now_ms)
    }
}

/// The most tasks of one campaign a reviewer holds at once: the photo on screen, the next
/// one claimed ahead, and one whose decision is still on its way.
pub const MAX_HELD: usize = 3;

/// What a claim gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claimed {
    Task(ReviewTask),
    /// Nothing waiting that the reviewer may take.
    Empty,
    /// The reviewer holds [`MAX_HELD`] tasks already: decide or release one first.
    HoldingTooMany,
}

#[derive(Serialize, Deserialize)]
struct TaskItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    #[serde(rename = "GSI1PK")]
    gsi1pk: String,
    #[serde(rename = "GSI1SK")]
    gsi1sk: String,
    entity: String,
    #[serde(flatten)]
    task: ReviewTask,
}

const ALL_TASKS: &str = "REVIEW_TASKS";

async fn read_tasks(
    query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
) -> Result<Vec<ReviewTask>, ReviewStoreError> {
    let items = query_all(query).await.map_err(|e| err(&e))?;
    items.into_iter().map(|i| serde_dynamo::from_item::<_, TaskItem>(i).map(|t| t.task).map_err(corrupt)).collect()
}

fn queue_pk(campaign_id: &str) -> String {
    format!("REVIEWQ#{campaign_id}")
}

fn task_sk(task_id: &str) -> String {
    format!("TASK#{task_id}")
}

/// Depth of a campaign's queue: what the 2-working-day promise is watched by.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct QueueStats {
    pub waiting: usize,
    pub claimed: usize,
    pub oldest_queued_at: Option<i64>,
}

impl QueueStats {
    fn of(tasks: &[ReviewTask], now_ms: i64) -> Self {
        Self {
            waiting: tasks.iter().filter(|t| t.free(now_ms)).count(),
            claimed: tasks.iter().filter(|t| !t.free(now_ms)).count(),
            oldest_queued_at: tasks.iter().map(|t| t.queued_at).min(),
        }
    }
}

/// One line of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: i64,
    pub actor: String,
    /// `viewed_photos`, `approved`, `rejected`, `sent_back`, `looked_up`, …
    pub action: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

#[derive(Clone)]
pub struct ReviewQueue {
    client: Client,
    table: String,
}

impl ReviewQueue {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    /// The put that queues a task, for the transaction that moves its order into review.
    pub fn enqueue(&self, task: &ReviewTask) -> Result<TransactWriteItem, ReviewStoreError> {
        let item = TaskItem {
            pk: queue_pk(&task.campaign_id),
            sk: task_sk(&task.task_id),
            gsi1pk: ALL_TASKS.into(),
            gsi1sk: format!("{:013}#{}#{}", task.queued_at, task.campaign_id, task.out_trade_no),
            entity: "review_task".into(),
            task: task.clone(),
        };
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(serde_dynamo::to_item(&item).map_err(corrupt)?))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(corrupt)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// The delete that ends a task when `who` decides it: only while `who` holds the lease.
    pub fn decided(&self, task: &ReviewTask, who: &str, now_ms: i64) -> Result<TransactWriteItem, ReviewStoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .key("PK", s(&queue_pk(&task.campaign_id)))
            .key("SK", s(&task_sk(&task.task_id)))
            .condition_expression("lease_by = :me AND lease_until > :now")
            .expression_attribute_values(":me", s(who))
            .expression_attribute_values(":now", n(now_ms))
            .build()
            .map_err(corrupt)?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// The delete that takes a task out whoever holds it (customer service sends a photo back).
    pub fn withdrawn(&self, campaign_id: &str, task_id: &str) -> Result<TransactWriteItem, ReviewStoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .key("PK", s(&queue_pk(campaign_id)))
            .key("SK", s(&task_sk(task_id)))
            .build()
            .map_err(corrupt)?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// Removes a task whose order left review some other way (refunded by an operator).
    pub async fn drop_task(&self, campaign_id: &str, task_id: &str) -> Result<(), ReviewStoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("PK", s(&queue_pk(campaign_id)))
            .key("SK", s(&task_sk(task_id)))
            .send()
            .await
            .map_err(|e| err(&e))?;
        Ok(())
    }

    pub async fn get(&self, campaign_id: &str, task_id: &str) -> Result<Option<ReviewTask>, ReviewStoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("PK", s(&queue_pk(campaign_id)))
            .key("SK", s(&task_sk(task_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| err(&e))?;
        out.item.map(|i| serde_dynamo::from_item::<_, TaskItem>(i).map(|t| t.task).map_err(corrupt)).transpose()
    }

    /// Every task of the campaign, oldest first.
    async fn tasks(&self, campaign_id: &str) -> Result<Vec<ReviewTask>, ReviewStoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :t)")
            .expression_attribute_values(":pk", s(&queue_pk(campaign_id)))
            .expression_attribute_values(":t", s("TASK#"))
            .consistent_read(true);
        read_tasks(query).await
    }

    /// The next task for `who` other than those in `except` (the one on their screen, the
    /// ones they skipped): one they already hold, else the oldest nobody holds, leased to
    /// them until `now_ms + lease_ms`. Two reviewers claiming at once get two different tasks
    /// (the lease is written under the condition that none is live). Nobody holds more than
    /// [`MAX_HELD`] tasks of a campaign at once, so one browser cannot lock up a queue.
    pub async fn claim(
        &self,
        campaign_id: &str,
        who: &str,
        except: &[String],
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Claimed, ReviewStoreError> {
        let all = self.tasks(campaign_id).await?;
        let holding = all.iter().filter(|t| t.held_by(who, now_ms)).count();
        let tasks: Vec<ReviewTask> = all.into_iter().filter(|t| !except.contains(&t.task_id)).collect();
        if let Some(mine) = tasks.iter().find(|t| t.held_by(who, now_ms)) {
            return Ok(Claimed::Task(mine.clone()));
        }
        if holding >= MAX_HELD {
            return Ok(Claimed::HoldingTooMany);
        }
        for task in tasks.into_iter().filter(|t| t.free(now_ms)) {
            let until = now_ms + lease_ms;
            let result = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("PK", s(&queue_pk(campaign_id)))
                .key("SK", s(&task_sk(&task.task_id)))
                .update_expression("SET lease_by = :me, lease_until = :until")
                .condition_expression(
                    "attribute_exists(PK) AND (attribute_not_exists(lease_until) OR lease_until <= :now)",
                )
                .expression_attribute_values(":me", s(who))
                .expression_attribute_values(":until", n(until))
                .expression_attribute_values(":now", n(now_ms))
                .send()
                .await;
            match result {
                Ok(_) => {
                    return Ok(Claimed::Task(ReviewTask {
                        lease_by: Some(who.into()),
                        lease_until: Some(until),
                        ..task
                    }));
                }
                // Someone else claimed it (or it was decided) a moment ago: try the next.
                Err(e) if is_condition_failure(&e) => continue,
                Err(e) => return Err(err(&e)),
            }
        }
        Ok(Claimed::Empty)
    }

    /// Extends the lease `who` holds on a task they still have open to `now_ms + lease_ms`;
    /// `None` when they no longer hold it (decided, lapsed, or someone else's).
    pub async fn renew(
        &self,
        campaign_id: &str,
        task_id: &str,
        who: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Option<i64>, ReviewStoreError> {
        let until = now_ms + lease_ms;
        let renewed =
            self.while_held(campaign_id, task_id, who, now_ms, "SET lease_until = :until", Some(until)).await?;
        Ok(renewed.then_some(until))
    }

    /// Gives a held task back to the queue at once (a reviewer's skip); `false` when `who`
    /// does not hold it (decided, lapsed, or someone else's).
    pub async fn release(
        &self,
        campaign_id: &str,
        task_id: &str,
        who: &str,
        now_ms: i64,
    ) -> Result<bool, ReviewStoreError> {
        self.while_held(campaign_id, task_id, who, now_ms, "REMOVE lease_by, lease_until", None).await
    }

    /// Applies `update` to the task if `who` holds its lease now (`:until` bound when given).
    async fn while_held(
        &self,
        campaign_id: &str,
        task_id: &str,
        who: &str,
        now_ms: i64,
        update: &str,
        until: Option<i64>,
    ) -> Result<bool, ReviewStoreError> {
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(&queue_pk(campaign_id)))
            .key("SK", s(&task_sk(task_id)))
            .update_expression(update)
            .condition_expression("lease_by = :me AND lease_until > :now")
            .expression_attribute_values(":me", s(who))
            .expression_attribute_values(":now", n(now_ms));
        if let Some(until) = until {
            request = request.expression_attribute_values(":until", n(until));
        }
        match request.send().await {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(err(&e)),
        }
    }

    pub async fn stats(&self, campaign_id: &str, now_ms: i64) -> Result<QueueStats, ReviewStoreError> {
        Ok(QueueStats::of(&self.tasks(campaign_id).await?, now_ms))
    }

    /// Every campaign with photos in review, oldest waiting first (an index read: a moment
    /// behind the queue itself, which is fine for an overview).
    pub async fn overview(&self, now_ms: i64) -> Result<Vec<(String, QueueStats)>, ReviewStoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("GSI1")
            .key_condition_expression("GSI1PK = :all")
            .expression_attribute_values(":all", s(ALL_TASKS));
        let mut by_campaign: std::collections::BTreeMap<String, Vec<ReviewTask>> = Default::default();
        for task in read_tasks(query).await? {
            by_campaign.entry(task.campaign_id.clone()).or_default().push(task);
        }
        let mut all: Vec<(String, QueueStats)> =
            by_campaign.into_iter().map(|(c, tasks)| (c, QueueStats::of(&tasks, now_ms))).collect();
        all.sort_by_key(|(_, s)| s.oldest_queued_at);
        Ok(all)
    }

    /// The put of one audit line, for a transaction.
    pub fn audit_item(&self, no: &OutTradeNo, entry: &AuditEntry) -> Result<TransactWriteItem, ReviewStoreError> {
        Ok(TransactWriteItem::builder().put(self.audit_put(no, entry)?).build())
    }

    fn audit_put(&self, no: &OutTradeNo, entry: &AuditEntry) -> Result<Put, ReviewStoreError> {
        let mut item: std::collections::HashMap<String, AttributeValue> =
            serde_dynamo::to_item(entry).map_err(corrupt)?;
        let sk = format!("AUDIT#{:015}#{}", entry.at, &uuid::Uuid::new_v4().simple().to_string()[..8]);
        item.insert("PK".into(), s(&format!("ORDER#{no}")));
        item.insert("SK".into(), s(&sk));
        item.insert("entity".into(), s("audit"));
        Put::builder().table_name(&self.table).set_item(Some(item)).build().map_err(corrupt)
    }

    /// Records one audit line on its own.
    pub async fn audit(&self, no: &OutTradeNo, entry: &AuditEntry) -> Result<(), ReviewStoreError> {
        let put = self.audit_put(no, entry)?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(put.item().clone()))
            .send()
            .await
            .map_err(|e| err(&e))?;
        Ok(())
    }

    pub async fn audits(&self, no: &OutTradeNo) -> Result<Vec<AuditEntry>, ReviewStoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :a)")
            .expression_attribute_values(":pk", s(&format!("ORDER#{no}")))
            .expression_attribute_values(":a", s("AUDIT#"))
            .consistent_read(true);
        let items = query_all(query).await.map_err(|e| err(&e))?;
        items.into_iter().map(|i| serde_dynamo::from_item(i).map_err(corrupt)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_ids_sort_by_age_and_leases_expire() {
        let no = OutTradeNo::parse("YZ0123456789abcdef01234567").expect("no");
        let a = ReviewTask::new("c", &no, 1, "p".into(), "k".into(), Some("v1".into()), 999);
        let b = ReviewTask::new("c", &no, 1, "p".into(), "k".into(), None, 1_000);
        assert!(a.task_id < b.task_id, "older first: {} {}", a.task_id, b.task_id);
        let held = ReviewTask { lease_by: Some("r1".into()), lease_until: Some(5_000), ..a };
        assert!(held.held_by("r1", 4_999) && !held.held_by("r2", 4_999));
        assert!(!held.free(4_999) && held.free(5_000) && !held.held_by("r1", 5_000));
    }
}
