//! Login end to end: HTTP route (local gateway) → login function (cargo lambda watch) →
//! fake WeChat → DynamoDB in LocalStack. Each test makes its own people.

use reqwest::StatusCode;
use serde_json::json;
use time::{Duration, OffsetDateTime};
use yunzhao_domain::{OpenId, Role, User, UserId};
use yunzhao_e2e::{Session, Stack};
use yunzhao_http::SessionKeys;

async fn stack() -> Stack {
    Stack::from_env().await.expect("the local stack's environment (run `make test`)")
}

fn s(item: &serde_json::Value, k: &str) -> String {
    item[k].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn login_through_the_api_creates_the_user_in_dynamodb() {
    let stack = stack().await;
    let wx = stack.wx_login(None).await.expect("code");
    let reply = stack.post("/v1/session", None, &json!({ "code": wx.code })).await.expect("call");
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let user_id = reply.body["user"]["id"].as_str().expect("user id").to_owned();
    assert_eq!(reply.body["user"]["roles"], json!(["student"]));
    assert!(reply.body["expires_in"].as_i64().expect("expires_in") > 0);

    let profile = stack.item(&format!("USER#{user_id}"), "PROFILE").await.expect("get").expect("user stored");
    assert_eq!(s(&profile, "openid"), wx.openid);
    assert_eq!(profile["login_count"].as_u64(), Some(1));
    let pointer = stack.item(&format!("OPENID#{}", wx.openid), "OPENID").await.expect("get").expect("openid pointer");
    assert_eq!(s(&pointer, "user_id"), user_id);

    let me = stack
        .get("/v1/session", Some(&Session::bearer(reply.body["token"].as_str().unwrap_or_default())))
        .await
        .expect("call");
    assert_eq!((me.status, me.body["user"]["id"].as_str()), (StatusCode::OK, Some(user_id.as_str())));
}

#[tokio::test]
async fn the_session_key_and_app_secret_never_leave_the_backend() {
    let stack = stack().await;
    let wx = stack.wx_login(None).await.expect("code");
    let reply = stack.post("/v1/session", None, &json!({ "code": wx.code })).await.expect("call");
    assert_eq!(reply.status, StatusCode::OK);
    assert!(!reply.body.to_string().contains(&wx.session_key), "session_key in the response");

    let token = reply.body["token"].as_str().expect("token").to_owned();
    let secret = std::env::var("WECHAT_APP_SECRET").expect("app secret in the stack env");
    let logs = std::fs::read_to_string(&stack.functions_log).expect("functions log");
    assert!(logs.contains("logged_in"), "the functions log is not the one the login wrote to");
    for (what, needle) in
        [("session_key", &wx.session_key), ("app secret", &secret), ("session token", &token), ("login code", &wx.code)]
    {
        assert!(!logs.contains(needle.as_str()), "{what} appears in the functions' logs");
    }
}

#[tokio::test]
async fn logging_in_again_keeps_the_same_user() {
    let stack = stack().await;
    let first = stack.log_in(None).await.expect("first login");
    let second = stack.log_in(Some(&first.openid)).await.expect("second login");
    assert_eq!(first.user_id, second.user_id);
    let profile = stack.item(&format!("USER#{}", first.user_id), "PROFILE").await.expect("get").expect("user");
    assert_eq!(profile["login_count"].as_u64(), Some(2));
}

#[tokio::test]
async fn concurrent_first_logins_of_one_person_make_one_user() {
    let stack = stack().await;
    let openid = stack.wx_login(None).await.expect("code").openid;
    // All six requests are in flight together, racing to create the user.
    let sessions = futures::future::join_all((0..6).map(|_| stack.log_in(Some(&openid)))).await;
    let ids: std::collections::HashSet<_> = sessions.into_iter().map(|s| s.expect("login").user_id).collect();
    assert_eq!(ids.len(), 1, "one person became several users: {ids:?}");
    let id = ids.into_iter().next().expect("one id");
    let profile = stack.item(&format!("USER#{id}"), "PROFILE").await.expect("get").expect("user");
    assert_eq!(profile["login_count"].as_u64(), Some(6));
}

#[tokio::test]
async fn a_reused_code_is_refused() {
    let stack = stack().await;
    let wx = stack.wx_login(None).await.expect("code");
    let first = stack.post("/v1/session", None, &json!({ "code": wx.code })).await.expect("call");
    assert_eq!(first.status, StatusCode::OK);
    let again = stack.post("/v1/session", None, &json!({ "code": wx.code })).await.expect("call");
    assert_eq!((again.status, again.error_code()), (StatusCode::BAD_REQUEST, "login_code_used"));
    assert!(again.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
}

#[tokio::test]
async fn an_invalid_code_is_refused() {
    let stack = stack().await;
    let reply = stack.post("/v1/session", None, &json!({ "code": "never-issued-by-wechat" })).await.expect("call");
    assert_eq!((reply.status, reply.error_code()), (StatusCode::BAD_REQUEST, "invalid_login_code"));
    let reply = stack.post("/v1/session", None, &json!({ "kode": "x" })).await.expect("call");
    assert_eq!((reply.status, reply.error_code()), (StatusCode::BAD_REQUEST, "invalid_request"));
}

#[tokio::test]
async fn wechat_busy_once_is_retried_and_busy_throughout_is_a_503() {
    let stack = stack().await;
    let once = stack.wx_login_failing(-1, Some(1)).await.expect("code");
    let reply = stack.post("/v1/session", None, &json!({ "code": once.code })).await.expect("call");
    assert_eq!(reply.status, StatusCode::OK, "one busy answer should be retried: {}", reply.body);

    let always = stack.wx_login_failing(-1, None).await.expect("code");
    let reply = stack.post("/v1/session", None, &json!({ "code": always.code })).await.expect("call");
    assert_eq!((reply.status, reply.error_code()), (StatusCode::SERVICE_UNAVAILABLE, "wechat_unavailable"));
    assert!(reply.headers.contains_key("retry-after"));
    assert!(reply.body["error"]["request_id"].as_str().is_some_and(|r| !r.is_empty()));
}

#[tokio::test]
async fn wechat_rate_limiting_is_a_429() {
    let stack = stack().await;
    let wx = stack.wx_login_failing(45011, None).await.expect("code");
    let reply = stack.post("/v1/session", None, &json!({ "code": wx.code })).await.expect("call");
    assert_eq!((reply.status, reply.error_code()), (StatusCode::TOO_MANY_REQUESTS, "too_many_logins"));
    assert!(reply.headers.contains_key("retry-after"));
}

fn user_with_id(id: &str, roles: Vec<Role>) -> User {
    let now = OffsetDateTime::now_utc();
    User {
        id: UserId::parse(id).expect("user id"),
        openid: OpenId::parse("oForgedButUnused").expect("openid"),
        unionid: None,
        roles,
        school_id: None,
        created_at: now,
        last_login_at: now,
        login_count: 1,
    }
}

#[tokio::test]
async fn forged_tokens_are_refused() {
    let stack = stack().await;
    let session = stack.log_in(None).await.expect("login");

    let other_key =
        SessionKeys::from_base64("ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=", Duration::hours(2)).expect("key");
    let forged = other_key.issue(&user_with_id(&session.user_id, vec![Role::Operator]), OffsetDateTime::now_utc());
    let reply = stack.get("/v1/session", Some(&Session::bearer(forged.token))).await.expect("call");
    assert_eq!((reply.status, reply.error_code()), (StatusCode::UNAUTHORIZED, "invalid_token"));

    // The real token with its signature cut off, and one with a byte of the signature changed.
    let unsigned = session.token.rsplit_once('.').expect("jwt").0.to_owned() + ".";
    let mut tampered = session.token.clone().into_bytes();
    let last = tampered.len() - 2;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    for token in [unsigned, String::from_utf8(tampered).expect("ascii"), "not-a-token".into()] {
        let reply = stack.get("/v1/session", Some(&Session::bearer(token.clone()))).await.expect("call");
        assert_eq!((reply.status, reply.error_code()), (StatusCode::UNAUTHORIZED, "invalid_token"), "{token}");
    }
}

#[tokio::test]
async fn expired_and_missing_tokens_are_refused() {
    let stack = stack().await;
    let session = stack.log_in(None).await.expect("login");
    let keys = SessionKeys::from_base64(&stack.session_signing_key, Duration::hours(2)).expect("local key");
    let expired = keys
        .issue(&user_with_id(&session.user_id, vec![Role::Student]), OffsetDateTime::now_utc() - Duration::hours(3));
    let reply = stack.get("/v1/session", Some(&Session::bearer(expired.token))).await.expect("call");
    assert_eq!((reply.status, reply.error_code()), (StatusCode::UNAUTHORIZED, "token_expired"));
    assert!(reply.headers.contains_key("www-authenticate"));

    // The same key with a fresh time is accepted: the refusal above is about expiry alone.
    let fresh = keys.issue(&user_with_id(&session.user_id, vec![Role::Student]), OffsetDateTime::now_utc());
    assert_eq!(
        stack.get("/v1/session", Some(&Session::bearer(fresh.token))).await.expect("call").status,
        StatusCode::OK
    );

    let reply = stack.get("/v1/session", None).await.expect("call");
    assert_eq!((reply.status, reply.error_code()), (StatusCode::UNAUTHORIZED, "missing_token"));
}

#[tokio::test]
async fn unknown_routes_are_404_from_the_gateway() {
    let stack = stack().await;
    let reply = stack.get("/v1/nothing-here", None).await.expect("call");
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}
