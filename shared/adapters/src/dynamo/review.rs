//! The review queue and the audit trail in the table:
//! - `PK=REVIEWQ#<campaign>`, `SK=TASK#<task_id>`: a photo waiting for a reviewer, `task_id` =
//!   `<queued_at millis, 13 digits>-<out_trade_no>` so a query returns the oldest first. A claim
//!   is a lease (`lease_by`, `lease_until`) written under the condition that no live lease
//!   exists; a decision deletes the task under the condition that the decider holds the lease,
//!   in the same transaction as the order's transition. `GSI1PK=REVIEW_TASKS`,
//!   `GSI1SK=<queued_at>#<campaign>#<no>` lists every waiting task of every campaign, oldest
//!   first, for the reviewers' overview (an index of the tasks themselves: nothing to drift).
//! - `PK=REVIEWQ#<campaign>`, `SK=HOLD#<reviewer>#<k>` (`k` < [`MAX_HELD`]): a reviewer's hold
//!   slots in a campaign, each `{task_id, lease_until}`. A claim writes the task's lease
//!   (`lease_slot = k`) and slot `k` in one transaction, the slot under the condition that it is
//!   as read (absent, or the same task and lease) and was free: lapsed, or its task no longer
//!   held by the reviewer with that lease (decided, skipped, withdrawn, reclaimed). So however
//!   many claims of one reviewer race, at most [`MAX_HELD`] leases are live, and nothing needs
//!   to be given back on decision, skip or expiry. A renewal moves the task's lease and its
//!   slot's together.
//! - `PK=ORDER#<no>`, `SK=AUDIT#<millis>#<rand>`: who looked at or acted on an order's photos.
//!
//! The queue lives in DynamoDB rather than SQS because reviewers need what SQS cannot give:
//! a task per campaign, its depth and oldest age, and a decision that removes the task
//! atomically with the order's change.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};
use serde::{Deserialize, Serialize};
use yunzhao_domain::order::{OutTradeNo, StoreError as OrderStoreError};
use yunzhao_domain::review::{AuditEntry, Claimed, MAX_HELD, ReviewTask};

use super::keys;
use super::{is_condition_failure, query_all};
use super::{n, s};

/// The review queue's failures are the domain's store errors: unavailable or corrupt.
pub use yunzhao_domain::StoreError as ReviewStoreError;

use super::{corrupt, unavailable as err};

const ALL_TASKS: &str = "REVIEW_TASKS";

async fn read_tasks(
    query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
) -> Result<Vec<ReviewTask>, ReviewStoreError> {
    let items = query_all(query).await.map_err(|e| err(&e))?;
    items.into_iter().map(|i| super::read(i).map_err(corrupt)).collect()
}

/// One of a reviewer's hold slots as read.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
struct Hold {
    task_id: String,
    lease_until: i64,
}

impl Hold {
    /// Whether the slot still covers a live lease of `who` (see the module header).
    fn live(&self, who: &str, tasks: &[ReviewTask], now_ms: i64) -> bool {
        self.lease_until > now_ms
            && tasks
                .iter()
                .any(|t| t.task_id == self.task_id && t.held_by(who, now_ms) && t.lease_until == Some(self.lease_until))
    }
}

/// A free slot of `who`: the first not covering a live lease, with what it held (for the
/// condition that it is unchanged when written).
fn free_slot(holds: &[Option<Hold>], who: &str, tasks: &[ReviewTask], now_ms: i64) -> Option<(u32, Option<Hold>)> {
    (0..MAX_HELD).find_map(|k| match holds.get(k).cloned().flatten() {
        Some(h) if h.live(who, tasks, now_ms) => None,
        seen => Some((u32::try_from(k).unwrap_or_default(), seen)),
    })
}

