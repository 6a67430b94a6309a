//! A fake WeChat for local runs and tests. It speaks the real protocols so the production
//! adapters run unchanged against it; tests steer it through `/_fake/*`.

mod login;
pub mod pay;
mod web;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

/// The app credentials the fake accepts (the same values the functions are configured with).
#[derive(Clone)]
pub struct FakeApp {
    pub appid: String,
    pub app_secret: String,
    /// The open platform's website app (staff QR sign-in).
    pub web_appid: String,
    pub web_app_secret: String,
}

pub fn router(app: FakeApp, pay_keys: pay::PayKeys) -> Router {
    let web_state = Arc::new(web::WebState::new(app.clone()));
    let login_state = Arc::new(login::LoginState::new(app));
    let pay_state = Arc::new(pay::PayState::new(pay_keys));
    let login = Router::new()
        .route("/sns/jscode2session", get(login::jscode2session))
        .route("/_fake/login-codes", post(login::mint_code))
        .with_state(login_state);
    let pay = Router::new()
        .route("/v3/pay/transactions/jsapi", post(pay::jsapi))
        .route("/v3/pay/transactions/out-trade-no/{no}", get(pay::query))
        .route("/v3/pay/transactions/out-trade-no/{no}/close", post(pay::close))
        .route("/v3/refund/domestic/refunds", post(pay::refund))
        .route("/_fake/pay/transactions/{no}", get(pay::control_state))
        .route("/_fake/pay/transactions/{no}/pay", post(pay::control_pay))
        .route("/_fake/pay/transactions/{no}/notify", post(pay::control_notify))
        .with_state(pay_state);
    let web = Router::new()
        .route("/connect/qrconnect", get(web::qrconnect))
        .route("/_fake/qrconnect/confirm", post(web::confirm))
        .route("/sns/oauth2/access_token", get(web::access_token))
        .route("/sns/userinfo", get(web::userinfo))
        .route("/_fake/web-codes", post(web::mint_code))
        .with_state(web_state);
    login.merge(pay).merge(web).route("/_fake/health", get(|| async { "ok" }))
}
