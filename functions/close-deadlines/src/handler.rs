//! Every few minutes (EventBridge): each campaign whose window has ended (Asia/Shanghai, so
//! "4月5日24时" is 6 April 00:00) is closed. Its unpaid orders are closed at WeChat Pay and
//! cancelled here (one paid at the last moment is settled as paid), then the campaign is
//! marked closed and its final export asked for. Every step is conditional, so a second run,
//! or two runs at once, change nothing more. "Now" is the schedule's time, so a late or
//! replayed invocation acts for the minute it was meant for.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use lambda_runtime::LambdaEvent;
use serde_json::{Value, json};
use time::OffsetDateTime;
use yunzhao_adapters::dynamo::exports::{Export, FINAL};
use yunzhao_adapters::dynamo::{DynamoCampaigns, DynamoExports, DynamoOrders};
use yunzhao_adapters::queues::JobQueue;
use yunzhao_adapters::wechat::pay::WeChatPay;
use yunzhao_domain::campaign::Campaign;
use yunzhao_domain::order::OrderState;
use yunzhao_domain::payment::{self, Cancelling};

const ACTOR: &str = "close-deadlines";

pub struct Deps {
    pub campaigns: DynamoCampaigns,
    pub orders: DynamoOrders,
    pub exports: DynamoExports,
    pub pay: WeChatPay,
    pub export_queue: JobQueue,
}

pub async fn handle(deps: &Deps, event: LambdaEvent<EventBridgeEvent<Value>>) -> Result<Value, lambda_runtime::Error> {
    let now = event
        .payload
        .time
        .and_then(|t| OffsetDateTime::from_unix_timestamp(t.timestamp()).ok())
        .unwrap_or_else(OffsetDateTime::now_utc);
    let due = deps.campaigns.due_to_close(now).await?;
    let mut closed = Vec::new();
    for campaign in due {
        // Re-checked on the record itself: the index may lag a window just moved later.
        if campaign.window.closes_at > now {
            continue;
        }
        let cancelled = close(deps, &campaign, now).await?;
        closed.push(json!({"campaign_id": campaign.id, "unpaid_orders_cancelled": cancelled}));
    }
    tracing::info!(at = %now, campaigns_closed = closed.len(), "deadline run");
    Ok(json!({"at": now.unix_timestamp(), "closed": closed}))
}

async fn close(deps: &Deps, campaign: &Campaign, now: OffsetDateTime) -> Result<usize, lambda_runtime::Error> {
    let mut cancelled = 0;
    for order in deps.orders.by_campaign(&campaign.id).await? {
        if order.state != OrderState::Created {
            continue;
        }
        // The index may be behind: decide on the order as it is now.
        let Some(order) = deps.orders.get(&order.out_trade_no).await? else { continue };
        match payment::cancel_unpaid(&deps.orders, &deps.pay, &order, "campaign_closed", ACTOR, None, now).await? {
            Cancelling::Cancelled => cancelled += 1,
            Cancelling::PaidMeanwhile(s) => {
                tracing::info!(out_trade_no = %order.out_trade_no, settlement = ?s, "paid at the close: kept")
            }
            Cancelling::NotUnpaid(_) => {}
        }
    }
    // Marked closed only once its unpaid orders are gone: a run that fails half-way is
    // completed by the next one.
    if deps.campaigns.mark_closed(&campaign.id, now).await? {
        tracing::info!(campaign_id = campaign.id, cancelled, "campaign closed");
    }
    let export = Export::requested(&campaign.id, FINAL, ACTOR, now.unix_timestamp() * 1000, 0);
    if deps.exports.request(&export).await? {
        deps.export_queue.send(&json!({"campaign_id": campaign.id, "export_id": FINAL})).await?;
    }
    Ok(cancelled)
}
