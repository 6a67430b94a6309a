//! API Gateway HTTP API (payload format 2.0) in front of the functions: the same routes as
//! the template, the same event shape in, the same response mapping out.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Path, Request};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, on};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::Route;
use super::invoke::{Invoker, Outcome};

/// API Gateway refuses request bodies over 10 MB.
const MAX_BODY: usize = 10 * 1024 * 1024;

/// The console's pages as CloudFront serves them in AWS: static files, with the same
/// security headers (no framing, no sniffing, only this origin's scripts; photos and roster
/// uploads from S3, here LocalStack at `s3_origin`).
fn console(dir: &std::path::Path, s3_origin: &str) -> Router {
    use tower_http::set_header::SetResponseHeaderLayer;
    let not_found = || async { (StatusCode::NOT_FOUND, axum::Json(json!({"message": "Not Found"}))) };
    let files = tower_http::services::ServeDir::new(dir).fallback(axum::routing::any(not_found));
    let csp = format!(
        "default-src 'self'; img-src 'self' data: blob: {s3_origin}; connect-src 'self' {s3_origin}; \
         frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    );
    let header = |name: &'static str, value: HeaderValue| {
        SetResponseHeaderLayer::if_not_present(HeaderName::from_static(name), value)
    };
    Router::new()
        .fallback_service(files)
        .layer(header(
            "content-security-policy",
            HeaderValue::from_str(&csp).unwrap_or(HeaderValue::from_static("default-src 'self'")),
        ))
        .layer(header("x-content-type-options", HeaderValue::from_static("nosniff")))
        .layer(header("referrer-policy", HeaderValue::from_static("no-referrer")))
        .layer(header("x-frame-options", HeaderValue::from_static("DENY")))
}

pub fn router(routes: &[Route], invoker: Invoker, console_dir: Option<&std::path::Path>) -> Router {
    let mut by_path: BTreeMap<&str, MethodRouter> = BTreeMap::new();
    for route in routes {
        let Ok(method) = route.method.parse::<Method>() else { continue };
        let Ok(filter) = MethodFilter::try_from(method) else { continue };
        let (function, route_key) = (route.function.clone(), format!("{} {}", route.method, route.path));
        let invoker = invoker.clone();
        let handler = move |ConnectInfo(peer): ConnectInfo<SocketAddr>,
                            Path(params): Path<HashMap<String, String>>,
                            req: Request| {
            let (function, route_key, invoker) = (function.clone(), route_key.clone(), invoker.clone());
            async move { forward(&invoker, &function, &route_key, params, peer, req).await }
        };
        let entry = by_path.remove(route.path.as_str()).unwrap_or_default();
        by_path.insert(&route.path, entry.merge(on(filter, handler)));
    }
    let mut app = Router::new().route("/_local/health", axum::routing::get(|| async { "ok" }));
    for (path, methods) in by_path {
        app = app.route(path, methods);
    }
    match console_dir {
        // Everything that is not an API route: the console's files (one origin, as in AWS).
        Some(dir) => {
            let s3 = std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| "http://127.0.0.1:4566".into());
            app.fallback_service(console(dir, s3.trim_end_matches('/')))
        }
        // API Gateway's own answer for an unknown route.
        None => app.fallback(|| async { (StatusCode::NOT_FOUND, axum::Json(json!({"message": "Not Found"}))) }),
    }
}

async fn forward(
    invoker: &Invoker,
    function: &str,
    route_key: &str,
    params: HashMap<String, String>,
    peer: SocketAddr,
    req: Request,
) -> Response {
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let (parts, body) = req.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, axum::Json(json!({"message": "Request Entity Too Large"})))
            .into_response();
    };
    let event = to_event(&parts.method, &parts.uri, &parts.headers, &body, route_key, params, peer, &request_id);
    let response = match invoker.invoke(function, &event).await {
        Ok(Outcome::Returned(v)) => from_lambda(&v),
        Ok(Outcome::Failed(why)) => {
            tracing::error!(function, error = %why, "function failed");
            internal_error()
        }
        Err(e) => {
            tracing::error!(function, error = %e, "invoke failed");
            internal_error()
        }
    };
    let mut response = response;
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("apigw-requestid", v);
    }
    // An access log without headers or bodies: they carry tokens and personal data.
    tracing::info!(
        route = route_key,
        function,
        status = response.status().as_u16(),
        duration_ms = started.elapsed().as_millis() as u64,
        "request"
    );
    response
}

fn internal_error() -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(json!({"message": "Internal Server Error"}))).into_response()
}

fn is_text(headers: &HeaderMap) -> bool {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    ct.is_empty()
        || ct.starts_with("text/")
        || ct.contains("json")
        || ct.contains("x-www-form-urlencoded")
        || ct.contains("xml")
}

