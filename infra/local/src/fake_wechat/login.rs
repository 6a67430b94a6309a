//! `GET /sns/jscode2session` with WeChat's answers and errcodes, and `POST /_fake/login-codes`
//! which plays `wx.login` on a phone: it mints a code for an openid, optionally one that
//! fails with a given errcode (`-1` busy, `45011` rate limited) a number of times.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use base64::Engine;
use rand::Rng;
use serde::Deserialize;
use serde_json::json;

use super::FakeApp;

/// WeChat login codes live about five minutes.
const CODE_TTL: Duration = Duration::from_secs(300);

struct Code {
    openid: String,
    session_key: String,
    unionid: Option<String>,
    issued: Instant,
    used: bool,
    fail_errcode: Option<i64>,
    /// How many more times `fail_errcode` is answered; `None` = always.
    fail_times: Option<u32>,
}

pub struct LoginState {
    app: FakeApp,
    codes: Mutex<HashMap<String, Code>>,
}

impl LoginState {
    pub fn new(app: FakeApp) -> Self {
        Self { app, codes: Mutex::new(HashMap::new()) }
    }
}

pub(super) fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill(&mut buf[..]);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

#[derive(Deserialize)]
pub struct MintRequest {
    openid: Option<String>,
    unionid: Option<String>,
    errcode: Option<i64>,
    times: Option<u32>,
}

pub async fn mint_code(State(state): State<Arc<LoginState>>, Json(req): Json<MintRequest>) -> impl IntoResponse {
    let code = random_token(24);
    let openid = req.openid.unwrap_or_else(|| format!("o{}", random_token(20).replace('-', "_")));
    // Minted with the code and returned to the test, so it can prove the key never leaks.
    let session_key = base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 16]>());
    let entry = Code {
        openid: openid.clone(),
        session_key: session_key.clone(),
        unionid: req.unionid,
        issued: Instant::now(),
        used: false,
        fail_errcode: req.errcode,
        fail_times: req.times,
    };
    state.codes.lock().unwrap_or_else(|p| p.into_inner()).insert(code.clone(), entry);
    Json(json!({ "code": code, "openid": openid, "session_key": session_key }))
}

#[derive(Deserialize)]
pub struct Code2SessionQuery {
    appid: Option<String>,
    secret: Option<String>,
    js_code: Option<String>,
    grant_type: Option<String>,
}

pub(super) fn wechat_error(errcode: i64, errmsg: &str) -> serde_json::Value {
    let rid = random_token(9);
    json!({ "errcode": errcode, "errmsg": format!("{errmsg}, rid: {rid}") })
}

pub async fn jscode2session(
    State(state): State<Arc<LoginState>>,
    Query(q): Query<Code2SessionQuery>,
) -> impl IntoResponse {
    let body = answer(&state, q);
    // WeChat labels this JSON as text/plain; clients must not depend on the content type.
    ([(header::CONTENT_TYPE, "text/plain")], body.to_string())
}

fn answer(state: &LoginState, q: Code2SessionQuery) -> serde_json::Value {
    if q.appid.as_deref() != Some(state.app.appid.as_str()) {
        return wechat_error(40013, "invalid appid");
    }
    if q.secret.as_deref() != Some(state.app.app_secret.as_str()) {
        return wechat_error(40125, "invalid appsecret");
    }
    if q.grant_type.as_deref() != Some("authorization_code") {
        return wechat_error(40002, "invalid grant_type");
    }
    let Some(js_code) = q.js_code.filter(|c| !c.is_empty()) else {
        return wechat_error(41008, "missing code");
    };
    let mut codes = state.codes.lock().unwrap_or_else(|p| p.into_inner());
    let Some(code) = codes.get_mut(&js_code) else {
        return wechat_error(40029, "invalid code");
    };
    if let Some(errcode) = code.fail_errcode {
        match code.fail_times {
            None => return wechat_error(errcode, "fault injected by test"),
            Some(n) if n > 0 => {
                code.fail_times = Some(n - 1);
                return wechat_error(errcode, "fault injected by test");
            }
            Some(_) => {}
        }
    }
    if code.issued.elapsed() > CODE_TTL {
        return wechat_error(40029, "invalid code");
    }
    if code.used {
        return wechat_error(40163, "code been used");
    }
    code.used = true;
    let mut ok = json!({ "session_key": code.session_key, "openid": code.openid });
    if let Some(unionid) = &code.unionid {
        ok["unionid"] = json!(unionid);
    }
    ok
}
