//! Yunzhao's domain: the types and rules of the service, free of AWS and Lambda so they test
//! in milliseconds. Adapters implement the ports declared here.

pub mod campaign;
pub mod id_number;
pub mod identity;
pub mod login;
pub mod order;
pub mod photo;
pub mod roster;
pub mod staff;
pub mod user;

pub use login::{LoginError, WeChatIdentity, WeChatLogin};

/// Whether `s` can be one of the ids this service makes (campaigns, schools, orders, tasks,
/// exports: short ASCII). Anything else names nothing: it is "not found" at the edge and never
/// sent to a store (DynamoDB refuses keys over 2 KB with an error that reads as an outage).
pub fn is_id(s: &str) -> bool {
    (1..=128).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
}
pub use user::{OpenId, Role, User, UserId, UserRepo, UserRepoError};
