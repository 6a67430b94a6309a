//! WeChat Pay API v3 (JSAPI): prepay, query, close, refund, and opening notifications.
//! Requests are signed with the merchant key; responses and notifications must carry a valid
//! signature of a known platform key and a fresh timestamp.

use std::time::Duration;

use base64::Engine;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::Serialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use yunzhao_domain::order::{OutTradeNo, ReportedPayment, TradeState};
use yunzhao_domain::payment::{Closing, GatewayError, PaymentGateway, Prepay};

use super::pay_crypto::{self, PayCryptoError, PlatformKeys, RsaSigner};

/// The production API host.
pub const PAY_API_BASE: &str = "https://api.mch.weixin.qq.com";
/// A notification older or newer than this (seconds) is refused as a replay.
pub const MAX_CLOCK_SKEW: i64 = 300;
/// WeChat Pay is given this long per request; the webhook answers well inside WeChat's 5 s.
const TIMEOUT: Duration = Duration::from_secs(4);

pub struct PayConfig {
    pub base_url: String,
    pub appid: String,
    pub mchid: String,
    pub merchant_serial: String,
    pub merchant_key: RsaSigner,
    pub platform_keys: PlatformKeys,
    pub apiv3_key: Vec<u8>,
    pub notify_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayError {
    #[error("WeChat Pay unreachable: {0}")]
    Unreachable(String),
    #[error("WeChat Pay answered {status} {code}")]
    Refused { status: u16, code: String },
    #[error("WeChat Pay's answer failed verification: {0}")]
    Unverified(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    #[error("timestamp outside the allowed window")]
    Stale,
    #[error(transparent)]
    Crypto(#[from] PayCryptoError),
    #[error("notification body is not the expected JSON")]
    Malformed,
}

/// The parameters `wx.requestPayment` needs.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestPayment {
    pub app_id: String,
    pub time_stamp: String,
    pub nonce_str: String,
    pub package: String,
    pub sign_type: String,
    pub pay_sign: String,
}

/// What a verified, decrypted notification says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notification {
    Transaction { id: String, payment: ReportedPayment },
    Refund { id: String, out_trade_no: String, out_refund_no: String, refund_status: String },
    Other { id: String, event_type: String },
}

pub struct WeChatPay {
    http: reqwest::Client,
    cfg: PayConfig,
}

fn header<'a>(headers: &'a HeaderMap, name: &'static str) -> Result<&'a str, NotifyError> {
    headers.get(name).and_then(|v| v.to_str().ok()).ok_or(NotifyError::MissingHeader(name))
}

/// Reads a transaction resource (notification or query answer).
pub fn reported_payment(v: &Value) -> Option<ReportedPayment> {
    Some(ReportedPayment {
        appid: v["appid"].as_str()?.to_owned(),
        mchid: v["mchid"].as_str()?.to_owned(),
        out_trade_no: v["out_trade_no"].as_str()?.to_owned(),
        transaction_id: v["transaction_id"].as_str().unwrap_or_default().to_owned(),
        trade_state: TradeState::parse(v["trade_state"].as_str()?),
        total_fen: v["amount"]["total"].as_u64().unwrap_or(0),
        payer_openid: v["payer"]["openid"].as_str().unwrap_or_default().to_owned(),
    })
}

impl WeChatPay {
    pub fn new(cfg: PayConfig) -> Result<Self, reqwest::Error> {
        Ok(Self { http: reqwest::Client::builder().timeout(TIMEOUT).build()?, cfg })
    }

    pub fn appid(&self) -> &str {
        &self.cfg.appid
    }

    pub fn mchid(&self) -> &str {
        &self.cfg.mchid
    }

    /// Verifies a notification's signature, freshness and resource, and decodes it.
    pub fn open_notification(
        &self,
        headers: &HeaderMap,
        body: &str,
        now: OffsetDateTime,
    ) -> Result<Notification, NotifyError> {
        let timestamp = header(headers, "wechatpay-timestamp")?;
        let nonce = header(headers, "wechatpay-nonce")?;
        let signature = header(headers, "wechatpay-signature")?;
        let serial = header(headers, "wechatpay-serial")?;
        let ts: i64 = timestamp.parse().map_err(|_| NotifyError::Stale)?;
        if (now.unix_timestamp() - ts).abs() > MAX_CLOCK_SKEW {
            return Err(NotifyError::Stale);
        }
        self.cfg.platform_keys.verify(serial, timestamp, nonce, body, signature)?;
        let v: Value = serde_json::from_str(body).map_err(|_| NotifyError::Malformed)?;
        let id = v["id"].as_str().ok_or(NotifyError::Malformed)?.to_owned();
        let event_type = v["event_type"].as_str().ok_or(NotifyError::Malformed)?.to_owned();
        let r = &v["resource"];
        if r["algorithm"] != "AEAD_AES_256_GCM" {
            return Err(NotifyError::Malformed);
        }
        let plain = pay_crypto::decrypt_resource(
            &self.cfg.apiv3_key,
            r["nonce"].as_str().ok_or(NotifyError::Malformed)?,
            r["associated_data"].as_str().unwrap_or_default(),
            r["ciphertext"].as_str().ok_or(NotifyError::Malformed)?,
        )?;
        let resource: Value = serde_json::from_slice(&plain).map_err(|_| NotifyError::Malformed)?;
        Ok(if event_type.starts_with("TRANSACTION.") {
            Notification::Transaction { id, payment: reported_payment(&resource).ok_or(NotifyError::Malformed)? }
        } else if event_type.starts_with("REFUND.") {
            let field = |k: &str| resource[k].as_str().unwrap_or_default().to_owned();
            Notification::Refund {
                id,
                out_trade_no: field("out_trade_no"),
                out_refund_no: field("out_refund_no"),
                refund_status: field("refund_status"),
            }
        } else {
            Notification::Other { id, event_type }
        })
    }

