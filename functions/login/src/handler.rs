//! `POST /v1/session {code}` logs a student in; `GET /v1/session` says who the token is for.

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use yunzhao_domain::login::{self, LoginCode};
use yunzhao_domain::{LoginError, Role, User, UserRepo, WeChatLogin};
use yunzhao_http::{ApiError, Code, SessionKeys, json_response, parse_json, request_id, respond};

pub struct Deps<W, R> {
    pub wechat: W,
    pub users: R,
    pub keys: SessionKeys,
}

#[derive(Deserialize)]
struct LoginRequest {
    code: String,
}

#[derive(Serialize)]
struct UserView<'a> {
    id: &'a str,
    roles: &'a [Role],
    #[serde(skip_serializing_if = "Option::is_none")]
    school_id: Option<&'a str>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
}

impl<'a> From<&'a User> for UserView<'a> {
    fn from(u: &'a User) -> Self {
        Self { id: u.id.as_str(), roles: &u.roles, school_id: u.school_id.as_deref(), created_at: u.created_at }
    }
}

pub async fn handle<W: WeChatLogin, R: UserRepo>(deps: &Deps<W, R>, req: Request) -> Response<Body> {
    let request_id = request_id(&req);
    let result = match *req.method() {
        Method::POST => create_session(deps, &req).await,
        Method::GET => current_session(deps, &req).await,
        _ => Err(ApiError::from(Code::MethodNotAllowed)),
    };
    respond(&request_id, result)
}

async fn create_session<W: WeChatLogin, R: UserRepo>(
    deps: &Deps<W, R>,
    req: &Request,
) -> Result<Response<Body>, ApiError> {
    let body: LoginRequest = parse_json(req)?;
    let code = LoginCode::parse(&body.code).ok_or(LoginError::InvalidCode).map_err(login_error)?;
    let user = login::log_in(&deps.wechat, &deps.users, &code, OffsetDateTime::now_utc(), tokio::time::sleep)
        .await
        .map_err(login_error)?;
    let issued = deps.keys.issue(&user, OffsetDateTime::now_utc());
    tracing::info!(user_id = %user.id, login_count = user.login_count, outcome = "logged_in", "login");
    Ok(json_response(
        StatusCode::OK,
        &serde_json::json!({
            "token": issued.token,
            "token_type": "Bearer",
            "expires_in": deps.keys.ttl().whole_seconds(),
            "expires_at": issued.expires_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            "user": UserView::from(&user),
        }),
    ))
}

async fn current_session<W: WeChatLogin, R: UserRepo>(
    deps: &Deps<W, R>,
    req: &Request,
) -> Result<Response<Body>, ApiError> {
    let principal = deps.keys.authenticate(req)?;
    let user = deps
        .users
        .get(&principal.user_id)
        .await
        .map_err(|e| ApiError::unavailable().with_detail(e.to_string()))?
        // A valid token for a user that no longer exists: the session is over.
        .ok_or_else(|| ApiError::from(Code::InvalidToken))?;
    Ok(json_response(StatusCode::OK, &serde_json::json!({ "user": UserView::from(&user) })))
}

