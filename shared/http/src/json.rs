//! JSON bodies in and out, and the one place a handler's result becomes a response.

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::ApiError;
use crate::catalogue::Code;

pub fn json_response<T: Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    // Serialising our own response types cannot fail (no maps with non-string keys).
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    // Responses carry personal data and tokens: never cached by a proxy.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The largest JSON body any route takes (a campaign with its custom spec is ~2 KB).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The longest string any field takes; fields with their own limits are shorter.
pub const MAX_STRING_CHARS: usize = 1024;

pub fn parse_json<T: DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    let bytes: &[u8] = req.body().as_ref();
    if bytes.is_empty() {
        return Err(ApiError::invalid_request("The request needs a JSON body.", "请求缺少 JSON 内容。"));
    }
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::from(Code::BodyTooLarge));
    }
    let not_expected = |e: serde_json::Error| {
        ApiError::invalid_request("The request body is not the JSON this route expects.", "请求内容格式不正确。")
            .with_detail(shape_of(&e))
    };
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(not_expected)?;
    if longest_string(&value) > MAX_STRING_CHARS {
        return Err(ApiError::from(Code::FieldTooLong));
    }
    serde_json::from_value(value).map_err(not_expected)
}

/// The longest string (key or value) anywhere in `v`, in characters.
fn longest_string(v: &serde_json::Value) -> usize {
    use serde_json::Value::*;
    match v {
        String(s) => s.chars().count(),
        Array(items) => items.iter().map(longest_string).max().unwrap_or(0),
        Object(fields) => fields.iter().map(|(k, v)| k.chars().count().max(longest_string(v))).max().unwrap_or(0),
        Null | Bool(_) | Number(_) => 0,
    }
}

/// What was wrong with a body, for the log, without any of its values: serde's own message
/// quotes them (`invalid type: integer `110105…`, expected a string`), and bodies carry ID
/// numbers and names.
fn shape_of(e: &serde_json::Error) -> String {
    let kind = match e.classify() {
        serde_json::error::Category::Io => "unreadable",
        serde_json::error::Category::Syntax => "not JSON",
        serde_json::error::Category::Data => "wrong fields or types",
        serde_json::error::Category::Eof => "cut short",
    };
    format!("body {kind} at line {} column {}", e.line(), e.column())
}

/// API Gateway's request id (what it returns as `apigw-requestid`), else the Lambda one.
pub fn request_id(req: &Request) -> String {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone(),
        _ => None,
    }
    .unwrap_or_else(|| req.lambda_context_ref().map(|c| c.request_id.clone()).unwrap_or_default())
}

/// Turns a handler's result into the response, rendering errors in the one format.
pub fn respond(request_id: &str, result: Result<Response<Body>, ApiError>) -> Response<Body> {
    result.unwrap_or_else(|e| e.into_response(request_id))
}

/// The network source the request came from, as API Gateway saw it (the client's own for the
/// mini-program, which calls the API directly), as limits count it: an IPv4 address, or the
/// /64 an IPv6 address belongs to (one subscriber or network gets a whole /64 and may pick
/// any address in it).
pub fn source_ip(req: &Request) -> Option<String> {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.http.source_ip.as_deref().and_then(source_key),
        _ => None,
    }
}

/// The limit key of a source address: IPv4 as is, IPv6 by its /64 prefix (`2001:db8:1:2::/64`);
/// an IPv4-mapped IPv6 address counts as its IPv4 address. Not an address: `None`.
pub fn source_key(ip: &str) -> Option<String> {
    match ip.trim().parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(v4) => Some(v4.to_string()),
        std::net::IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return Some(v4.to_string());
            }
            let prefix = u128::from(v6) & !u128::from(u64::MAX);
            Some(format!("{}/64", std::net::Ipv6Addr::from(prefix)))
        }
    }
}

/// The API Gateway route that matched (`POST /v1/orders/{id}`): handlers dispatch on it.
pub fn route_key(req: &Request) -> String {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.route_key.clone().unwrap_or_default(),
        _ => String::new(),
    }
}

/// A path parameter of the matched route. Every one is an id this service made (short
/// ASCII): anything else names nothing and is "not found", without reaching a store.
pub fn path_param(req: &Request, name: &str) -> Result<String, ApiError> {
    req.path_parameters_ref()
        .and_then(|p| p.first(name))
        .filter(|v| yunzhao_domain::is_id(v))
        .map(str::to_owned)
        .ok_or_else(ApiError::not_found)
}

/// The order named in the path (`order_id`): `not_found` for what is no id at all, as
/// [`path_param`], and `order_not_found` for an id that cannot be an order's.
pub fn order_param(req: &Request) -> Result<yunzhao_domain::order::OutTradeNo, ApiError> {
    let no = path_param(req, "order_id")?;
    yunzhao_domain::order::OutTradeNo::parse(&no).map_err(|_| ApiError::from(crate::Code::OrderNotFound))
}

/// A query string parameter, if present and not empty.
pub fn query_param(req: &Request, name: &str) -> Option<String> {
    req.query_string_parameters_ref().and_then(|q| q.first(name)).filter(|v| !v.is_empty()).map(str::to_owned)
}

/// Responds 404 for a route this function does not serve.
pub fn unknown_route() -> ApiError {
    ApiError::not_found()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Verify {
        name: String,
        id_number: String,
    }

    fn request(body: &str) -> Request {
        lambda_http::http::Request::builder().body(Body::from(body.to_owned())).expect("request")
    }

    #[test]
    fn a_refused_body_is_described_without_any_of_its_values() {
        for body in [
            r#"{"name": "张三", "id_number": 110105199003070033}"#,
            r#"{"name": "张三", "id_number": "110105199003070033", "extra": [}"#,
            r#"{"name": 110105199003070033}"#,
        ] {
            let e = parse_json::<Verify>(&request(body)).expect_err("refused");
            let detail = e.detail.clone().unwrap_or_default();
            assert!(detail.starts_with("body "), "{detail}");
            for value in ["110105199003070033", "张三", "1101051990"] {
                assert!(!detail.contains(value), "{detail} quotes {value}");
            }
            assert_eq!(e.code, "invalid_request");
        }
    }

    #[test]
    fn given_ipv6_sources_then_one_64_is_one_source_and_ipv4_stays_as_is() {
        let a = source_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd").expect("v6");
        assert_eq!(a, "2001:db8:1:2::/64");
        assert_eq!(source_key("2001:0db8:0001:0002::1").as_deref(), Some(a.as_str()), "any address of the /64");
        assert_eq!(source_key("2001:db8:1:3::1").as_deref(), Some("2001:db8:1:3::/64"), "the next /64 is another");
        assert_eq!(source_key("203.0.113.7").as_deref(), Some("203.0.113.7"));
        assert_eq!(source_key("::ffff:203.0.113.7").as_deref(), Some("203.0.113.7"), "IPv4-mapped is the IPv4");
        assert_eq!(source_key("::1").as_deref(), Some("::/64"));
        assert_eq!(source_key("not an address"), None);
    }
}