    /// A signed request; the answer's signature is verified before it is trusted.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(StatusCode, Value), PayError> {
        let body_text = body.map(|b| b.to_string()).unwrap_or_default();
        let timestamp = OffsetDateTime::now_utc().unix_timestamp();
        let nonce = pay_crypto::nonce_str();
        let authorization = pay_crypto::authorization(
            &self.cfg.mchid,
            &self.cfg.merchant_serial,
            &self.cfg.merchant_key,
            (method.as_str(), path, timestamp, &nonce, &body_text),
        );
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.cfg.base_url))
            .header("authorization", authorization)
            .header("accept", "application/json")
            .header("user-agent", "yunzhao/0.1");
        if !body_text.is_empty() {
            req = req.header("content-type", "application/json").body(body_text);
        }
        let response = req.send().await.map_err(|e| PayError::Unreachable(e.without_url().to_string()))?;
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.map_err(|e| PayError::Unreachable(e.without_url().to_string()))?;
        if status.is_success() {
            let signed = (|| -> Result<(), NotifyError> {
                let (ts, nonce) = (header(&headers, "wechatpay-timestamp")?, header(&headers, "wechatpay-nonce")?);
                let (sig, serial) = (header(&headers, "wechatpay-signature")?, header(&headers, "wechatpay-serial")?);
                Ok(self.cfg.platform_keys.verify(serial, ts, nonce, &text, sig)?)
            })();
            signed.map_err(|e| PayError::Unverified(e.to_string()))?;
        }
        let v: Value = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::Null) };
        if !status.is_success() {
            return Err(PayError::Refused {
                status: status.as_u16(),
                code: v["code"].as_str().unwrap_or("UNKNOWN").to_owned(),
            });
        }
        Ok((status, v))
    }

    /// JSAPI prepay; the prepay_id.
    pub async fn prepay(&self, order: &Prepay<'_>) -> Result<String, PayError> {
        let expire = order
            .time_expire
            .to_offset(yunzhao_domain::campaign::SHANGHAI)
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(|e| PayError::Unverified(e.to_string()))?;
        let body = json!({
            "appid": self.cfg.appid,
            "mchid": self.cfg.mchid,
            "description": order.description,
            "out_trade_no": order.out_trade_no,
            "time_expire": expire,
            "notify_url": self.cfg.notify_url,
            "amount": {"total": order.amount_fen, "currency": "CNY"},
            "payer": {"openid": order.payer_openid},
        });
        let (_, v) = self.call(reqwest::Method::POST, "/v3/pay/transactions/jsapi", Some(body)).await?;
        v["prepay_id"].as_str().map(str::to_owned).ok_or_else(|| PayError::Unverified("no prepay_id".into()))
    }

    /// `wx.requestPayment` parameters for a prepay id, freshly signed.
    pub fn request_payment(&self, prepay_id: &str) -> RequestPayment {
        let time_stamp = OffsetDateTime::now_utc().unix_timestamp().to_string();
        let nonce_str = pay_crypto::nonce_str();
        let package = format!("prepay_id={prepay_id}");
        let pay_sign = self.cfg.merchant_key.sign(&pay_crypto::pay_sign_message(
            &self.cfg.appid,
            &time_stamp,
            &nonce_str,
            &package,
        ));
        RequestPayment {
            app_id: self.cfg.appid.clone(),
            time_stamp,
            nonce_str,
            package,
            sign_type: "RSA".into(),
            pay_sign,
        }
    }

    /// The transaction as WeChat Pay knows it; `None` when it never heard of it.
    pub async fn query(&self, out_trade_no: &str) -> Result<Option<ReportedPayment>, PayError> {
        let path = format!("/v3/pay/transactions/out-trade-no/{out_trade_no}?mchid={}", self.cfg.mchid);
        match self.call(reqwest::Method::GET, &path, None).await {
            Ok((_, v)) => {
                reported_payment(&v).map(Some).ok_or_else(|| PayError::Unverified("query answer malformed".into()))
            }
            Err(PayError::Refused { code, .. }) if code == "ORDER_NOT_EXIST" => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Closes an unpaid transaction. `Err(Refused{code:"ORDERPAID"})` when it was paid.
    pub async fn close(&self, out_trade_no: &str) -> Result<(), PayError> {
        let path = format!("/v3/pay/transactions/out-trade-no/{out_trade_no}/close");
        self.call(reqwest::Method::POST, &path, Some(json!({"mchid": self.cfg.mchid}))).await.map(|_| ())
    }

    /// Requests a full refund; WeChat's refund status (`SUCCESS`, `PROCESSING`, …).
    pub async fn refund(
        &self,
        out_trade_no: &str,
        out_refund_no: &str,
        amount_fen: u64,
        reason: &str,
    ) -> Result<String, PayError> {
        let body = json!({
            "out_trade_no": out_trade_no,
            "out_refund_no": out_refund_no,
            "reason": reason,
            "notify_url": self.cfg.notify_url,
            "amount": {"refund": amount_fen, "total": amount_fen, "currency": "CNY"},
        });
        let (_, v) = self.call(reqwest::Method::POST, "/v3/refund/domestic/refunds", Some(body)).await?;
        Ok(v["status"].as_str().unwrap_or("PROCESSING").to_owned())
    }
}

/// Reads key material from configuration: base64 of DER (PKCS #8 for private keys).
pub fn der_from_b64(value: &str) -> Result<Vec<u8>, PayCryptoError> {
    base64::engine::general_purpose::STANDARD.decode(value.trim()).map_err(|_| PayCryptoError::BadKey)
}

impl PayConfig {
    /// From the environment: keys as base64 DER, platform keys as `SERIAL:base64;…`.
    pub fn from_env() -> Result<Self, crate::config::ConfigError> {
        use crate::config::{ConfigError, optional, required};
        let invalid = |name: &'static str| move |e: PayCryptoError| ConfigError::Invalid(name, e.to_string());
        let apiv3_key = required("WECHATPAY_APIV3_KEY")?.into_bytes();
        if apiv3_key.len() != 32 {
            return Err(ConfigError::Invalid("WECHATPAY_APIV3_KEY", "must be 32 characters".into()));
        }
        Ok(Self {
            base_url: optional("WECHATPAY_API_BASE").unwrap_or_else(|| PAY_API_BASE.into()),
            appid: required("WECHAT_APPID")?,
            mchid: required("WECHATPAY_MCHID")?,
            merchant_serial: required("WECHATPAY_MERCHANT_SERIAL")?,
            merchant_key: RsaSigner::from_pkcs8_der(
                &der_from_b64(&required("WECHATPAY_MERCHANT_KEY")?).map_err(invalid("WECHATPAY_MERCHANT_KEY"))?,
            )
            .map_err(invalid("WECHATPAY_MERCHANT_KEY"))?,
            platform_keys: PlatformKeys::parse(&required("WECHATPAY_PLATFORM_KEYS")?)
                .map_err(invalid("WECHATPAY_PLATFORM_KEYS"))?,
            apiv3_key,
            notify_url: required("WECHATPAY_NOTIFY_URL")?,
        })
    }
}

/// WeChat Pay as the payment use cases see it (`yunzhao_domain::payment`).
impl PaymentGateway for WeChatPay {
    fn appid(&self) -> &str {
        WeChatPay::appid(self)
    }

    fn mchid(&self) -> &str {
        WeChatPay::mchid(self)
    }

    async fn close(&self, no: &OutTradeNo) -> Result<Closing, GatewayError> {
        match WeChatPay::close(self, no.as_str()).await {
            Ok(()) => Ok(Closing::Closed),
            Err(PayError::Refused { code, .. }) if code == "ORDERPAID" => Ok(Closing::AlreadyPaid),
            Err(PayError::Refused { code, .. }) if code == "ORDER_NOT_EXIST" => Ok(Closing::NoSuchTrade),
            Err(e) => Err(GatewayError(e.to_string())),
        }
    }

    async fn query(&self, no: &OutTradeNo) -> Result<Option<ReportedPayment>, GatewayError> {
        WeChatPay::query(self, no.as_str()).await.map_err(|e| GatewayError(e.to_string()))
    }

    async fn prepay(&self, order: &Prepay<'_>) -> Result<String, GatewayError> {
        WeChatPay::prepay(self, order).await.map_err(|e| GatewayError(e.to_string()))
    }
}
