//! Yunzhao's domain: the types and rules of the service, free of AWS and Lambda so they test
//! in milliseconds. Adapters implement the ports declared here.

pub mod campaign;
pub mod export;
pub mod id_number;
pub mod identity;
pub mod login;
pub mod objects;
pub mod order;
pub mod payment;
pub mod photo;
pub mod progress;
pub mod review;
pub mod roster;
pub mod staff;
pub mod upload;
pub mod user;

pub use login::{LoginError, WeChatIdentity, WeChatLogin};
/// The one error of the domain's stores: unavailable (retry) or corrupt (a bug).
pub use order::StoreError;

/// `t` in milliseconds since the epoch: the unit of queue, audit and export times.
pub fn millis(t: time::OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// Whether `s` can be one of the ids this service makes (campaigns, schools, orders, tasks,
/// exports: short ASCII). Anything else names nothing: it is "not found" at the edge and never
/// sent to a store (DynamoDB refuses keys over 2 KB with an error that reads as an outage).
pub fn is_id(s: &str) -> bool {
    (1..=128).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
}
pub use user::{OpenId, Role, User, UserId, UserRepo, UserRepoError};

/// For tests of use cases over memory fakes, here and in other crates (feature `memory`).
#[cfg(any(test, feature = "memory"))]
pub mod test_support {
    /// Runs a use case to its end. The use cases never really wait in these tests (memory
    /// fakes answer at once), so a trivial executor is enough.
    pub fn run<T>(f: impl std::future::Future<Output = T>) -> T {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        let mut f = std::pin::pin!(f);
        loop {
            if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }
}
