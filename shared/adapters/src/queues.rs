//! SQS as the functions use it: a job queue to send work to (the export queue), and the
//! dead-letter queues operators watch.

#[derive(Debug, thiserror::Error)]
#[error("queue unavailable: {0}")]
pub struct QueueError(String);

fn err(e: impl std::error::Error) -> QueueError {
    QueueError(aws_sdk_sqs::error::DisplayErrorContext(e).to_string())
}

/// A queue jobs are sent to, one JSON message each.
#[derive(Clone)]
pub struct JobQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl JobQueue {
    pub fn new(sdk: &aws_config::SdkConfig, url: impl Into<String>) -> Self {
        Self { client: aws_sdk_sqs::Client::new(sdk), url: url.into() }
    }

    pub async fn send(&self, job: &impl serde::Serialize) -> Result<(), QueueError> {
        let body = serde_json::to_string(job).map_err(|e| QueueError(e.to_string()))?;
        self.client.send_message().queue_url(&self.url).message_body(body).send().await.map_err(err)?;
        Ok(())
    }
}

/// The dead-letter queues, by name: what the functions gave up on.
pub struct DeadLetters {
    client: aws_sdk_sqs::Client,
    queues: Vec<(&'static str, String)>,
}

impl DeadLetters {
    pub fn new(sdk: &aws_config::SdkConfig, queues: Vec<(&'static str, String)>) -> Self {
        Self { client: aws_sdk_sqs::Client::new(sdk), queues }
    }

    /// Each queue's name and its approximate number of messages.
    pub async fn depths(&self) -> Result<Vec<(&'static str, u64)>, QueueError> {
        use aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages as Depth;
        let mut out = Vec::new();
        for (name, url) in &self.queues {
            let attrs =
                self.client.get_queue_attributes().queue_url(url).attribute_names(Depth).send().await.map_err(err)?;
            let depth = attrs.attributes().and_then(|a| a.get(&Depth)).and_then(|v| v.parse::<u64>().ok());
            out.push((*name, depth.unwrap_or(0)));
        }
        Ok(out)
    }
}
