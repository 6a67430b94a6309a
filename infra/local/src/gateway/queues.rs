//! The SQS event-source mapping: long-poll the queue, hand the batch to the function as an
//! SQS event, delete what succeeded. With `ReportBatchItemFailures` only the reported
//! messages stay; a failed invocation leaves the whole batch to come back after the
//! visibility timeout, and the queue's redrive policy moves repeat failures to its DLQ.

use std::collections::HashSet;
use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName};
use serde_json::{Value, json};

use super::QueueMapping;
use super::invoke::{Invoker, Outcome};

pub async fn poll(sqs: Client, invoker: Invoker, mapping: QueueMapping) {
    tracing::info!(function = mapping.function, queue = mapping.queue_url, "polling queue");
    loop {
        if let Err(e) = poll_once(&sqs, &invoker, &mapping).await {
            tracing::warn!(function = mapping.function, error = %e, "queue poll failed");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

async fn poll_once(sqs: &Client, invoker: &Invoker, m: &QueueMapping) -> anyhow::Result<()> {
    let received = sqs
        .receive_message()
        .queue_url(&m.queue_url)
        .max_number_of_messages(m.batch_size.clamp(1, 10))
        .wait_time_seconds(5)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .message_attribute_names("All")
        .send()
        .await?;
    let messages = received.messages.unwrap_or_default();
    if messages.is_empty() {
        return Ok(());
    }
    let event = json!({ "Records": messages.iter().map(|msg| record(msg, &m.queue_arn)).collect::<Vec<_>>() });
    let done: Vec<&Message> = match invoker.invoke(&m.function, &event).await? {
        Outcome::Failed(why) => {
            tracing::warn!(function = m.function, batch = messages.len(), error = %why, "batch failed; messages return after the visibility timeout");
            Vec::new()
        }
        Outcome::Returned(response) if m.report_batch_item_failures => match failed_ids(&response) {
            Some(failed) => {
                messages.iter().filter(|msg| !failed.contains(msg.message_id().unwrap_or_default())).collect()
            }
            // A malformed batch response counts as a failure of the whole batch, as in AWS.
            None => Vec::new(),
        },
        Outcome::Returned(_) => messages.iter().collect(),
    };
    delete(sqs, &m.queue_url, &done).await
}

/// The message ids a `{"batchItemFailures":[{"itemIdentifier":…}]}` response names, or
/// `None` when the response does not have that shape. A null or empty response is success.
fn failed_ids(response: &Value) -> Option<HashSet<String>> {
    if response.is_null() {
        return Some(HashSet::new());
    }
    let failures = match response.get("batchItemFailures") {
        None | Some(Value::Null) => return Some(HashSet::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return None,
    };
    failures
        .iter()
        .map(|f| f.get("itemIdentifier").and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned))
        .collect()
}

async fn delete(sqs: &Client, queue_url: &str, messages: &[&Message]) -> anyhow::Result<()> {
    for chunk in messages.chunks(10) {
        let entries = chunk
            .iter()
            .enumerate()
            .map(|(i, msg)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(msg.receipt_handle().unwrap_or_default())
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()?;
        sqs.delete_message_batch().queue_url(queue_url).set_entries(Some(entries)).send().await?;
    }
    Ok(())
}

/// One record of the SQS event Lambda sends.
fn record(msg: &Message, queue_arn: &str) -> Value {
    let attributes: serde_json::Map<String, Value> =
        msg.attributes().into_iter().flatten().map(|(k, v)| (k.as_str().to_owned(), json!(v))).collect();
    let message_attributes: serde_json::Map<String, Value> = msg
        .message_attributes()
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            (k.clone(), json!({"stringValue": v.string_value(), "dataType": v.data_type(), "stringListValues": [], "binaryListValues": []}))
        })
        .collect();
    let region = queue_arn.split(':').nth(3).unwrap_or("us-east-1");
    json!({
        "messageId": msg.message_id(),
        "receiptHandle": msg.receipt_handle(),
        "body": msg.body().unwrap_or_default(),
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": msg.md5_of_body(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_item_failures_are_read_and_malformed_ones_fail_the_batch() {
        let ok = failed_ids(&json!({"batchItemFailures": [{"itemIdentifier": "m2"}]})).expect("valid");
        assert!(ok.contains("m2") && ok.len() == 1);
        assert_eq!(failed_ids(&json!({"batchItemFailures": []})).map(|s| s.len()), Some(0));
        assert_eq!(failed_ids(&Value::Null).map(|s| s.len()), Some(0));
        assert!(failed_ids(&json!({"batchItemFailures": [{"itemIdentifier": ""}]})).is_none());
        assert!(failed_ids(&json!({"batchItemFailures": "m1"})).is_none());
    }

    #[test]
    fn records_look_like_lambda_sqs_records() {
        let msg = Message::builder()
            .message_id("m1")
            .receipt_handle("rh")
            .body("{}")
            .attributes(MessageSystemAttributeName::ApproximateReceiveCount, "2")
            .build();
        let r = record(&msg, "arn:aws:sqs:eu-west-1:000000000000:q");
        assert_eq!(r["eventSource"], "aws:sqs");
        assert_eq!(r["awsRegion"], "eu-west-1");
        assert_eq!(r["attributes"]["ApproximateReceiveCount"], "2");
        let parsed: aws_lambda_events::sqs::SqsMessage = serde_json::from_value(r).expect("lambda shape");
        assert_eq!(parsed.message_id.as_deref(), Some("m1"));
        assert_eq!(parsed.event_source_arn.as_deref(), Some("arn:aws:sqs:eu-west-1:000000000000:q"));
    }
}
