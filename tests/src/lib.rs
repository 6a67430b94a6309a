//! The harness the end-to-end tests and the demo share: the local stack's addresses (from
//! the environment `infra/local/stack.sh run` sets), an HTTP client for the API as the
//! mini-program calls it, and the fake WeChat's controls.

use anyhow::{Context, bail};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

pub struct Stack {
    pub api: String,
    pub wechat: String,
    pub table: String,
    /// The local session signing key (to mint expired or forged tokens in tests).
    pub session_signing_key: String,
    pub functions_log: String,
    http: reqwest::Client,
    ddb: aws_sdk_dynamodb::Client,
}

/// A response as the mini-program sees it.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The stable error code of an error reply.
    pub fn error_code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

/// What the fake WeChat minted for one `wx.login`.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct WxCode {
    pub code: String,
    pub openid: String,
    /// What WeChat will hand our backend with the openid; it must never come back out.
    pub session_key: String,
}

/// A logged-in student.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
    pub user_id: String,
    pub openid: String,
}

fn env(name: &str) -> anyhow::Result<String> {
    std::env::var(name)
        .with_context(|| format!("{name} is not set: run through `make test` or `infra/local/stack.sh run …`"))
}

impl Stack {
    pub async fn from_env() -> anyhow::Result<Self> {
        let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Ok(Self {
            api: env("API_URL")?,
            wechat: env("FAKE_WECHAT_URL")?,
            table: env("TABLE_NAME")?,
            session_signing_key: env("SESSION_SIGNING_KEY")?,
            functions_log: env("FUNCTIONS_LOG")?,
            http: reqwest::Client::builder().timeout(std::time::Duration::from_secs(120)).build()?,
            ddb: aws_sdk_dynamodb::Client::new(&aws),
        })
    }

    pub fn ddb(&self) -> &aws_sdk_dynamodb::Client {
        &self.ddb
    }

    /// `wx.login` on a phone: a fresh code for `openid` (a new random person when `None`).
    pub async fn wx_login(&self, openid: Option<&str>) -> anyhow::Result<WxCode> {
        self.mint_code(json!({ "openid": openid })).await
    }

    /// A code for which WeChat answers `errcode` (`times` times, or always when `None`).
    pub async fn wx_login_failing(&self, errcode: i64, times: Option<u32>) -> anyhow::Result<WxCode> {
        self.mint_code(json!({ "errcode": errcode, "times": times })).await
    }

    async fn mint_code(&self, body: Value) -> anyhow::Result<WxCode> {
        let response = self.http.post(format!("{}/_fake/login-codes", self.wechat)).json(&body).send().await?;
        Ok(response.error_for_status()?.json().await?)
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> anyhow::Result<Reply> {
        let mut req = self.http.request(method, format!("{}{path}", self.api));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let response = req.send().await?;
        let (status, headers) = (response.status(), response.headers().clone());
        let bytes = response.bytes().await?;
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Ok(Reply { status, headers, body })
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> anyhow::Result<Reply> {
        self.call(reqwest::Method::POST, path, token, Some(body)).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> anyhow::Result<Reply> {
        self.call(reqwest::Method::GET, path, token, None).await
    }

    /// Logs a new (or the given) person in through `POST /v1/session`.
    pub async fn log_in(&self, openid: Option<&str>) -> anyhow::Result<Session> {
        let wx = self.wx_login(openid).await?;
        let reply = self.post("/v1/session", None, &json!({ "code": wx.code })).await?;
        if reply.status != StatusCode::OK {
            bail!("login failed: {} {}", reply.status, reply.body);
        }
        Ok(Session {
            token: reply.body["token"].as_str().context("token")?.to_owned(),
            user_id: reply.body["user"]["id"].as_str().context("user id")?.to_owned(),
            openid: wx.openid,
        })
    }

    /// A table item by key, as JSON-ish text for printing and asserting.
    pub async fn item(
        &self,
        pk: &str,
        sk: &str,
    ) -> anyhow::Result<Option<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>>> {
        use aws_sdk_dynamodb::types::AttributeValue::S;
        let out = self
            .ddb
            .get_item()
            .table_name(&self.table)
            .key("PK", S(pk.into()))
            .key("SK", S(sk.into()))
            .consistent_read(true)
            .send()
            .await?;
        Ok(out.item)
    }
}
