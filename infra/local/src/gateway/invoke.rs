//! The Lambda Invoke API (`POST /2015-03-31/functions/<fn>/invocations`) as served by
//! `cargo lambda watch`.

use std::time::Duration;

use anyhow::Context;

#[derive(Clone)]
pub struct Invoker {
    http: reqwest::Client,
    base: String,
}

/// What came back from one invocation.
pub enum Outcome {
    Returned(serde_json::Value),
    /// The function returned an error or crashed (`X-Amz-Function-Error`), or answered non-JSON.
    Failed(String),
}

impl Invoker {
    pub fn new(base: &str) -> anyhow::Result<Self> {
        // Generous: the first invoke of a function may wait for cargo to finish a build.
        let http = reqwest::Client::builder().timeout(Duration::from_secs(300)).build()?;
        Ok(Self { http, base: base.trim_end_matches('/').to_owned() })
    }

    pub async fn invoke(&self, function: &str, event: &serde_json::Value) -> anyhow::Result<Outcome> {
        let url = format!("{}/2015-03-31/functions/{function}/invocations", self.base);
        let response = self.http.post(url).json(event).send().await.with_context(|| format!("invoke {function}"))?;
        let function_error = response.headers().contains_key("x-amz-function-error");
        let status = response.status();
        let bytes = response.bytes().await?;
        if function_error || !status.is_success() {
            return Ok(Outcome::Failed(String::from_utf8_lossy(&bytes).chars().take(500).collect()));
        }
        Ok(match serde_json::from_slice(&bytes) {
            Ok(v) => Outcome::Returned(v),
            Err(_) => Outcome::Failed("function returned non-JSON".into()),
        })
    }
}
