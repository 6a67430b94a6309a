//! Orders in the table:
//! - `PK=ORDER#<out_trade_no>`, `SK=ORDER`: the order; `GSI1PK=USER#<user>`, `GSI1SK=ORDER#<created>`
//!   (a student's orders); `GSI2PK=ORDERS#<campaign>`, `GSI2SK=ORDER#<no>` (a campaign's orders).
//! - `PK=ORDER#<no>`, `SK=HIST#<millis>#<rand>`: one item per transition (what, why, who, when).
//! - `PK=ORDER#<no>`, `SK=PAYMENT#<transaction_id>`: the payment, written once.
//! - `PK=USER#<user>`, `SK=ORDER#<campaign>`: the student's live order in a campaign, so
//!   a second "create" returns the same order.
//! - `PK=ANOMALY`, `SK=<millis>#<no>`: what operators must look at (mismatched or unknown payments).
//!
//! Every state change is one transaction whose condition names the states it may leave.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use serde::Deserialize;
use time::OffsetDateTime;
use yunzhao_domain::UserId;
use yunzhao_domain::order::{
    Also, Applied, Change, HistoryEntry, Order, OrderState, OrderStore, OutTradeNo, Refusal, Transition,
};

use super::keys;
use super::{Item, Stored, corrupt, is_condition_failure, query_all, unavailable as err};
use super::{n, s};

pub use yunzhao_domain::order::StoreError as OrderStoreError;

/// How long one refund call to WeChat Pay may hold the order (its timeout, with margin).
const REFUND_CALL_MS: i64 = 30_000;

/// Who may ask WeChat Pay for a refund now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundClaim {
    Yours,
    /// Another request is asking WeChat Pay for this refund at this moment.
    InProgress,
    /// Not paid (or refunded already, or another refund number).
    NotRefundable,
}

/// `#state IN (:p0, :p1, …)` for `states`, with its placeholder values (`#state` must be
/// named `state` by the caller).
fn state_in(states: &[OrderState], prefix: &str) -> (String, Vec<(String, AttributeValue)>) {
    let values: Vec<(String, AttributeValue)> =
        states.iter().enumerate().map(|(i, st)| (format!(":{prefix}{i}"), s(st.as_str()))).collect();
    let names: Vec<&str> = values.iter().map(|(k, _)| k.as_str()).collect();
    (format!("#state IN ({})", names.join(", ")), values)
}

#[derive(Clone)]
pub struct DynamoOrders {
    client: Client,
    table: String,
}

impl DynamoOrders {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    fn history_put(&self, no: &OutTradeNo, entry: &HistoryEntry) -> Result<TransactWriteItem, OrderStoreError> {
        let millis = OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
        let sk = keys::history(millis as i64, &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let mut item: Item = serde_dynamo::to_item(entry).map_err(corrupt)?;
        item.insert("PK".into(), s(&keys::order(no)));
        item.insert("SK".into(), s(&sk));
        item.insert("entity".into(), s("order_history"));
        let put = Put::builder().table_name(&self.table).set_item(Some(item)).build().map_err(corrupt)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// An update of the order item, with `#state` naming its state attribute.
    fn update_order(
        &self,
        no: &OutTradeNo,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(&keys::order(no)))
            .key("SK", s("ORDER"))
            .expression_attribute_names("#state", "state")
    }

    pub async fn get(&self, no: &OutTradeNo) -> Result<Option<Order>, OrderStoreError> {
        let out = super::get_item(&self.client, &self.table, &keys::order(no), "ORDER").await.map_err(|e| err(&e))?;
        out.map(|i| super::read(i).map_err(corrupt)).transpose()
    }

