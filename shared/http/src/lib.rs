//! What every function's edge shares: the error format, JSON in and out, session tokens and the
//! check that a request carries a valid one; for queue consumers, the batch loop.

pub mod auth;
pub mod batch;
pub mod catalogue;
pub mod error;
pub mod json;
pub mod serve;
pub mod staff;

pub use auth::{IssuedToken, Principal, SessionKeys};
pub use catalogue::Code;
pub use error::ApiError;
pub use json::{
    json_response, order_param, parse_json, path_param, query_param, request_id, respond, route_key, source_ip,
    unknown_route,
};
pub use serve::{init_logs, serve, serve_events};
pub use staff::StaffGate;
