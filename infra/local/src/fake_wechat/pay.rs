//! WeChat Pay API v3 as the fake plays it: JSAPI prepay, query, close and refund, with the
//! merchant's request signatures checked and every answer signed with a test platform key;
//! and notifications (signed, resource encrypted with the APIv3 key) sent to the order's
//! notify_url on demand, including duplicates, concurrent deliveries and tampered ones.
//!
//! Controls for tests: `POST /_fake/pay/transactions/{no}/pay` (the student pays; notifies
//! unless `{"notify": false}`) and `POST /_fake/pay/transactions/{no}/notify`
//! (`{"times", "concurrent", "tamper": "body"|"signature"|"serial"|"stale"|"apiv3", "amount"}`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use yunzhao_adapters::wechat::pay_crypto::{self, RsaSigner, RsaVerifier};

pub struct PayKeys {
    pub appid: String,
    pub mchid: String,
    pub merchant_public_key: RsaVerifier,
    pub platform_key: RsaSigner,
    pub platform_serial: String,
    pub apiv3_key: Vec<u8>,
}

#[derive(Clone)]
struct Tx {
    out_trade_no: String,
    amount: u64,
    openid: String,
    notify_url: String,
    state: &'static str,
    prepay_id: String,
    transaction_id: Option<String>,
    success_time: Option<String>,
    /// The refund made of this payment: (out_refund_no, refund_id). WeChat Pay makes one refund
    /// per out_refund_no: the same number again answers the same refund.
    refund: Option<(String, String)>,
}

pub struct PayState {
    keys: PayKeys,
    http: reqwest::Client,
    txs: Mutex<HashMap<String, Tx>>,
}

impl PayState {
    pub fn new(keys: PayKeys) -> Self {
        Self { keys, http: reqwest::Client::new(), txs: Mutex::new(HashMap::new()) }
    }

    fn txs(&self) -> std::sync::MutexGuard<'_, HashMap<String, Tx>> {
        self.txs.lock().unwrap_or_else(|p| p.into_inner())
    }
}

type Shared = State<Arc<PayState>>;

fn now_shanghai() -> String {
    OffsetDateTime::now_utc().to_offset(time::macros::offset!(+8)).format(&Rfc3339).unwrap_or_default()
}

/// An answer signed as WeChat Pay signs its responses.
fn signed(state: &PayState, status: StatusCode, body: Option<Value>) -> Response {
    let text = body.map(|b| b.to_string()).unwrap_or_default();
    let timestamp = OffsetDateTime::now_utc().unix_timestamp().to_string();
    let nonce = pay_crypto::nonce_str();
    let signature = state.keys.platform_key.sign(&pay_crypto::wechat_message(&timestamp, &nonce, &text));
    let mut response = (status, text).into_response();
    let h = response.headers_mut();
    for (k, v) in [
        ("wechatpay-timestamp", timestamp),
        ("wechatpay-nonce", nonce),
        ("wechatpay-signature", signature),
        ("wechatpay-serial", state.keys.platform_serial.clone()),
        ("content-type", "application/json".into()),
    ] {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    }
    response
}

fn fail(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({"code": code, "message": message}))).into_response()
}

/// Checks the merchant's `Authorization` the way WeChat Pay does.
fn authorized(
    state: &PayState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &str,
) -> Result<(), &'static str> {
    let refuse = |why: &'static str| Err(why);
    let Some(fields) =
        headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(pay_crypto::parse_authorization)
    else {
        return refuse("missing or malformed Authorization");
    };
    if fields.get("mchid") != Some(&state.keys.mchid) {
        return refuse("mchid mismatch");
    }
    let ts: i64 = fields.get("timestamp").and_then(|t| t.parse().ok()).unwrap_or(0);
    if (OffsetDateTime::now_utc().unix_timestamp() - ts).abs() > 300 {
        return refuse("stale timestamp");
    }
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let message = pay_crypto::request_message(
        method.as_str(),
        path,
        ts,
        fields.get("nonce_str").map_or("", String::as_str),
        body,
    );
    match state.keys.merchant_public_key.verify(&message, fields.get("signature").map_or("", String::as_str)) {
        Ok(()) => Ok(()),
        Err(_) => refuse("signature does not verify"),
    }
}

