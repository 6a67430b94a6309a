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
