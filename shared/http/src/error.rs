//! One error format for the whole API:
//! `{"error":{"code","message","message_zh","request_id"}}` with a stable `code` clients
//! branch on. A 5xx never carries internal detail; that goes to the log once, here.

use std::borrow::Cow;

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use serde_json::json;

use crate::catalogue::Code;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: Cow<'static, str>,
    pub message_zh: Cow<'static, str>,
    /// Seconds the client should wait before trying again (429, 503).
    pub retry_after: Option<u32>,
    /// For the log only; never sent.
    pub detail: Option<String>,
}

impl ApiError {
    /// A catalogue code with words specific to this case (which field, which side of the card).
    pub fn coded(code: Code, message: impl Into<Cow<'static, str>>, message_zh: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status: code.status(),
            code: code.as_str(),
            message: message.into(),
            message_zh: message_zh.into(),
            retry_after: None,
            detail: None,
        }
    }

    pub fn retry_after(mut self, seconds: u32) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn invalid_request(message: impl Into<Cow<'static, str>>, message_zh: impl Into<Cow<'static, str>>) -> Self {
        Self::coded(Code::InvalidRequest, message, message_zh)
    }

    pub fn not_found() -> Self {
        Self::from(Code::NotFound)
    }

    pub fn forbidden() -> Self {
        Self::from(Code::Forbidden)
    }

    pub fn unavailable() -> Self {
        Self::from(Code::ServiceUnavailable).retry_after(2)
    }

    /// A store or dependency failed: 503 to the caller, `detail` to the log.
    pub fn store(detail: impl std::fmt::Display) -> Self {
        Self::unavailable().with_detail(detail.to_string())
    }

    /// A student acting in a campaign: fine while it is open, else the conflict saying why not.
    pub fn unless_open(status: yunzhao_domain::campaign::CampaignStatus) -> Result<(), Self> {
        match status {
            yunzhao_domain::campaign::CampaignStatus::Open => Ok(()),
            other => Err(Self::not_open(other)),
        }
    }

    /// Why a campaign that is not open refuses a student: not yet, or no longer.
    pub fn not_open(status: yunzhao_domain::campaign::CampaignStatus) -> Self {
        match status {
            yunzhao_domain::campaign::CampaignStatus::NotYetOpen => Self::from(Code::CampaignNotOpen),
            _ => Self::from(Code::CampaignClosed),
        }
    }

    /// The student's binding in a campaign that asks for ID-card photos waits for them: no
    /// order or upload until both sides are uploaded and a verification completes it.
    pub fn card_photos_required() -> Self {
        Self::from(Code::IdCardPhotosRequired)
    }

    pub fn campaign_not_found() -> Self {
        Self::from(Code::CampaignNotFound)
    }

    /// WeChat Pay did not answer (or not in its protocol): try again shortly.
    pub fn payment_unavailable(detail: impl std::fmt::Display) -> Self {
        Self::from(Code::PaymentUnavailable).retry_after(3).with_detail(detail.to_string())
    }

    pub fn internal() -> Self {
        Self::from(Code::InternalError)
    }

    /// Logs (once, at the boundary) and renders the error.
    pub fn into_response(self, request_id: &str) -> Response<Body> {
        if self.status.is_server_error() {
            tracing::error!(
                code = self.code,
                status = self.status.as_u16(),
                detail = self.detail.as_deref(),
                "request failed"
            );
        } else {
            tracing::info!(
                code = self.code,
                status = self.status.as_u16(),
                detail = self.detail.as_deref(),
                "request refused"
            );
        }
        let body = json!({"error": {
            "code": self.code,
            "message": self.message,
            "message_zh": self.message_zh,
            "request_id": request_id,
        }});
        let mut response = crate::json::json_response(self.status, &body);
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"yunzhao\""));
        }
        response
    }
}

impl From<Code> for ApiError {
    fn from(code: Code) -> Self {
        let (en, zh) = code.messages();
        Self::coded(code, en, zh)
    }
}

/// An order store that did not answer is a 503 (try again); a record that does not read is
/// a 500 (our bug, not the caller's).
impl From<yunzhao_domain::order::StoreError> for ApiError {
    fn from(e: yunzhao_domain::order::StoreError) -> Self {
        use yunzhao_domain::order::StoreError::*;
        match e {
            Unavailable(detail) => Self::unavailable().with_detail(detail),
            Corrupt(detail) => Self::internal().with_detail(format!("corrupt: {detail}")),
        }
    }
}

impl From<yunzhao_domain::payment::CancelError> for ApiError {
    fn from(e: yunzhao_domain::payment::CancelError) -> Self {
        use yunzhao_domain::payment::CancelError::*;
        match e {
            Gateway(e) => Self::payment_unavailable(e),
            Store(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_json(r: &Response<Body>) -> serde_json::Value {
        serde_json::from_slice(r.body().as_ref()).expect("json body")
    }

    #[test]
    fn internal_errors_never_echo_their_detail() {
        let r = ApiError::internal().with_detail("dynamodb: table yunzhao-secret missing").into_response("req-1");
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let text = String::from_utf8_lossy(r.body().as_ref()).into_owned();
        assert!(!text.contains("dynamodb"), "{text}");
        assert_eq!(body_json(&r)["error"]["request_id"], "req-1");
    }

    #[test]
    fn a_corrupt_order_is_our_error_and_an_unreachable_store_a_retry() {
        use yunzhao_domain::order::StoreError;
        let corrupt = ApiError::from(StoreError::Corrupt("state \"paid?\"".into()));
        assert_eq!((corrupt.status, corrupt.code), (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"));
        let down = ApiError::from(StoreError::Unavailable("timeout".into()));
        assert_eq!(
            (down.status, down.code, down.retry_after),
            (StatusCode::SERVICE_UNAVAILABLE, "service_unavailable", Some(2))
        );
    }

    #[test]
    fn retry_after_becomes_a_header() {
        let r = ApiError::unavailable().into_response("r");
        assert_eq!(r.headers()[header::RETRY_AFTER], "2");
        assert_eq!(body_json(&r)["error"]["code"], "service_unavailable");
    }
}