fn tx_view(keys: &PayKeys, tx: &Tx, amount: u64) -> Value {
    json!({
        "appid": keys.appid, "mchid": keys.mchid, "out_trade_no": tx.out_trade_no,
        "transaction_id": tx.transaction_id.clone().unwrap_or_default(), "trade_type": "JSAPI",
        "trade_state": tx.state, "trade_state_desc": tx.state, "bank_type": "OTHERS", "attach": "",
        "success_time": tx.success_time,
        "payer": {"openid": tx.openid},
        "amount": {"total": amount, "payer_total": amount, "currency": "CNY", "payer_currency": "CNY"},
    })
}

pub async fn jsapi(State(state): Shared, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let text = String::from_utf8_lossy(&body).into_owned();
    if let Err(why) = authorized(&state, &method, &uri, &headers, &text) {
        return fail(StatusCode::UNAUTHORIZED, "SIGN_ERROR", why);
    }
    let Ok(req) = serde_json::from_str::<Value>(&text) else {
        return fail(StatusCode::BAD_REQUEST, "PARAM_ERROR", "body is not JSON");
    };
    let no = req["out_trade_no"].as_str().unwrap_or_default().to_owned();
    let amount = req["amount"]["total"].as_u64().unwrap_or(0);
    let openid = req["payer"]["openid"].as_str().unwrap_or_default().to_owned();
    let expire_ok = req["time_expire"]
        .as_str()
        .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
        .is_some_and(|t| t > OffsetDateTime::now_utc());
    if req["appid"] != state.keys.appid.as_str() || req["mchid"] != state.keys.mchid.as_str() {
        return fail(StatusCode::BAD_REQUEST, "APPID_MCHID_NOT_MATCH", "appid and mchid do not match");
    }
    if !(6..=32).contains(&no.len())
        || amount == 0
        || openid.is_empty()
        || !expire_ok
        || req["notify_url"].as_str().is_none()
    {
        return fail(
            StatusCode::BAD_REQUEST,
            "PARAM_ERROR",
            "out_trade_no, amount, payer, time_expire or notify_url invalid",
        );
    }
    let mut txs = state.txs();
    if let Some(tx) = txs.get(&no) {
        if tx.amount != amount || tx.openid != openid {
            return fail(StatusCode::BAD_REQUEST, "INVALID_REQUEST", "out_trade_no already used with other parameters");
        }
        if tx.state == "SUCCESS" {
            return fail(StatusCode::BAD_REQUEST, "ORDERPAID", "order already paid");
        }
        let prepay_id = tx.prepay_id.clone();
        drop(txs);
        return signed(&state, StatusCode::OK, Some(json!({"prepay_id": prepay_id})));
    }
    let prepay_id = format!("wx{}", uuid::Uuid::new_v4().simple());
    txs.insert(
        no.clone(),
        Tx {
            out_trade_no: no,
            amount,
            openid,
            notify_url: req["notify_url"].as_str().unwrap_or_default().to_owned(),
            state: "NOTPAY",
            prepay_id: prepay_id.clone(),
            transaction_id: None,
            success_time: None,
            refund: None,
        },
    );
    drop(txs);
    signed(&state, StatusCode::OK, Some(json!({"prepay_id": prepay_id})))
}

pub async fn query(
    State(state): Shared,
    Path(no): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Err(why) = authorized(&state, &method, &uri, &headers, "") {
        return fail(StatusCode::UNAUTHORIZED, "SIGN_ERROR", why);
    }
    let tx = state.txs().get(&no).cloned();
    match tx {
        None => fail(StatusCode::NOT_FOUND, "ORDER_NOT_EXIST", "order does not exist"),
        Some(tx) => signed(&state, StatusCode::OK, Some(tx_view(&state.keys, &tx, tx.amount))),
    }
}

pub async fn close(
    State(state): Shared,
    Path(no): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(why) = authorized(&state, &method, &uri, &headers, &String::from_utf8_lossy(&body)) {
        return fail(StatusCode::UNAUTHORIZED, "SIGN_ERROR", why);
    }
    let mut txs = state.txs();
    match txs.get_mut(&no) {
        None => fail(StatusCode::NOT_FOUND, "ORDER_NOT_EXIST", "order does not exist"),
        Some(tx) if tx.state == "SUCCESS" || tx.state == "REFUND" => {
            fail(StatusCode::BAD_REQUEST, "ORDERPAID", "order paid")
        }
        Some(tx) => {
            tx.state = "CLOSED";
            drop(txs);
            signed(&state, StatusCode::NO_CONTENT, None)
        }
    }
}