/// How often a claim starts over when one of the reviewer's own concurrent claims changed the
/// slot it meant to use.
const CLAIM_ROUNDS: usize = 8;

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
            waiting: tasks.iter().filter(|t| t.is_free(now_ms)).count(),
            claimed: tasks.iter().filter(|t| !t.is_free(now_ms)).count(),
            oldest_queued_at: tasks.iter().map(|t| t.queued_at).min(),
        }
    }
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

    /// Removes a task whose order left review some other way (refunded by an operator).
    pub async fn drop_task(&self, campaign_id: &str, task_id: &str) -> Result<(), ReviewStoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("PK", s(&keys::review_queue(campaign_id)))
            .key("SK", s(&keys::task(task_id)))
            .send()
            .await
            .map_err(|e| err(&e))?;
        Ok(())
    }

    pub async fn get(&self, campaign_id: &str, task_id: &str) -> Result<Option<ReviewTask>, ReviewStoreError> {
        let out = super::get_item(&self.client, &self.table, &keys::review_queue(campaign_id), &keys::task(task_id))
            .await
            .map_err(|e| err(&e))?;
        out.map(|i| super::read(i).map_err(corrupt)).transpose()
    }

    /// Every task of the campaign, oldest first.
    async fn tasks(&self, campaign_id: &str) -> Result<Vec<ReviewTask>, ReviewStoreError> {
        let query = super::query_prefix(&self.client, &self.table, &keys::review_queue(campaign_id), "TASK#")
            .consistent_read(true);
        read_tasks(query).await
    }

    /// The reviewer's hold slots in the campaign, by slot number.
    async fn holds(&self, campaign_id: &str, who: &str) -> Result<Vec<Option<Hold>>, ReviewStoreError> {
        let query =
            super::query_prefix(&self.client, &self.table, &keys::review_queue(campaign_id), &keys::holds_of(who))
                .consistent_read(true);
        let mut holds = vec![None; MAX_HELD];
        for item in query_all(query).await.map_err(|e| err(&e))? {
            let slot = item
                .get("SK")
                .and_then(|v| v.as_s().ok())
                .and_then(|sk| sk.rsplit('#').next())
                .and_then(|k| k.parse::<usize>().ok());
            if let Some(slot) = slot.filter(|k| *k < MAX_HELD) {
                holds[slot] = Some(serde_dynamo::from_item(item).map_err(corrupt)?);
            }
        }
        Ok(holds)
    }

    /// The next task for `who` other than those in `except` (the one on their screen, the
    /// ones they skipped): one they already hold, else the oldest nobody holds, leased to
    /// them until `now_ms + lease_ms`. Two reviewers claiming at once get two different tasks
    /// (the lease is written under the condition that none is live). Nobody holds more than
    /// [`MAX_HELD`] tasks of a campaign at once, however many of their claims race (each lease
    /// takes one of their hold slots in the same transaction), so one browser cannot lock up a
    /// queue.
    pub async fn claim(
        &self,
        campaign_id: &str,
        who: &str,
        except: &[String],
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Claimed, ReviewStoreError> {
        for _ in 0..CLAIM_ROUNDS {
            if let Some(claimed) = self.claim_once(campaign_id, who, except, now_ms, lease_ms).await? {
                return Ok(claimed);
            }
        }
        // The reviewer's own claims keep taking the slots: they are claiming plenty.
        Ok(Claimed::HoldingTooMany)
    }

    /// One round of [`claim`](Self::claim); `None` when the slot it chose changed meanwhile.
    async fn claim_once(
        &self,
        campaign_id: &str,
        who: &str,
        except: &[String],
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Option<Claimed>, ReviewStoreError> {
        // Slots before tasks: a slot judged free by the tasks read after it, and unchanged
        // when written, covered no live lease.
        let holds = self.holds(campaign_id, who).await?;
        let all = self.tasks(campaign_id).await?;
        if let Some(mine) = all.iter().find(|t| t.held_by(who, now_ms) && !except.contains(&t.task_id)) {
            return Ok(Some(Claimed::Task(Box::new(mine.clone()))));
        }
        let Some((slot, seen)) = free_slot(&holds, who, &all, now_ms) else {
            return Ok(Some(Claimed::HoldingTooMany));
        };
        let until = now_ms + lease_ms;
        let built = |e: aws_sdk_dynamodb::error::BuildError| corrupt(e);
        for task in all.into_iter().filter(|t| t.is_free(now_ms) && !except.contains(&t.task_id)) {
            let lease = aws_sdk_dynamodb::types::Update::builder()
                .table_name(&self.table)
                .key("PK", s(&keys::review_queue(campaign_id)))
                .key("SK", s(&keys::task(&task.task_id)))
                .update_expression("SET lease_by = :me, lease_until = :until, lease_slot = :slot")
                .condition_expression(
                    "attribute_exists(PK) AND (attribute_not_exists(lease_until) OR lease_until <= :now)",
                )
                .expression_attribute_values(":me", s(who))
                .expression_attribute_values(":until", n(until))
                .expression_attribute_values(":slot", n(i64::from(slot)))
                .expression_attribute_values(":now", n(now_ms))
                .build()
                .map_err(built)?;
            let mut hold = Put::builder()
                .table_name(&self.table)
                .item("PK", s(&keys::review_queue(campaign_id)))
                .item("SK", s(&keys::hold(who, slot)))
                .item("entity", s("review_hold"))
                .item("task_id", s(&task.task_id))
                .item("lease_until", n(until));
            hold = match &seen {
                None => hold.condition_expression("attribute_not_exists(PK)"),
                Some(h) => hold
                    .condition_expression("task_id = :seen_task AND lease_until = :seen_until")
                    .expression_attribute_values(":seen_task", s(&h.task_id))
                    .expression_attribute_values(":seen_until", n(h.lease_until)),
            };
            let result = self
                .client
                .transact_write_items()
                .transact_items(TransactWriteItem::builder().update(lease).build())
                .transact_items(TransactWriteItem::builder().put(hold.build().map_err(built)?).build())
                .send()
                .await;
            let e = match result {
                Ok(_) => {
                    let task = ReviewTask {
                        lease_by: Some(who.into()),
                        lease_until: Some(until),
                        lease_slot: Some(slot),
                        ..task
                    };
                    return Ok(Some(Claimed::Task(Box::new(task))));
                }
                Err(e) => e,
            };
            match super::cancellation_codes(&e).as_deref() {
                // Someone else claimed the task (or it was decided) a moment ago: try the next.
                Some([task, hold]) if task == "ConditionalCheckFailed" && hold != "ConditionalCheckFailed" => continue,
                // The slot changed (another claim of the same reviewer), or a conflicting
                // transaction: start over from what is stored now.
                Some(_) => return Ok(None),
                None => return Err(err(&e)),
            }
        }
        Ok(Some(Claimed::Empty))
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
        let Some(task) = self.get(campaign_id, task_id).await? else { return Ok(None) };
        let Some(slot) = task.lease_slot.filter(|_| task.held_by(who, now_ms)) else {
            // Not held, or a lease from before hold slots.
            let renewed =
                self.while_held(campaign_id, task_id, who, now_ms, "SET lease_until = :until", Some(until)).await?;
            return Ok(renewed.then_some(until));
        };
        // The lease and the slot covering it move together.
        let built = |e: aws_sdk_dynamodb::error::BuildError| corrupt(e);
        let lease = aws_sdk_dynamodb::types::Update::builder()
            .table_name(&self.table)
            .key("PK", s(&keys::review_queue(campaign_id)))
            .key("SK", s(&keys::task(task_id)))
            .update_expression("SET lease_until = :until")
            .condition_expression("lease_by = :me AND lease_until > :now AND lease_slot = :slot")
            .expression_attribute_values(":me", s(who))
            .expression_attribute_values(":now", n(now_ms))
            .expression_attribute_values(":until", n(until))
            .expression_attribute_values(":slot", n(i64::from(slot)))
            .build()
            .map_err(built)?;
        let hold = aws_sdk_dynamodb::types::Update::builder()
            .table_name(&self.table)
            .key("PK", s(&keys::review_queue(campaign_id)))
            .key("SK", s(&keys::hold(who, slot)))
            .update_expression("SET lease_until = :until")
            .condition_expression("task_id = :task")
            .expression_attribute_values(":task", s(task_id))
            .expression_attribute_values(":until", n(until))
            .build()
            .map_err(built)?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(lease).build())
            .transact_items(TransactWriteItem::builder().update(hold).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(Some(until)),
            Err(e) if super::cancelled_by_condition(&e) => Ok(None),
            Err(e) => Err(err(&e)),
        }
    }

    /// Gives a held task back to the queue at once (a reviewer's skip); `false` when `who`
    /// does not hold it (decided, lapsed, or someone else's). Its hold slot is free from then
    /// on (it no longer covers a live lease).
    pub async fn release(
        &self,
        campaign_id: &str,
        task_id: &str,
        who: &str,
        now_ms: i64,
    ) -> Result<bool, ReviewStoreError> {
        self.while_held(campaign_id, task_id, who, now_ms, "REMOVE lease_by, lease_until, lease_slot", None).await
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
            .key("PK", s(&keys::review_queue(campaign_id)))
            .key("SK", s(&keys::task(task_id)))
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
    /// Records one audit line on its own.
    pub async fn audit(&self, no: &OutTradeNo, entry: &AuditEntry) -> Result<(), ReviewStoreError> {
        let put = audit_put(&self.table, no, entry)?;
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
        let query = super::query_prefix(&self.client, &self.table, &keys::order(no), "AUDIT#").consistent_read(true);
        let items = query_all(query).await.map_err(|e| err(&e))?;
        items.into_iter().map(|i| serde_dynamo::from_item(i).map_err(corrupt)).collect()
    }
}

/// The put that queues a task, for the write that moves its order into review.
pub(crate) fn queue_put(table: &str, task: &ReviewTask) -> Result<TransactWriteItem, ReviewStoreError> {
    let by_age = format!("{:013}#{}#{}", task.queued_at, task.campaign_id, task.out_trade_no);
    let item =
        super::Stored::new(keys::review_queue(&task.campaign_id), keys::task(&task.task_id), "review_task", task)
            .gsi1(ALL_TASKS, by_age);
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item.item().map_err(corrupt)?))
        .condition_expression("attribute_not_exists(PK)")
        .build()
        .map_err(corrupt)?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// The delete that ends a task when `who` decides it: only while `who` holds the lease.
