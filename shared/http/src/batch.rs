//! SQS consumers: one loop for every batch. Each message runs in a span of its own (its
//! message id on every line it logs) and ends one of three ways: done; dropped — it can never
//! succeed (a message that is not a job, a campaign that does not exist, a corrupt record), so
//! it is consumed with a warning rather than retried into the dead-letter queue; or retried —
//! the store or S3 did not answer, so it is reported as a batch item failure and delivered
//! again after its visibility timeout. A message is only started while the invocation has
//! `reserve` left; the rest go back to the queue untouched rather than being cut off half-way.

use std::fmt::Display;
use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use lambda_runtime::LambdaEvent;
use tracing::Instrument;

/// Why a message did not complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Worth another delivery: a dependency did not answer.
    Retry(String),
    /// Never worth another: consumed, and the reason logged.
    Drop(String),
}

impl Failure {
    pub fn retry(e: impl Display) -> Self {
        Self::Retry(e.to_string())
    }

    pub fn drop(e: impl Display) -> Self {
        Self::Drop(e.to_string())
    }
}

/// An order store that did not answer is worth a retry; a corrupt record is not.
impl From<yunzhao_domain::order::StoreError> for Failure {
    fn from(e: yunzhao_domain::order::StoreError) -> Self {
        match e {
            yunzhao_domain::order::StoreError::Unavailable(_) => Self::retry(e),
            yunzhao_domain::order::StoreError::Corrupt(_) => Self::drop(e),
        }
    }
}

/// Runs `handle` on each message's body in turn and reports the ones to deliver again.
pub async fn each_message<F, Fut>(event: LambdaEvent<SqsEvent>, reserve: Duration, handle: F) -> SqsBatchResponse
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<(), Failure>>,
{
    let mut response = SqsBatchResponse::default();
    // An invocation that starts with less than the reserve left has no real deadline (local
    // runtimes send none, or the invoke time): no guard then.
    let deadline = UNIX_EPOCH + Duration::from_millis(event.context.deadline);
    let deadline = deadline.duration_since(SystemTime::now()).is_ok_and(|left| left >= reserve).then_some(deadline);
    for message in event.payload.records {
        let id = message.message_id.unwrap_or_default();
        let span = tracing::info_span!("message", message_id = %id);
        let left = deadline.map(|d| d.duration_since(SystemTime::now()).unwrap_or_default());
        if let Some(left) = left.filter(|l| *l < reserve) {
            span.in_scope(|| {
                tracing::warn!(left_ms = left.as_millis() as u64, outcome = "retry", "too little time left")
            });
            response.batch_item_failures.push(item_failure(id));
            continue;
        }
        let outcome = handle(message.body.unwrap_or_default()).instrument(span.clone()).await;
        match outcome {
            Ok(()) => {}
            Err(Failure::Drop(why)) => {
                span.in_scope(|| tracing::warn!(error = why, outcome = "dropped", "message can never succeed"))
            }
            Err(Failure::Retry(why)) => {
                span.in_scope(|| tracing::warn!(error = why, outcome = "retry", "message not done yet"));
                response.batch_item_failures.push(item_failure(id));
            }
        }
    }
    response
}

/// The message goes back to the queue, to be delivered again after its visibility timeout.
fn item_failure(id: String) -> BatchItemFailure {
    let mut failure = BatchItemFailure::default();
    failure.item_identifier = id;
    failure
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::event::sqs::SqsMessage;
    use yunzhao_domain::test_support::run;

    fn batch(bodies: &[&str], deadline_ms: u64) -> LambdaEvent<SqsEvent> {
        let mut event = SqsEvent::default();
        event.records = bodies
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let mut m = SqsMessage::default();
                m.message_id = Some(format!("m{i}"));
                m.body = Some((*b).to_owned());
                m
            })
            .collect();
        let mut context = lambda_runtime::Context::default();
        context.deadline = deadline_ms;
        LambdaEvent::new(event, context)
    }

    fn failed(r: &SqsBatchResponse) -> Vec<&str> {
        r.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect()
    }

    async fn by_body(body: String) -> Result<(), Failure> {
        match body.as_str() {
            "busy" => Err(Failure::retry("store timed out")),
            "junk" => Err(Failure::drop("not a job")),
            _ => Ok(()),
        }
    }

    #[test]
    fn only_messages_worth_retrying_come_back() {
        let r = run(each_message(batch(&["ok", "busy", "junk", "busy"], 0), Duration::from_secs(8), by_body));
        assert_eq!(failed(&r), ["m1", "m3"]);
    }

    #[test]
    fn once_the_reserve_is_reached_the_rest_of_the_batch_goes_back_untouched() {
        let in_10s = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_millis() as u64 + 10_000;
        let started = std::sync::Mutex::new(Vec::new());
        // The first message takes 1.5 s: after it, less than the 9 s reserve is left.
        let slow = |body: String| {
            started.lock().expect("lock").push(body);
            std::thread::sleep(Duration::from_millis(1_500));
            std::future::ready(Ok(()))
        };
        let r = run(each_message(batch(&["a", "b", "c"], in_10s), Duration::from_secs(9), slow));
        assert_eq!(*started.lock().expect("lock"), ["a"]);
        assert_eq!(failed(&r), ["m1", "m2"]);
    }

    #[test]
    fn a_corrupt_order_is_dropped_and_an_unanswered_store_retried() {
        use yunzhao_domain::order::StoreError;
        assert!(matches!(Failure::from(StoreError::Corrupt("x".into())), Failure::Drop(_)));
        assert!(matches!(Failure::from(StoreError::Unavailable("x".into())), Failure::Retry(_)));
    }
}