    /// The student's live order in the campaign, or a new one made from `fresh`. Two
    /// concurrent calls make one order: the per-campaign pointer is written conditionally.
    pub async fn open(&self, fresh: Order) -> Result<(Order, bool), OrderStoreError> {
        for _ in 0..3 {
            let pointer_key = |c: &str| (s(&keys::user(&fresh.user_id)), s(&keys::live_order(c)));
            let (pk, sk) = pointer_key(&fresh.campaign_id);
            let current = self
                .client
                .get_item()
                .table_name(&self.table)
                .key("PK", pk.clone())
                .key("SK", sk.clone())
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| err(&e))?
                .item
                .and_then(|i| i.get("out_trade_no").and_then(|v| v.as_s().ok()).cloned());
            let previous = match current {
                Some(no) => {
                    let no = OutTradeNo::parse(&no).map_err(corrupt)?;
                    match self.get(&no).await? {
                        Some(order) if order.state.is_live() => return Ok((order, false)),
                        _ => Some(no),
                    }
                }
                None => None,
            };
            let no = &fresh.out_trade_no;
            let item = Stored::new(keys::order(no), "ORDER", "order", &fresh)
                .gsi1(keys::user(&fresh.user_id), keys::order_by_created(fresh.created_at, no))
                .gsi2(keys::campaign_orders(&fresh.campaign_id), keys::order(no));
            let put_order = Put::builder()
                .table_name(&self.table)
                .set_item(Some(item.item().map_err(corrupt)?))
                .condition_expression("attribute_not_exists(PK)")
                .build()
                .map_err(corrupt)?;
            let mut pointer = Put::builder()
                .table_name(&self.table)
                .item("PK", pk)
                .item("SK", sk)
                .item("entity", s("order_pointer"))
                .item("out_trade_no", s(fresh.out_trade_no.as_str()));
            pointer = match &previous {
                // Replacing a cancelled/expired/refunded order: only if nobody replaced it first.
                Some(old) => pointer
                    .condition_expression("out_trade_no = :old")
                    .expression_attribute_values(":old", s(old.as_str())),
                None => pointer.condition_expression("attribute_not_exists(PK)"),
            };
            let created = HistoryEntry {
                at: fresh.created_at,
                to: OrderState::Created,
                cause: "created".into(),
                actor: fresh.user_id.to_string(),
            };
            let result = self
                .client
                .transact_write_items()
                .transact_items(TransactWriteItem::builder().put(put_order).build())
                .transact_items(TransactWriteItem::builder().put(pointer.build().map_err(corrupt)?).build())
                .transact_items(self.history_put(&fresh.out_trade_no, &created)?)
                .send()
                .await;
            match result {
                Ok(_) => return Ok((fresh, true)),
                // Another request made the order first: loop and return theirs.
                Err(e) if is_condition_failure(&e) => continue,
                Err(e) => return Err(err(&e)),
            }
        }
        Err(OrderStoreError::Unavailable("could not settle the student's order pointer".into()))
    }

    /// Every order of a campaign (an index read: eventually consistent; each order found is
    /// re-read or changed under a condition before anything is decided on it).
    pub async fn by_campaign(&self, campaign_id: &str) -> Result<Vec<Order>, OrderStoreError> {
        self.query_index("GSI2", "GSI2PK", &keys::campaign_orders(campaign_id)).await
    }