pub(crate) fn decide_delete(
    table: &str,
    task: &ReviewTask,
    who: &str,
    now_ms: i64,
) -> Result<TransactWriteItem, ReviewStoreError> {
    let delete = Delete::builder()
        .table_name(table)
        .key("PK", s(&keys::review_queue(&task.campaign_id)))
        .key("SK", s(&keys::task(&task.task_id)))
        .condition_expression("lease_by = :me AND lease_until > :now")
        .expression_attribute_values(":me", s(who))
        .expression_attribute_values(":now", n(now_ms))
        .build()
        .map_err(corrupt)?;
    Ok(TransactWriteItem::builder().delete(delete).build())
}

/// The delete that takes a task out if it is there and no reviewer holds it at `now_ms` (its
/// student withdraws it).
pub(crate) fn withdraw_free_delete(
    table: &str,
    campaign_id: &str,
    task_id: &str,
    now_ms: i64,
) -> Result<TransactWriteItem, ReviewStoreError> {
    let delete = Delete::builder()
        .table_name(table)
        .key("PK", s(&keys::review_queue(campaign_id)))
        .key("SK", s(&keys::task(task_id)))
        .condition_expression("attribute_exists(PK) AND (attribute_not_exists(lease_until) OR lease_until <= :now)")
        .expression_attribute_values(":now", n(now_ms))
        .build()
        .map_err(corrupt)?;
    Ok(TransactWriteItem::builder().delete(delete).build())
}