/// The payload format 2.0 event API Gateway sends for this request.
#[allow(clippy::too_many_arguments)]
fn to_event(
    method: &Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &Bytes,
    route_key: &str,
    params: HashMap<String, String>,
    peer: SocketAddr,
    request_id: &str,
) -> Value {
    let mut hdrs: BTreeMap<String, String> = BTreeMap::new();
    let mut cookies = Vec::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == header::COOKIE {
            cookies.extend(value.split(';').map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()));
            continue;
        }
        hdrs.entry(name.as_str().to_owned())
            .and_modify(|v| {
                v.push(',');
                v.push_str(&value);
            })
            .or_insert(value);
    }
    let raw_query = uri.query().unwrap_or("");
    let mut query: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in form_urlencoded::parse(raw_query.as_bytes()).into_owned() {
        query
            .entry(k)
            .and_modify(|e| {
                e.push(',');
                e.push_str(&v);
            })
            .or_insert(v);
    }
    let (body_field, is_b64) = match (body.is_empty(), is_text(headers), std::str::from_utf8(body)) {
        (true, _, _) => (Value::Null, false),
        (false, true, Ok(text)) => (Value::String(text.to_owned()), false),
        _ => (Value::String(B64.encode(body)), true),
    };
    let now = OffsetDateTime::now_utc();
    let time_fmt = time::macros::format_description!("[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000");
    json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": uri.path(),
        "rawQueryString": raw_query,
        "cookies": if cookies.is_empty() { Value::Null } else { json!(cookies) },
        "headers": hdrs,
        "queryStringParameters": if query.is_empty() { Value::Null } else { json!(query) },
        "pathParameters": if params.is_empty() { Value::Null } else { json!(params) },
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost"),
            "domainPrefix": "local",
            "http": {
                "method": method.as_str(),
                "path": uri.path(),
                "protocol": "HTTP/1.1",
                "sourceIp": peer.ip().to_string(),
                "userAgent": headers.get(header::USER_AGENT).and_then(|h| h.to_str().ok()).unwrap_or(""),
            },
            "requestId": request_id,
            "routeKey": route_key,
            "stage": "$default",
            "time": now.format(&time_fmt).unwrap_or_default(),
            "timeEpoch": (now.unix_timestamp_nanos() / 1_000_000) as i64,
        },
        "body": body_field,
        "isBase64Encoded": is_b64,
    })
}

/// The function's answer as API Gateway maps it: a structured response, or (payload 2.0
/// leniency) any other JSON as a 200 body.
fn from_lambda(v: &Value) -> Response {
    let Some(status) = v.get("statusCode").and_then(Value::as_u64) else {
        return (StatusCode::OK, axum::Json(v.clone())).into_response();
    };
    let body = match v.get("body").and_then(Value::as_str) {
        None => Vec::new(),
        Some(b) if v.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) => B64.decode(b).unwrap_or_default(),
        Some(b) => b.as_bytes().to_vec(),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(status as u16).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    if let Some(map) = v.get("headers").and_then(Value::as_object) {
        for (k, val) in map {
            if let (Ok(name), Some(Ok(value))) =
                (HeaderName::try_from(k.as_str()), val.as_str().map(HeaderValue::from_str))
            {
                headers.insert(name, value);
            }
        }
    }
    if let Some(map) = v.get("multiValueHeaders").and_then(Value::as_object) {
        for (k, vals) in map {
            let Ok(name) = HeaderName::try_from(k.as_str()) else { continue };
            for val in vals.as_array().into_iter().flatten().filter_map(Value::as_str) {
                if let Ok(value) = HeaderValue::from_str(val) {
                    headers.append(name.clone(), value);
                }
            }
        }
    }
    for cookie in v.get("cookies").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
        if let Ok(value) = HeaderValue::from_str(cookie) {
            headers.append(header::SET_COOKIE, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_carries_route_params_query_and_json_body_as_text() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer t"));
        let uri: axum::http::Uri = "/v1/orders/o1?x=1&x=2&name=%E5%BC%A0+san".parse().expect("uri");
        let params = HashMap::from([("id".to_owned(), "o1".to_owned())]);
        let peer: SocketAddr = "127.0.0.1:5555".parse().expect("addr");
        let e = to_event(
            &Method::GET,
            &uri,
            &headers,
            &Bytes::from_static(b"{\"a\":1}"),
            "GET /v1/orders/{id}",
            params,
            peer,
            "rid",
        );
        assert_eq!(e["routeKey"], "GET /v1/orders/{id}");
        assert_eq!(e["pathParameters"]["id"], "o1");
        assert_eq!(e["queryStringParameters"]["x"], "1,2");
        assert_eq!(e["queryStringParameters"]["name"], "张 san");
        assert_eq!(e["body"], "{\"a\":1}");
        assert_eq!(e["isBase64Encoded"], false);
        assert_eq!(e["headers"]["authorization"], "Bearer t");
        assert_eq!(e["requestContext"]["http"]["sourceIp"], "127.0.0.1");
    }

    #[test]
    fn binary_bodies_are_base64() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
        let peer: SocketAddr = "127.0.0.1:1".parse().expect("addr");
        let e = to_event(
            &Method::POST,
            &"/x".parse().expect("uri"),
            &headers,
            &Bytes::from_static(&[0xff, 0xd8]),
            "POST /x",
            HashMap::new(),
            peer,
            "r",
        );
        assert_eq!((e["body"].as_str(), e["isBase64Encoded"].as_bool()), (Some("/9g="), Some(true)));
    }

    #[test]
    fn lambda_response_maps_status_headers_and_base64_body() {
        let v = json!({"statusCode": 401, "headers": {"retry-after": "2"}, "body": "aGk=", "isBase64Encoded": true, "cookies": ["a=b"]});
        let r = from_lambda(&v);
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(r.headers()["retry-after"], "2");
        assert_eq!(r.headers()[header::SET_COOKIE], "a=b");
    }
}
