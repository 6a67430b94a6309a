//! WeChat's server APIs. `base_url` is `https://api.weixin.qq.com` in production and the
//! fake WeChat server locally; the protocol is the same.

pub mod login;
pub mod pay;
pub mod pay_crypto;
pub mod web_login;

pub use login::WeChatLoginClient;
pub use web_login::WeChatWebLoginClient;

/// The production API host.
pub const API_BASE: &str = "https://api.weixin.qq.com";

/// WeChat must answer well inside the caller's patience (and the Lambda timeout).
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// One app's credentials at WeChat (the mini-program's, the website app's) and the HTTP
/// client that calls its server API.
pub struct AppClient {
    http: reqwest::Client,
    base_url: String,
    appid: String,
    secret: String,
}

impl AppClient {
    pub fn new(
        base_url: impl Into<String>,
        appid: impl Into<String>,
        secret: impl Into<String>,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder().timeout(TIMEOUT).build()?;
        Ok(Self { http, base_url: base_url.into(), appid: appid.into(), secret: secret.into() })
    }

    /// A GET of `path` with the app's `appid` and `secret` first in the query.
    fn authorised_get(&self, path: &str, query: &[(&str, &str)]) -> reqwest::RequestBuilder {
        let credentials = [("appid", self.appid.as_str()), ("secret", self.secret.as_str())];
        self.http.get(format!("{}{path}", self.base_url)).query(&credentials).query(query)
    }

    /// A GET of `path` without the app's credentials (user-token calls such as `/sns/userinfo`).
    fn get(&self, path: &str, query: &[(&str, &str)]) -> reqwest::RequestBuilder {
        self.http.get(format!("{}{path}", self.base_url)).query(query)
    }
}