    /// The student's current order in a campaign (the one the `USER#<u>`/`ORDER#<c>` pointer
    /// names; any earlier one is cancelled, expired or refunded), read from the table itself,
    /// strongly consistent: an order created a moment ago is there, where the index by user
    /// may not have it yet.
    pub async fn current_in(&self, user: &UserId, campaign_id: &str) -> Result<Option<Order>, OrderStoreError> {
        let pointer = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("PK", s(&keys::user(user)))
            .key("SK", s(&keys::live_order(campaign_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| err(&e))?
            .item
            .and_then(|i| i.get("out_trade_no").and_then(|v| v.as_s().ok()).cloned());
        match pointer {
            Some(no) => self.get(&OutTradeNo::parse(&no).map_err(corrupt)?).await,
            None => Ok(None),
        }
    }

    pub async fn by_user(&self, user: &UserId) -> Result<Vec<Order>, OrderStoreError> {
        let mut orders = self.query_index("GSI1", "GSI1PK", &keys::user(user)).await?;
        orders.reverse();
        Ok(orders)
    }

    async fn query_index(&self, index: &str, key: &str, value: &str) -> Result<Vec<Order>, OrderStoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression("#k = :v")
            .expression_attribute_names("#k", key)
            .expression_attribute_values(":v", s(value));
        let items = query_all(query).await.map_err(|e| err(&e))?;
        items
            .into_iter()
            .filter(|item| item.get("entity").and_then(|v| v.as_s().ok()).map(String::as_str) == Some("order"))
            .map(|item| super::read(item).map_err(corrupt))
            .collect()
    }

    /// Records the prepay id of a still-unpaid order.
    pub async fn set_prepay(&self, no: &OutTradeNo, prepay_id: &str) -> Result<(), OrderStoreError> {
        let result = self
            .update_order(no)
            .update_expression("SET prepay_id = :p")
            .condition_expression("#state = :created")
            .expression_attribute_values(":p", s(prepay_id))
            .expression_attribute_values(":created", s(OrderState::Created.as_str()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Ok(()),
            Err(e) => Err(err(&e)),
        }
    }

    /// Writes `change` (see [`OrderStore::apply`]): the order's update conditional on the
    /// states its transition leaves, its history line, and each [`Also`] with its own
    /// condition, in one transaction. When it is cancelled, its reasons say which condition
    /// failed.
    pub async fn apply(&self, order: &Order, change: Change) -> Result<Applied, OrderStoreError> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let no = &order.out_trade_no;
        let t = change.transition;
        let latest_attempt = change.also.iter().find_map(|a| match a {
            Also::LatestAttempt(n) => Some(*n),
            _ => None,
        });
        let mut items = vec![self.order_update(order, &change, latest_attempt, now)?];
        let entry =
            HistoryEntry { at: now, to: t.to_state(), cause: change.cause.clone(), actor: change.actor.clone() };
        items.push(self.history_put(no, &entry)?);
        // What a failed condition of each item means (the order's own is read from the order).
        let mut refusals: Vec<Option<Refusal>> = vec![None, None];
        for also in &change.also {
            let (written, refusal) = match also {
                Also::LatestAttempt(_) => continue,
                Also::TakeUpload { attempt, etag, version } => {
                    (vec![self.take_upload(no, *attempt, etag, version.as_deref())?], Some(Refusal::UploadTaken))
                }
                Also::QueueTask(task) => {
                    (vec![super::review::queue_put(&self.table, task)?], Some(Refusal::TaskQueued))
                }
                Also::DecideTask { task, by, at_ms } => {
                    (vec![super::review::decide_delete(&self.table, task, by, *at_ms)?], Some(Refusal::LeaseLost))
                }
                Also::WithdrawTask { campaign_id, task_id } => {
                    (vec![super::review::withdraw_delete(&self.table, campaign_id, task_id)?], None)
                }
                Also::WithdrawFreeTask { campaign_id, task_id, at_ms } => (
                    vec![super::review::withdraw_free_delete(&self.table, campaign_id, task_id, *at_ms)?],
                    Some(Refusal::TaskHeld),
                ),
                Also::RecordPayment { transaction_id, amount_fen, detail } => (
                    vec![self.payment_put(no, transaction_id, *amount_fen, &change.cause, detail, now)?],
                    Some(Refusal::PaymentRecorded),
                ),
                Also::CountPaid(by) => (vec![self.paid_counter(&order.campaign_id, *by)?], None),
                Also::Unbind(binding) => {
                    (super::roster::unbind_writes(&self.table, binding)?, Some(Refusal::BindingChanged))
                }
                Also::Audit(line) => {
                    let put = super::review::audit_put(&self.table, no, line)?;
                    (vec![TransactWriteItem::builder().put(put).build()], None)
                }
            };
            refusals.extend(written.iter().map(|_| refusal));
            items.extend(written);
        }
        // A transaction cancelled only by another one writing the same items at that moment
        // (a webhook retry, a reconciliation) is tried again; only a failed condition refuses.
        let e = match super::transact_retrying(&self.client, items).await {
            Ok(()) => return Ok(Applied::Moved),
            Err(e) if super::cancelled_by_condition(&e) => e,
            Err(e) => return Err(err(&e)),
        };
        let current = self.get(no).await?.ok_or_else(|| OrderStoreError::Corrupt(format!("order {no} vanished")))?;
        if !t.applies_to(current.state) {
            return Ok(Applied::Unchanged(current.state));
        }
        let failed: Vec<bool> = match super::cancellation_codes(&e) {
            Some(codes) if !codes.is_empty() => codes.iter().map(|c| c == "ConditionalCheckFailed").collect(),
            // No reasons given (some local emulators): any of the conditions may have failed.
            _ => vec![true; refusals.len()],
        };
        let other = failed.iter().zip(&refusals).skip(1).find_map(|(f, r)| if *f { *r } else { None });
        Ok(match (other, latest_attempt) {
            (Some(refusal), _) => Applied::Refused(refusal),
            (None, Some(_)) if failed.first() == Some(&true) => Applied::Refused(Refusal::NotLatestAttempt),
            // The order moved and moved back between the write and the read.
            (None, _) => Applied::Unchanged(current.state),
        })
    }

    /// The order's update in a change: its state and fields, conditional on the states its
    /// transition leaves (and on the latest attempt, when the change names one).
    fn order_update(
        &self,
        order: &Order,
        change: &Change,
        latest_attempt: Option<u32>,
        now: i64,
    ) -> Result<TransactWriteItem, OrderStoreError> {
        let t = change.transition;
        let f = &change.set;
        let fields: Vec<(&str, AttributeValue)> = [
            f.reasons.as_ref().map(|r| ("reasons", AttributeValue::L(r.iter().map(|r| s(r.as_str())).collect()))),
            f.review_note.as_deref().map(|v| ("review_note", s(v))),
            f.result_prefix.as_deref().map(|v| ("result_prefix", s(v))),
            f.review_task_id.as_deref().map(|v| ("review_task_id", s(v))),
            f.approved_at.map(|v| ("approved_at", n(v))),
            f.transaction_id.as_deref().map(|v| ("transaction_id", s(v))),
            f.paid_at.map(|v| ("paid_at", n(v))),
        ]
        .into_iter()
        .flatten()
        .collect();
        let mut expression = String::from("SET #state = :to, updated_at = :now");
        let mut update = Update::builder()
            .table_name(&self.table)
            .key("PK", s(&keys::order(&order.out_trade_no)))
            .key("SK", s("ORDER"))
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":to", s(t.to_state().as_str()))
            .expression_attribute_values(":now", n(now));
        for (i, (attr, value)) in fields.into_iter().enumerate() {
            expression.push_str(&format!(", #a{i} = :v{i}"));
            update = update
                .expression_attribute_names(format!("#a{i}"), attr)
                .expression_attribute_values(format!(":v{i}"), value);
        }
        // Orders made before checks were counted have no `free_checks`: they stay uncounted.
        if f.restore_checks && order.free_checks.is_some() {
            expression.push_str(", checks_left = free_checks");
        }
        let (mut condition, values) = state_in(t.from_states(), "f");
        for (k, v) in values {
            update = update.expression_attribute_values(k, v);
        }
        if let Some(attempt) = latest_attempt {
            condition.push_str(" AND attempts = :attempt");
            update = update.expression_attribute_values(":attempt", n(i64::from(attempt)));
        }
        let update = update.update_expression(expression).condition_expression(condition).build().map_err(corrupt)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// The payment's record, written once per transaction id.
    fn payment_put(
        &self,
        no: &OutTradeNo,
        transaction_id: &str,
        amount_fen: u64,
        cause: &str,
        detail: &serde_json::Value,
        now: i64,
    ) -> Result<TransactWriteItem, OrderStoreError> {
        let record: Item = serde_dynamo::to_item(serde_json::json!({
            "PK": keys::order(no), "SK": keys::payment(transaction_id), "entity": "payment",
            // Customer service finds an order by the transaction id a student reads off WeChat.
            "GSI1PK": keys::transaction(transaction_id), "GSI1SK": keys::order(no),
            "transaction_id": transaction_id, "amount_fen": amount_fen, "recorded_at": now, "cause": cause, "detail": detail,
        }))
        .map_err(corrupt)?;
        let payment = Put::builder()
            .table_name(&self.table)
            .set_item(Some(record))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(corrupt)?;
        Ok(TransactWriteItem::builder().put(payment).build())
    }

    /// The campaign's count of paid students, moved with the order's payment or refund.
    fn paid_counter(&self, campaign_id: &str, by: i64) -> Result<TransactWriteItem, OrderStoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .key("PK", s(&keys::campaign(campaign_id)))
            .key("SK", s("PROFILE"))
            .update_expression("ADD paid :by")
            .expression_attribute_values(":by", n(by))
            .build()
            .map_err(corrupt)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// The refund done (WeChat Pay said SUCCESS): the order is refunded and the campaign's
    /// paid count goes down with it, once.
    pub async fn refunded(&self, order: &Order, cause: &str, actor: &str) -> Result<Applied, OrderStoreError> {
        self.apply(order, Change::new(Transition::Refund, cause, actor).also(Also::CountPaid(-1))).await
    }

    /// Notes an operator's refund request on a paid order (one refund number per order).
    /// Claims the right to ask WeChat Pay for the order's refund now: the order is refundable,
    /// any earlier request was for the same refund number (a retry, which WeChat Pay dedupes),
    /// and nobody else is asking at this moment (`refund_calling_until`, a short lease), so
    /// concurrent refunds of one order make one call and the others a clear conflict.
    pub async fn request_refund(
        &self,
        no: &OutTradeNo,
        out_refund_no: &str,
        reason: &str,
        now_ms: i64,
    ) -> Result<RefundClaim, OrderStoreError> {
        let mut update = self
            .update_order(no)
            .update_expression("SET out_refund_no = :r, refund_reason = :why, refund_calling_until = :until")
            .expression_attribute_values(":r", s(out_refund_no))
            .expression_attribute_values(":why", s(reason))
            .expression_attribute_values(":now", AttributeValue::N(now_ms.to_string()))
            .expression_attribute_values(":until", AttributeValue::N((now_ms + REFUND_CALL_MS).to_string()));
        let (states, values) = state_in(Transition::Refund.from_states(), "f");
        for (k, v) in values {
            update = update.expression_attribute_values(k, v);
        }
        let result = update
            .condition_expression(format!(
                "(attribute_not_exists(out_refund_no) OR out_refund_no = :r) AND {states} \
                 AND (attribute_not_exists(refund_calling_until) OR refund_calling_until < :now)"
            ))
            .send()
            .await;
        match result {
            Ok(_) => Ok(RefundClaim::Yours),
            Err(e) if is_condition_failure(&e) => {
                let order = self.get(no).await?;
                let calling = order.as_ref().and_then(|o| o.refund_calling_until).is_some_and(|u| u >= now_ms);
                let refundable = order.is_some_and(|o| Transition::Refund.from_states().contains(&o.state));
                Ok(if calling && refundable { RefundClaim::InProgress } else { RefundClaim::NotRefundable })
            }
            Err(e) => Err(err(&e)),
        }
    }

    /// Ends the call `request_refund` claimed (whatever WeChat Pay answered).
    pub async fn refund_call_done(&self, no: &OutTradeNo) -> Result<(), OrderStoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(&keys::order(no)))
            .key("SK", s("ORDER"))
            .update_expression("REMOVE refund_calling_until")
            .send()
            .await
            .map_err(|e| err(&e))?;
        Ok(())
    }

    pub async fn history(&self, no: &OutTradeNo) -> Result<Vec<HistoryEntry>, OrderStoreError> {
        let out = super::query_prefix(&self.client, &self.table, &keys::order(no), "HIST#")
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| err(&e))?;
        out.items.unwrap_or_default().into_iter().map(|i| serde_dynamo::from_item(i).map_err(corrupt)).collect()
    }

    /// The order a WeChat Pay transaction paid (`GSI1PK=TXN#<transaction_id>` on the payment).
    pub async fn by_transaction(&self, transaction_id: &str) -> Result<Option<Order>, OrderStoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("GSI1")
            .key_condition_expression("GSI1PK = :t")
            .expression_attribute_values(":t", s(&keys::transaction(transaction_id)))
            .limit(1)
            .send()
            .await
            .map_err(|e| err(&e))?;
        let Some(no) = out.items().first().and_then(|i| i.get("GSI1SK")).and_then(|v| v.as_s().ok()) else {
            return Ok(None);
        };
        match no.strip_prefix("ORDER#").map(OutTradeNo::parse) {
            Some(Ok(no)) => self.get(&no).await,
            _ => Ok(None),
        }
    }

    /// The newest anomalies first (at most `limit`), for operators and customer service.
    pub async fn anomalies(&self, limit: i32) -> Result<Vec<serde_json::Value>, OrderStoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :a")
            .expression_attribute_values(":a", s("ANOMALY"))
            .scan_index_forward(false)
            .limit(limit)
            .send()
            .await
            .map_err(|e| err(&e))?;
        out.items()
            .iter()
            .map(|i| {
                let mut v: serde_json::Value = serde_dynamo::from_item(i.clone()).map_err(corrupt)?;
                if let Some(o) = v.as_object_mut() {
                    o.remove("PK");
                    o.remove("SK");
                }
                Ok(v)
            })
            .collect()
    }

    /// Something operators must resolve (an unknown or mismatched payment, a payment after
    /// cancellation). Never contains keys or personal data beyond the order number.
    pub async fn record_anomaly(
        &self,
        kind: &str,
        out_trade_no: &str,
        detail: serde_json::Value,
    ) -> Result<(), OrderStoreError> {
        let millis = OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
        let item = serde_json::json!({
            "PK": "ANOMALY", "SK": format!("{millis:015}#{out_trade_no}#{}", &uuid::Uuid::new_v4().simple().to_string()[..6]),
            "entity": "payment_anomaly", "kind": kind, "out_trade_no": out_trade_no, "detail": detail, "at": millis / 1000,
        });
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(serde_dynamo::to_item(item).map_err(corrupt)?))
            .send()
            .await
            .map_err(|e| err(&e))?;
        tracing::warn!(kind, out_trade_no, "payment anomaly recorded for operators");
        Ok(())
    }

    /// The versions of the ID-card photos that completed the user's binding in the campaign.
    pub async fn card_versions(
        &self,
        user: &UserId,
        campaign_id: &str,
    ) -> Result<Option<yunzhao_domain::identity::CardVersions>, OrderStoreError> {
        super::roster::card_versions(&self.client, &self.table, campaign_id, user).await
    }
}