pub async fn refund(State(state): Shared, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let text = String::from_utf8_lossy(&body).into_owned();
    if let Err(why) = authorized(&state, &method, &uri, &headers, &text) {
        return fail(StatusCode::UNAUTHORIZED, "SIGN_ERROR", why);
    }
    let req: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let no = req["out_trade_no"].as_str().unwrap_or_default().to_owned();
    let out_refund_no = req["out_refund_no"].as_str().unwrap_or_default().to_owned();
    let notify_url = req["notify_url"].as_str().unwrap_or_default().to_owned();
    let refund_id = format!("5030{}", &uuid::Uuid::new_v4().simple().to_string()[..24]);
    let tx = {
        let mut txs = state.txs();
        match txs.get_mut(&no) {
            Some(tx) if tx.state == "SUCCESS" && req["amount"]["refund"].as_u64() == Some(tx.amount) => {
                tx.state = "REFUND";
                tx.refund = Some((out_refund_no.clone(), refund_id.clone()));
                tx.clone()
            }
            // The same refund asked again (a retry): the refund already made, nothing new.
            Some(Tx { refund: Some((same, id)), .. }) if *same == out_refund_no => {
                let body = json!({"refund_id": id, "out_refund_no": out_refund_no, "status": "PROCESSING"});
                return signed(&state, StatusCode::OK, Some(body));
            }
            Some(_) => return fail(StatusCode::BAD_REQUEST, "INVALID_REQUEST", "order not refundable for this amount"),
            None => return fail(StatusCode::NOT_FOUND, "RESOURCE_NOT_EXISTS", "order does not exist"),
        }
    };
    // WeChat Pay confirms refunds later, by notification.
    let (state2, resource) = (
        state.clone(),
        json!({
            "mchid": state.keys.mchid, "out_trade_no": tx.out_trade_no, "transaction_id": tx.transaction_id,
            "out_refund_no": out_refund_no, "refund_id": refund_id, "refund_status": "SUCCESS", "success_time": now_shanghai(),
            "amount": {"total": tx.amount, "refund": tx.amount, "payer_total": tx.amount, "payer_refund": tx.amount},
        }),
    );
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let _ = deliver(&state2, &notify_url, "REFUND.SUCCESS", "refund", &resource, None).await;
    });
    signed(
        &state,
        StatusCode::OK,
        Some(json!({"refund_id": refund_id, "out_refund_no": out_refund_no, "status": "PROCESSING"})),
    )
}

/// Sends one notification; what the webhook answered.
async fn deliver(
    state: &PayState,
    url: &str,
    event_type: &str,
    kind: &str,
    resource: &Value,
    tamper: Option<&str>,
) -> Value {
    let nonce12: String = pay_crypto::nonce_str()[..12].to_owned();
    let key: Vec<u8> = if tamper == Some("apiv3") {
        b"not-the-merchants-apiv3-key-0000".to_vec()
    } else {
        state.keys.apiv3_key.clone()
    };
    let Ok(ciphertext) = pay_crypto::encrypt_resource(&key, &nonce12, kind, resource.to_string().as_bytes()) else {
        return json!({"error": "encrypt"});
    };
    let body = json!({
        "id": format!("EV-{}", uuid::Uuid::new_v4().simple()),
        "create_time": now_shanghai(),
        "resource_type": "encrypt-resource",
        "event_type": event_type,
        "summary": if kind == "refund" { "退款成功" } else { "支付成功" },
        "resource": {"original_type": kind, "algorithm": "AEAD_AES_256_GCM", "ciphertext": ciphertext, "associated_data": kind, "nonce": nonce12},
    })
    .to_string();
    let mut timestamp = OffsetDateTime::now_utc().unix_timestamp();
    if tamper == Some("stale") {
        timestamp -= 600;
    }
    let nonce = pay_crypto::nonce_str();
    let mut signature =
        state.keys.platform_key.sign(&pay_crypto::wechat_message(&timestamp.to_string(), &nonce, &body));
    let mut sent_body = body.clone();
    let mut serial = state.keys.platform_serial.clone();
    match tamper {
        Some("body") => sent_body = body.replacen("\"summary\"", "\"summary \"", 1),
        Some("signature") => {
            // Change the first base64 character: still well-formed, no longer valid.
            let first = if signature.starts_with('A') { 'B' } else { 'A' };
            signature = format!("{first}{}", &signature[1..]);
        }
        Some("serial") => serial = "PUB_KEY_ID_NOBODY_KNOWS".into(),
        _ => {}
    }
    let response = state
        .http
        .post(url)
        .header("content-type", "application/json")
        .header("wechatpay-timestamp", timestamp.to_string())
        .header("wechatpay-nonce", nonce)
        .header("wechatpay-signature", signature)
        .header("wechatpay-serial", serial)
        .header("wechatpay-signature-type", "WECHATPAY2-SHA256-RSA2048")
        .body(sent_body)
        .send()
        .await;
    match response {
        Ok(r) => {
            let status = r.status().as_u16();
            let text = r.text().await.unwrap_or_default();
            json!({"status": status, "body": text})
        }
        Err(e) => json!({"error": e.without_url().to_string()}),
    }
}

