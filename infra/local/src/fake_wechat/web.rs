//! WeChat's website QR login (open platform 网站应用) as a browser and our backend see it:
//! - `GET /connect/qrconnect?appid&redirect_uri&response_type=code&scope=snsapi_login&state`
//!   shows the QR page; here a test user "scans" it by filling in who they are and confirming
//!   (`POST /_fake/qrconnect/confirm`), and the browser is sent to
//!   `redirect_uri?code=…&state=…` (or `?state=…` alone when they decline);
//! - `GET /sns/oauth2/access_token?appid&secret&code&grant_type=authorization_code` answers
//!   `{access_token, expires_in, refresh_token, openid, scope, unionid}` or WeChat's errcodes
//!   (40029 invalid code, 40163 code been used, 42003 code expired, 40013/40125 credentials);
//! - `GET /sns/userinfo?access_token&openid` answers the nickname the test user typed (or
//!   40001 for a token it did not issue);
//! - `POST /_fake/web-codes {unionid, nickname?, errcode?}` mints a code without a browser.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Form, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;

use super::FakeApp;

/// Website-login codes live ten minutes.
const CODE_TTL: Duration = Duration::from_secs(600);

struct WebCode {
    unionid: String,
    openid: String,
    nickname: String,
    issued: Instant,
    used: bool,
    fail_errcode: Option<i64>,
}

pub struct WebState {
    app: FakeApp,
    codes: Mutex<HashMap<String, WebCode>>,
    /// access_token → (openid, unionid, nickname), for `/sns/userinfo`.
    tokens: Mutex<HashMap<String, (String, String, String)>>,
}

impl WebState {
    pub fn new(app: FakeApp) -> Self {
        Self { app, codes: Mutex::new(HashMap::new()), tokens: Mutex::new(HashMap::new()) }
    }

    fn mint(&self, unionid: &str, nickname: &str, fail_errcode: Option<i64>) -> String {
        let code = super::login::random_token(24);
        // One openid per person per website app, derived so a person keeps theirs.
        let openid = format!("oW{}", &unionid.chars().rev().collect::<String>());
        let entry = WebCode {
            unionid: unionid.to_owned(),
            openid,
            nickname: nickname.to_owned(),
            issued: Instant::now(),
            used: false,
            fail_errcode,
        };
        self.codes.lock().unwrap_or_else(|p| p.into_inner()).insert(code.clone(), entry);
        code
    }
}

#[derive(Deserialize)]
pub struct QrQuery {
    appid: Option<String>,
    redirect_uri: Option<String>,
    response_type: Option<String>,
    scope: Option<String>,
    state: Option<String>,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

fn error_page(message: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>微信登录</title>\
         <body style=\"font-family:sans-serif;text-align:center;padding-top:80px\"><h2>{}</h2></body></html>",
        escape(message)
    );
    (StatusCode::OK, Html(body)).into_response()
}