impl DynamoOrders {
    /// Opens the next upload attempt of an order that may take one (and has no refund
    /// pending); its number, or `None` when the order may not take an upload.
    pub async fn start_attempt(
        &self,
        order: &Order,
        now: OffsetDateTime,
    ) -> Result<Option<(u32, String)>, OrderStoreError> {
        let (no, now) = (&order.out_trade_no, now.unix_timestamp());
        // Each upload takes one of the order's free checks (orders made before checks were
        // counted have none to take).
        let take_check = if order.checks_left.is_some() { ", checks_left = checks_left - :one" } else { "" };
        let mut update = self
            .update_order(no)
            .update_expression(format!("ADD attempts :one SET last_attempt_at = :now{take_check}"))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":max", n(i64::from(yunzhao_domain::upload::MAX_ATTEMPTS)))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew);
        let (states, values) = state_in(&yunzhao_domain::upload::UPLOADABLE, "u");
        for (k, v) in values {
            update = update.expression_attribute_values(k, v);
        }
        let result = update
            .condition_expression(format!(
                "{states} AND attribute_not_exists(out_refund_no) AND (attribute_not_exists(attempts) OR attempts < :max) \
                 AND (attribute_not_exists(checks_left) OR checks_left > :zero)"
            ))
            .send()
            .await;
        let out = match result {
            Ok(out) => out,
            Err(e) if is_condition_failure(&e) => return Ok(None),
            Err(e) => return Err(err(&e)),
        };
        let attempt: u32 = out
            .attributes
            .and_then(|a| a.get("attempts").and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok()))
            .ok_or_else(|| OrderStoreError::Corrupt("attempt counter missing".into()))?;
        let key = yunzhao_domain::objects::upload(&order.campaign_id, no, attempt);
        self.client
            .put_item()
            .table_name(&self.table)
            .item("PK", s(&keys::order(no)))
            .item("SK", s(&keys::attempt(attempt)))
            .item("entity", s("attempt"))
            .item("attempt", n(i64::from(attempt)))
            .item("object_key", s(&key))
            .item("state", s(ATTEMPT_AWAITING))
            .item("created_at", n(now))
            .send()
            .await
            .map_err(|e| err(&e))?;
        Ok(Some((attempt, key)))
    }

    /// One attempt as stored, `None` for an attempt never opened.
    pub async fn attempt(&self, no: &OutTradeNo, attempt: u32) -> Result<Option<Attempt>, OrderStoreError> {
        let out = super::get_item(&self.client, &self.table, &keys::order(no), &keys::attempt(attempt))
            .await
            .map_err(|e| err(&e))?;
        out.map(|i| serde_dynamo::from_item(i).map_err(corrupt)).transpose()
    }

    /// The write that makes one object version (and etag) the attempt's upload, for the
    /// transaction that starts standardizing it: only while the attempt has taken no upload
    /// yet, or took this very one (the same event again, after a failure). Once written the
    /// attempt's upload never changes: see standardize's `handler` for why.
    fn take_upload(
        &self,
        no: &OutTradeNo,
        attempt: u32,
        etag: &str,
        version: Option<&str>,
    ) -> Result<TransactWriteItem, OrderStoreError> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let mut update = Update::builder()
            .table_name(&self.table)
            .key("PK", s(&keys::order(no)))
            .key("SK", s(&keys::attempt(attempt)))
            .expression_attribute_names("#st", "state")
            .expression_attribute_values(":awaiting", s(ATTEMPT_AWAITING))
            .expression_attribute_values(":uploaded", s(ATTEMPT_UPLOADED))
            .expression_attribute_values(":etag", s(etag))
            .expression_attribute_values(":now", n(now));
        let (set, same) = match version {
            Some(v) => {
                update = update.expression_attribute_values(":v", s(v));
                (", upload_version = :v", "upload_version = :v")
            }
            None => ("", "attribute_not_exists(upload_version)"),
        };
        let update = update
            .update_expression(format!(
                "SET #st = :uploaded, upload_etag = :etag, uploaded_at = if_not_exists(uploaded_at, :now){set}"
            ))
            .condition_expression(format!("#st = :awaiting OR (#st = :uploaded AND upload_etag = :etag AND {same})"))
            .build()
            .map_err(corrupt)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }
}

