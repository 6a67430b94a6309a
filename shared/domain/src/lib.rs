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
pub use user::{OpenId, Role, User, UserId, UserRepo, UserRepoError};
