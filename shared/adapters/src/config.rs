//! Reading configuration from the environment once, at start-up, with errors that name the
//! variable (never its value: some are secrets).

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {0} is not valid: {1}")]
    Invalid(&'static str, String),
}

pub fn required(name: &'static str) -> Result<String, ConfigError> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(ConfigError::Missing(name)),
    }
}

pub fn optional(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

pub fn parsed<T: std::str::FromStr>(name: &'static str, default: T) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match optional(name) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|e: T::Err| ConfigError::Invalid(name, e.to_string())),
    }
}

/// How long staff sessions last, as every function behind the staff gate reads it:
/// `STAFF_SESSION_HOURS` (a working day, 10) and `STAFF_IDLE_MINUTES` (30).
pub fn staff_session_policy() -> Result<yunzhao_domain::staff::SessionPolicy, ConfigError> {
    let hours: u64 = parsed("STAFF_SESSION_HOURS", 10)?;
    let idle: u64 = parsed("STAFF_IDLE_MINUTES", 30)?;
    Ok(yunzhao_domain::staff::SessionPolicy::new(
        std::time::Duration::from_secs(hours * 3600),
        std::time::Duration::from_secs(idle * 60),
    ))
}