/// A check, for a transaction, that the student's order pointer in the campaign is still
/// what was read (`seen`: none, or that order): no order was created meanwhile.
pub(crate) fn pointer_unchanged(
    table: &str,
    user: &UserId,
    campaign_id: &str,
    seen: Option<&OutTradeNo>,
) -> Result<TransactWriteItem, OrderStoreError> {
    let check = aws_sdk_dynamodb::types::ConditionCheck::builder()
        .table_name(table)
        .key("PK", s(&keys::user(user)))
        .key("SK", s(&keys::live_order(campaign_id)));
    let check = match seen {
        None => check.condition_expression("attribute_not_exists(PK)"),
        Some(no) => {
            check.condition_expression("out_trade_no = :seen").expression_attribute_values(":seen", s(no.as_str()))
        }
    };
    Ok(TransactWriteItem::builder().condition_check(check.build().map_err(corrupt)?).build())
}

impl yunzhao_domain::upload::Attempts for DynamoOrders {
    async fn start_attempt(
        &self,
        order: &Order,
        now: OffsetDateTime,
    ) -> Result<Option<(u32, String)>, OrderStoreError> {
        DynamoOrders::start_attempt(self, order, now).await
    }

    async fn taken_version(&self, no: &OutTradeNo, attempt: u32) -> Result<Option<String>, OrderStoreError> {
        Ok(self.attempt(no, attempt).await?.and_then(|a| a.upload_version))
    }
}