#[derive(Deserialize, Default)]
pub struct PayRequest {
    notify: Option<bool>,
}

pub async fn control_pay(State(state): Shared, Path(no): Path<String>, body: Option<Json<PayRequest>>) -> Response {
    let notify = body.and_then(|b| b.0.notify).unwrap_or(true);
    let tx = {
        let mut txs = state.txs();
        let Some(tx) = txs.get_mut(&no) else {
            return fail(StatusCode::NOT_FOUND, "ORDER_NOT_EXIST", "no such prepay");
        };
        if tx.state == "NOTPAY" {
            tx.state = "SUCCESS";
            tx.transaction_id = Some(format!("4200{}", &uuid::Uuid::new_v4().simple().to_string()[..24]));
            tx.success_time = Some(now_shanghai());
        }
        tx.clone()
    };
    let delivery = if notify {
        deliver(
            &state,
            &tx.notify_url,
            "TRANSACTION.SUCCESS",
            "transaction",
            &tx_view(&state.keys, &tx, tx.amount),
            None,
        )
        .await
    } else {
        Value::Null
    };
    Json(json!({"trade_state": tx.state, "transaction_id": tx.transaction_id, "delivery": delivery})).into_response()
}

#[derive(Deserialize, Default)]
pub struct NotifyRequest {
    times: Option<usize>,
    concurrent: Option<bool>,
    tamper: Option<String>,
    /// Report this amount instead of the paid one (a mismatch).
    amount: Option<u64>,
    /// For an order the fake never saw: the notify_url to use.
    notify_url: Option<String>,
}

pub async fn control_notify(
    State(state): Shared,
    Path(no): Path<String>,
    body: Option<Json<NotifyRequest>>,
) -> Response {
    let req = body.map(|b| b.0).unwrap_or_default();
    let tx = state.txs().get(&no).cloned().unwrap_or_else(|| Tx {
        out_trade_no: no.clone(),
        amount: req.amount.unwrap_or(1),
        openid: "oUnknownPayer000".into(),
        notify_url: req.notify_url.clone().unwrap_or_default(),
        state: "SUCCESS",
        prepay_id: String::new(),
        transaction_id: Some(format!("4200{}", &uuid::Uuid::new_v4().simple().to_string()[..24])),
        success_time: Some(now_shanghai()),
        refund: None,
    });
    let resource = tx_view(&state.keys, &tx, req.amount.unwrap_or(tx.amount));
    let times = req.times.unwrap_or(1).clamp(1, 100);
    let tamper = req.tamper.as_deref();
    let deliveries: Vec<Value> = if req.concurrent.unwrap_or(false) {
        let sends = (0..times)
            .map(|_| deliver(&state, &tx.notify_url, "TRANSACTION.SUCCESS", "transaction", &resource, tamper));
        futures::future::join_all(sends).await
    } else {
        let mut out = Vec::new();
        for _ in 0..times {
            out.push(deliver(&state, &tx.notify_url, "TRANSACTION.SUCCESS", "transaction", &resource, tamper).await);
        }
        out
    };
    Json(json!({"deliveries": deliveries})).into_response()
}

/// `GET /_fake/pay/transactions/{no}`: the trade state as WeChat Pay holds it.
pub async fn control_state(State(state): Shared, Path(no): Path<String>) -> Response {
    match state.txs().get(&no) {
        Some(tx) => Json(json!({"trade_state": tx.state, "amount": tx.amount})).into_response(),
        None => fail(StatusCode::NOT_FOUND, "ORDER_NOT_EXIST", "no such transaction"),
    }
}