/// The delete that takes a task out whoever holds it (customer service sends a photo back).
pub(crate) fn withdraw_delete(
    table: &str,
    campaign_id: &str,
    task_id: &str,
) -> Result<TransactWriteItem, ReviewStoreError> {
    let delete = Delete::builder()
        .table_name(table)
        .key("PK", s(&keys::review_queue(campaign_id)))
        .key("SK", s(&keys::task(task_id)))
        .build()
        .map_err(corrupt)?;
    Ok(TransactWriteItem::builder().delete(delete).build())
}

/// The put of one audit line.
pub(crate) fn audit_put(table: &str, no: &OutTradeNo, entry: &AuditEntry) -> Result<Put, ReviewStoreError> {
    let mut item: std::collections::HashMap<String, AttributeValue> = serde_dynamo::to_item(entry).map_err(corrupt)?;
    let sk = keys::audit(entry.at, &uuid::Uuid::new_v4().simple().to_string()[..8]);
    item.insert("PK".into(), s(&keys::order(no)));
    item.insert("SK".into(), s(&sk));
    item.insert("entity".into(), s("audit"));
    Put::builder().table_name(table).set_item(Some(item)).build().map_err(corrupt)
}

/// The queue as the decision use case sees it (`yunzhao_domain::review::decide`).
impl yunzhao_domain::review::ReviewTasks for ReviewQueue {
    async fn get(&self, campaign_id: &str, task_id: &str) -> Result<Option<ReviewTask>, OrderStoreError> {
        ReviewQueue::get(self, campaign_id, task_id).await
    }