impl OrderStore for DynamoOrders {
    async fn get(&self, no: &OutTradeNo) -> Result<Option<Order>, OrderStoreError> {
        DynamoOrders::get(self, no).await
    }

    async fn apply(&self, order: &Order, change: Change) -> Result<Applied, OrderStoreError> {
        DynamoOrders::apply(self, order, change).await
    }

    async fn open(&self, fresh: Order) -> Result<(Order, bool), OrderStoreError> {
        DynamoOrders::open(self, fresh).await
    }

    async fn set_prepay(&self, no: &OutTradeNo, prepay_id: &str) -> Result<(), OrderStoreError> {
        DynamoOrders::set_prepay(self, no, prepay_id).await
    }

    async fn record_anomaly(
        &self,
        kind: &str,
        out_trade_no: &str,
        detail: serde_json::Value,
    ) -> Result<(), OrderStoreError> {
        DynamoOrders::record_anomaly(self, kind, out_trade_no, detail).await
    }
}

/// An attempt before standardize took an upload for it, and after.
const ATTEMPT_AWAITING: &str = "awaiting_upload";
const ATTEMPT_UPLOADED: &str = "uploaded";

/// An upload attempt, `PK=ORDER#<no>`, `SK=ATTEMPT#<nnnn>`: the key its presigned form posts
/// to and, once standardize took an upload for it, which object version that was (its
/// original, set once: later writes to the key are not it).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Attempt {
    pub attempt: u32,
    pub object_key: String,
    /// `awaiting_upload`, then `uploaded`.
    pub state: String,
    /// The S3 version standardize read (none in a bucket without versioning).
    #[serde(default)]
    pub upload_version: Option<String>,
    #[serde(default)]
    pub upload_etag: Option<String>,
    #[serde(default)]
    pub uploaded_at: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_conditions_name_each_state_once() {
        let (cond, values) = state_in(&[OrderState::Paid, OrderState::Rejected], "u");
        assert_eq!(cond, "#state IN (:u0, :u1)");
        assert_eq!(values[1], (":u1".to_owned(), AttributeValue::S("rejected".into())));
    }
}