/// The QR page. WeChat checks the appid, the scope and the callback; so does the fake.
pub async fn qrconnect(State(state): State<Arc<WebState>>, Query(q): Query<QrQuery>) -> Response {
    if q.appid.as_deref() != Some(state.app.web_appid.as_str()) {
        return error_page("参数错误：appid 无效");
    }
    if q.scope.as_deref() != Some("snsapi_login") || q.response_type.as_deref() != Some("code") {
        return error_page("Scope 参数错误或没有 Scope 权限");
    }
    let Some(redirect_uri) = q.redirect_uri.filter(|r| r.starts_with("http://") || r.starts_with("https://")) else {
        return error_page("redirect_uri 参数错误");
    };
    let st = q.state.unwrap_or_default();
    let body = format!(
        r#"<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>微信登录</title>
<style>
body{{font-family:"PingFang SC","Noto Sans CJK SC",sans-serif;background:#333;color:#fff;margin:0}}
main{{width:320px;margin:60px auto;text-align:center}}
#qr{{width:220px;height:220px;margin:20px auto;background:#fff;
  background-image:repeating-linear-gradient(90deg,#000 0 10px,#fff 10px 20px),repeating-linear-gradient(0deg,#000 0 10px,#fff 10px 20px);
  background-blend-mode:difference;border:10px solid #fff}}
form{{background:#fff;color:#333;padding:16px;border-radius:6px;text-align:left}}
label{{display:block;font-size:13px;margin:8px 0 4px}}
input{{width:100%;box-sizing:border-box;padding:6px;font-size:14px}}
button{{margin-top:12px;padding:8px 14px;font-size:14px;border:0;border-radius:4px;cursor:pointer}}
#confirm{{background:#07c160;color:#fff}} #cancel{{background:#eee}}
small{{color:#aaa}}
</style></head>
<body><main>
<h2>微信登录</h2>
<div id="qr" aria-label="二维码"></div>
<p>请使用微信扫描二维码登录<br><small>（本地测试：填写扫码的测试用户并确认）</small></p>
<form method="post" action="/_fake/qrconnect/confirm">
<input type="hidden" name="redirect_uri" value="{redirect}">
<input type="hidden" name="state" value="{st}">
<label for="unionid">测试用户 unionid</label>
<input id="unionid" name="unionid" required pattern="[A-Za-z0-9_\-]{{6,64}}" autocomplete="off">
<label for="nickname">昵称</label>
<input id="nickname" name="nickname" autocomplete="off">
<button id="confirm" name="decision" value="allow" type="submit">扫码并确认登录</button>
<button id="cancel" name="decision" value="deny" type="submit" formnovalidate>取消</button>
</form>
</main></body></html>"#,
        redirect = escape(&redirect_uri),
        st = escape(&st),
    );
    (StatusCode::OK, [(header::CACHE_CONTROL, "no-store")], Html(body)).into_response()
}

#[derive(Deserialize)]
pub struct Confirm {
    redirect_uri: String,
    state: String,
    #[serde(default)]
    unionid: String,
    #[serde(default)]
    nickname: String,
    decision: Option<String>,
}

fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    let sep = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{sep}{query}")
}

/// The phone's "confirm" (or "cancel"): back to the site with a code (or without one).
pub async fn confirm(State(state): State<Arc<WebState>>, Form(f): Form<Confirm>) -> Response {
    if f.decision.as_deref() == Some("deny") {
        return Redirect::to(&with_query(&f.redirect_uri, &[("state", &f.state)])).into_response();
    }
    let unionid = f.unionid.trim();
    let ok = (6..=64).contains(&unionid.len())
        && unionid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !ok {
        return error_page("测试用户 unionid 须为 6–64 位字母、数字、_ 或 -");
    }
    let code = state.mint(unionid, f.nickname.trim(), None);
    Redirect::to(&with_query(&f.redirect_uri, &[("code", &code), ("state", &f.state)])).into_response()
}

#[derive(Deserialize)]
pub struct MintWebCode {
    unionid: String,
    #[serde(default)]
    nickname: String,
    errcode: Option<i64>,
}

pub async fn mint_code(State(state): State<Arc<WebState>>, Json(req): Json<MintWebCode>) -> impl IntoResponse {
    let code = state.mint(&req.unionid, &req.nickname, req.errcode);
    Json(json!({ "code": code }))
}

#[derive(Deserialize)]
pub struct TokenQuery {
    appid: Option<String>,
    secret: Option<String>,
    code: Option<String>,
    grant_type: Option<String>,
}

pub async fn access_token(State(state): State<Arc<WebState>>, Query(q): Query<TokenQuery>) -> impl IntoResponse {
    let body = answer(&state, q);
    ([(header::CONTENT_TYPE, "text/plain")], body.to_string())
}

fn answer(state: &WebState, q: TokenQuery) -> serde_json::Value {
    let err = super::login::wechat_error;
    if q.appid.as_deref() != Some(state.app.web_appid.as_str()) {
        return err(40013, "invalid appid");
    }
    if q.secret.as_deref() != Some(state.app.web_app_secret.as_str()) {
        return err(40125, "invalid appsecret");
    }
    if q.grant_type.as_deref() != Some("authorization_code") {
        return err(40002, "invalid grant_type");
    }
    let Some(code) = q.code.filter(|c| !c.is_empty()) else { return err(41008, "missing code") };
    let mut codes = state.codes.lock().unwrap_or_else(|p| p.into_inner());
    let Some(entry) = codes.get_mut(&code) else { return err(40029, "invalid code") };
    if let Some(errcode) = entry.fail_errcode {
        return err(errcode, "fault injected by test");
    }
    if entry.used {
        return err(40163, "code been used");
    }
    if entry.issued.elapsed() > CODE_TTL {
        return err(42003, "code expired");
    }
    entry.used = true;
    let access_token = super::login::random_token(32);
    let who = (entry.openid.clone(), entry.unionid.clone(), entry.nickname.clone());
    state.tokens.lock().unwrap_or_else(|p| p.into_inner()).insert(access_token.clone(), who);
    json!({
        "access_token": access_token,
        "expires_in": 7200,
        "refresh_token": super::login::random_token(32),
        "openid": entry.openid,
        "scope": "snsapi_login",
        "unionid": entry.unionid,
    })
}

#[derive(Deserialize)]
pub struct UserInfoQuery {
    access_token: Option<String>,
    openid: Option<String>,
}

pub async fn userinfo(State(state): State<Arc<WebState>>, Query(q): Query<UserInfoQuery>) -> impl IntoResponse {
    let tokens = state.tokens.lock().unwrap_or_else(|p| p.into_inner());
    let body = match q.access_token.as_deref().and_then(|t| tokens.get(t)) {
        Some((openid, unionid, nickname)) if q.openid.as_deref() == Some(openid.as_str()) => json!({
            "openid": openid, "nickname": nickname, "sex": 0, "province": "", "city": "", "country": "CN",
            "headimgurl": "", "privilege": [], "unionid": unionid,
        }),
        _ => super::login::wechat_error(40001, "invalid credential, access_token is invalid or not latest"),
    };
    ([(header::CONTENT_TYPE, "text/plain")], body.to_string())
}
