//! Local stand-ins for the parts of AWS that LocalStack cannot run on these machines, and for
//! WeChat. Only `make demo`, `make test` and developers use these; nothing here ships.

pub mod fake_wechat;
pub mod gateway;

/// JSON logs on stdout, like the functions.
pub fn init_logging() {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
}

pub fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_owned())
}