    async fn drop_task(&self, campaign_id: &str, task_id: &str) -> Result<(), OrderStoreError> {
        ReviewQueue::drop_task(self, campaign_id, task_id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leased(id: &str, who: &str, until: i64) -> ReviewTask {
        let no = OutTradeNo::parse("YZ0123456789abcdef01234567").expect("no");
        let t = ReviewTask::new("c", &no, 1, "p".into(), "k".into(), None, 1);
        ReviewTask { task_id: id.into(), lease_by: Some(who.into()), lease_until: Some(until), ..t }
    }

    fn hold(task: &str, until: i64) -> Option<Hold> {
        Some(Hold { task_id: task.into(), lease_until: until })
    }

    #[test]
    fn given_three_live_holds_then_no_slot_is_free_and_each_end_of_a_lease_frees_one() {
        let now = 1_000;
        let tasks = vec![leased("a", "r1", 2_000), leased("b", "r1", 2_000), leased("c", "r1", 2_000)];
        let holds = vec![hold("a", 2_000), hold("b", 2_000), hold("c", 2_000)];
        assert_eq!(free_slot(&holds, "r1", &tasks, now), None);
        // Lapsed.
        assert_eq!(free_slot(&holds, "r1", &tasks, 2_000).map(|(k, _)| k), Some(0));
        // Decided (the task is gone) or skipped (no lease): that slot, as it was read.
        let decided: Vec<ReviewTask> = tasks.iter().filter(|t| t.task_id != "b").cloned().collect();
        assert_eq!(free_slot(&holds, "r1", &decided, now), Some((1, hold("b", 2_000))));
        let mut skipped = tasks.clone();
        skipped[2].lease_by = None;
        skipped[2].lease_until = None;
        assert_eq!(free_slot(&holds, "r1", &skipped, now).map(|(k, _)| k), Some(2));
        // Reclaimed by another reviewer after it lapsed, or renewed into another slot's lease.
        let mut reclaimed = tasks.clone();
        reclaimed[0] = leased("a", "r2", 3_000);
        assert_eq!(free_slot(&holds, "r1", &reclaimed, now).map(|(k, _)| k), Some(0));
        // Slots never written are free; other reviewers' leases do not count.
        assert_eq!(free_slot(&[None, None, None], "r2", &tasks, now), Some((0, None)));
    }
}