fn login_error(e: LoginError) -> ApiError {
    match e {
        LoginError::InvalidCode => ApiError::from(Code::InvalidLoginCode),
        LoginError::CodeUsed => ApiError::from(Code::LoginCodeUsed),
        LoginError::RateLimited => ApiError::from(Code::TooManyLogins).retry_after(10),
        LoginError::Busy | LoginError::Unreachable(_) => {
            ApiError::from(Code::WechatUnavailable).retry_after(2).with_detail(e.to_string())
        }
        LoginError::Misconfigured(_) | LoginError::Upstream { .. } => {
            ApiError::from(Code::WechatError).with_detail(e.to_string())
        }
        LoginError::Store(_) => ApiError::unavailable().with_detail(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::Mutex;
    use yunzhao_domain::user::memory::MemoryUsers;
    use yunzhao_domain::{OpenId, WeChatIdentity};

    /// WeChat as the tests script it: each code answers once with its outcome.
    struct FakeWeChat(Mutex<HashMap<String, Result<WeChatIdentity, LoginError>>>);

    impl WeChatLogin for FakeWeChat {
        async fn code_to_session(&self, code: &LoginCode) -> Result<WeChatIdentity, LoginError> {
            let mut codes = self.0.lock().expect("lock");
            match codes.get(code.as_str()) {
                None => Err(LoginError::InvalidCode),
                Some(Err(e)) => Err(e.clone()),
                Some(Ok(_)) => codes.insert(code.as_str().to_owned(), Err(LoginError::CodeUsed)).expect("present"),
            }
        }
    }

    const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

    fn deps(codes: Vec<(&str, Result<WeChatIdentity, LoginError>)>) -> Deps<FakeWeChat, MemoryUsers> {
        Deps {
            wechat: FakeWeChat(Mutex::new(codes.into_iter().map(|(c, r)| (c.to_owned(), r)).collect())),
            users: MemoryUsers::default(),
            keys: SessionKeys::from_base64(KEY, time::Duration::hours(2)).expect("key"),
        }
    }

    fn student() -> WeChatIdentity {
        WeChatIdentity { openid: OpenId::parse("oStudent0001").expect("valid"), unionid: None }
    }

    fn post(body: &str) -> Request {
        lambda_http::http::Request::builder()
            .method("POST")
            .uri("/v1/session")
            .body(Body::from(body.to_owned()))
            .expect("request")
    }

    fn get(token: Option<&str>) -> Request {
        let mut b = lambda_http::http::Request::builder().method("GET").uri("/v1/session");
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        b.body(Body::Empty).expect("request")
    }

    fn json(r: &Response<Body>) -> serde_json::Value {
        serde_json::from_slice(r.body().as_ref()).expect("json")
    }

    #[tokio::test]
    async fn given_a_valid_code_then_a_token_that_opens_get_session() {
        let d = deps(vec![("good", Ok(student()))]);
        let r = handle(&d, post(r#"{"code":"good"}"#)).await;
        assert_eq!(r.status(), StatusCode::OK);
        let body = json(&r);
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["user"]["roles"], serde_json::json!(["student"]));
        assert!(body.get("session_key").is_none() && body["user"].get("openid").is_none());

        let token = body["token"].as_str().expect("token");
        let me = handle(&d, get(Some(token))).await;
        assert_eq!(me.status(), StatusCode::OK);
        assert_eq!(json(&me)["user"]["id"], body["user"]["id"]);
    }

    #[tokio::test]
    async fn given_a_code_used_twice_then_login_code_used() {
        let d = deps(vec![("once", Ok(student()))]);
        assert_eq!(handle(&d, post(r#"{"code":"once"}"#)).await.status(), StatusCode::OK);
        let r = handle(&d, post(r#"{"code":"once"}"#)).await;
        assert_eq!(
            (r.status(), json(&r)["error"]["code"].clone()),
            (StatusCode::BAD_REQUEST, "login_code_used".into())
        );
    }

    #[tokio::test]
    async fn given_wechat_busy_then_503_with_retry_after() {
        let d = deps(vec![("busy", Err(LoginError::Busy))]);
        let r = handle(&d, post(r#"{"code":"busy"}"#)).await;
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(json(&r)["error"]["code"], "wechat_unavailable");
        assert!(r.headers().contains_key("retry-after"));
    }

    #[tokio::test]
    async fn given_malformed_bodies_then_invalid_request() {
        let d = deps(vec![]);
        for body in ["", "{", r#"{"kode":"x"}"#, r#"{"code":42}"#] {
            let r = handle(&d, post(body)).await;
            assert_eq!(json(&r)["error"]["code"], "invalid_request", "body {body:?}");
        }
        let r = handle(&d, post(r#"{"code":""}"#)).await;
        assert_eq!(json(&r)["error"]["code"], "invalid_login_code");
    }

    #[tokio::test]
    async fn given_no_or_a_bad_token_then_401() {
        let d = deps(vec![]);
        let r = handle(&d, get(None)).await;
        assert_eq!((r.status(), json(&r)["error"]["code"].clone()), (StatusCode::UNAUTHORIZED, "missing_token".into()));
        let r = handle(&d, get(Some("a.b.c"))).await;
        assert_eq!(json(&r)["error"]["code"], "invalid_token");
    }
}
