//! A fake WeChat for local runs and tests. It speaks the real protocols so the production
//! adapters run unchanged against it; tests steer it through `/_fake/*`.

mod login;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

/// The app credentials the fake accepts (the same values the functions are configured with).
#[derive(Clone)]
pub struct FakeApp {
    pub appid: String,
    pub app_secret: String,
}

pub fn router(app: FakeApp) -> Router {
    let state = Arc::new(login::LoginState::new(app));
    Router::new()
        .route("/sns/jscode2session", get(login::jscode2session))
        .route("/_fake/login-codes", post(login::mint_code))
        .route("/_fake/health", get(|| async { "ok" }))
        .with_state(state)
}
