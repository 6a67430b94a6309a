//! EventBridge schedules: a timer that sends the scheduled event the rule would send.

use std::time::Duration;

use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Schedule;
use super::invoke::{Invoker, Outcome};

pub async fn tick(invoker: Invoker, schedule: Schedule) {
    let mut every = tokio::time::interval(Duration::from_secs(schedule.every_seconds.max(1)));
    every.tick().await; // the first tick is immediate; a rule first fires after one period
    loop {
        every.tick().await;
        let event = json!({
            "version": "0",
            "id": uuid::Uuid::new_v4().to_string(),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "000000000000",
            "time": OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default(),
            "region": "us-east-1",
            "resources": [format!("arn:aws:events:us-east-1:000000000000:rule/{}", schedule.name)],
            "detail": {},
        });
        match invoker.invoke(&schedule.function, &event).await {
            Ok(Outcome::Returned(_)) => tracing::info!(function = schedule.function, "scheduled run done"),
            Ok(Outcome::Failed(why)) => {
                tracing::warn!(function = schedule.function, error = %why, "scheduled run failed")
            }
            Err(e) => tracing::warn!(function = schedule.function, error = %e, "scheduled invoke failed"),
        }
    }
}
