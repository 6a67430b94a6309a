//! Orders and WeChat Pay end to end: prepay through the fake WeChat Pay (which checks our
//! merchant signatures), real signed and encrypted notifications to the webhook, duplicates,
//! tampering, reconciliation, cancel and refund.

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{Value, json};
use yunzhao_adapters::wechat::pay_crypto::{self, RsaVerifier};
use yunzhao_e2e::{Session, Stack};

async fn stack() -> Stack {
    Stack::from_env().await.expect("the local stack's environment (run `make test`)")
}

async fn new_order(stack: &Stack, student: &Session, campaign_id: &str) -> yunzhao_e2e::Reply {
    stack.post("/v1/orders", Some(student), &json!({ "campaign_id": campaign_id })).await.expect("call")
}

fn order_id(reply: &yunzhao_e2e::Reply) -> String {
    reply.body["order"]["order_id"].as_str().expect("order id").to_owned()
}

fn history_causes(reply: &yunzhao_e2e::Reply) -> Vec<(String, String)> {
    reply.body["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|h| {
            (h["state"].as_str().unwrap_or_default().to_owned(), h["cause"].as_str().unwrap_or_default().to_owned())
        })
        .collect()
}

#[tokio::test]
async fn paying_through_a_real_notification_marks_the_order_paid() {
    let stack = stack().await;
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let student = stack.verified_student(&setup).await.expect("student");

    let created = new_order(&stack, &student, &setup.campaign_id).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let no = order_id(&created);
    assert_eq!(
        (created.body["order"]["state"].as_str(), created.body["order"]["amount_fen"].as_u64()),
        (Some("created"), Some(3000))
    );

    // wx.requestPayment parameters: paySign verifies with the merchant's public key.
    let p = &created.body["payment"];
    assert!(p["package"].as_str().expect("package").starts_with("prepay_id=wx"));
    assert_eq!(
        (p["signType"].as_str(), p["appId"].as_str()),
        (Some("RSA"), std::env::var("WECHAT_APPID").ok().as_deref())
    );
    let message = pay_crypto::pay_sign_message(
        p["appId"].as_str().expect("appId"),
        p["timeStamp"].as_str().expect("timeStamp"),
        p["nonceStr"].as_str().expect("nonceStr"),
        p["package"].as_str().expect("package"),
    );
    let merchant_pub = base64::engine::general_purpose::STANDARD
        .decode(std::env::var("WECHATPAY_MERCHANT_PUBLIC_KEY").expect("merchant public key"))
        .expect("b64");
    assert_eq!(RsaVerifier::from_der(&merchant_pub).verify(&message, p["paySign"].as_str().expect("paySign")), Ok(()));

    // The same student and campaign get the same open order back.
    let again = new_order(&stack, &student, &setup.campaign_id).await;
    assert_eq!((again.status, order_id(&again)), (StatusCode::OK, no.clone()));

    let paid = stack.wx_pay(&no, true).await.expect("pay");
    assert_eq!(paid["delivery"]["status"], 204, "{paid}");
    assert_eq!(stack.stored_order_state(&no).await.expect("state"), "paid");
    let shown = stack.get(&format!("/v1/orders/{no}"), Some(&student)).await.expect("call");
    assert_eq!(shown.body["order"]["state"], "paid");
    assert!(shown.body["order"]["transaction_id"].as_str().is_some_and(|t| t.starts_with("4200")));

    let history = stack.get(&format!("/v1/orders/{no}/history"), Some(&student)).await.expect("call");
    assert_eq!(
        history_causes(&history),
        vec![("created".into(), "created".into()), ("paid".into(), "payment_notification".into())]
    );
    let campaign =
        stack.get(&format!("/v1/admin/campaigns/{}", setup.campaign_id), Some(&setup.admin)).await.expect("call");
    assert_eq!(campaign.body["progress"]["paid"], 1);
}

#[tokio::test]
async fn the_same_notification_ten_times_concurrently_pays_once() {
    let stack = stack().await;
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let student = stack.verified_student(&setup).await.expect("student");
    let no = order_id(&new_order(&stack, &student, &setup.campaign_id).await);
    stack.wx_pay(&no, false).await.expect("pay without notifying");

    let deliveries = stack.wx_notify(&no, json!({"times": 10, "concurrent": true})).await.expect("notify");
    assert_eq!(deliveries.len(), 10);
    assert!(deliveries.iter().all(|d| d["status"] == 204), "{deliveries:?}");
    assert_eq!(stack.order_items(&no, "PAYMENT#").await.expect("payments").len(), 1, "one payment record");
    let paid_entries =
        stack.order_items(&no, "HIST#").await.expect("history").iter().filter(|h| h["to"] == "paid").count();
    assert_eq!(paid_entries, 1, "one transition to paid");
    let campaign =
        stack.get(&format!("/v1/admin/campaigns/{}", setup.campaign_id), Some(&setup.admin)).await.expect("call");
    assert_eq!(campaign.body["progress"]["paid"], 1, "counted once");
}

#[tokio::test]
async fn tampered_wrong_key_and_stale_notifications_are_refused_and_change_nothing() {
    let stack = stack().await;
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let student = stack.verified_student(&setup).await.expect("student");
    let no = order_id(&new_order(&stack, &student, &setup.campaign_id).await);
    stack.wx_pay(&no, false).await.expect("pay without notifying");

    for (tamper, status) in [("body", 401), ("signature", 401), ("serial", 401), ("stale", 401), ("apiv3", 400)] {
        let d = stack.wx_notify(&no, json!({ "tamper": tamper })).await.expect("notify");
        assert_eq!(d[0]["status"], status, "{tamper}: {:?}", d[0]);
        let body: Value = serde_json::from_str(d[0]["body"].as_str().unwrap_or("{}")).unwrap_or(Value::Null);
        assert_eq!(body["code"], "FAIL", "{tamper}");
        assert_eq!(stack.stored_order_state(&no).await.expect("state"), "created", "{tamper} changed the order");
    }
    assert!(stack.order_items(&no, "PAYMENT#").await.expect("payments").is_empty());

    let genuine = stack.wx_notify(&no, json!({})).await.expect("notify");
    assert_eq!(genuine[0]["status"], 204);
    assert_eq!(stack.stored_order_state(&no).await.expect("state"), "paid");
}

#[tokio::test]
async fn a_mismatched_amount_or_unknown_order_is_flagged_never_paid() {
    let stack = stack().await;
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let student = stack.verified_student(&setup).await.expect("student");
    let no = order_id(&new_order(&stack, &student, &setup.campaign_id).await);
    stack.wx_pay(&no, false).await.expect("pay without notifying");

    let d = stack.wx_notify(&no, json!({"amount": 1})).await.expect("notify");
    assert_eq!(d[0]["status"], 204, "acknowledged so WeChat stops retrying");
    assert_eq!(stack.stored_order_state(&no).await.expect("state"), "created");
    assert_eq!(stack.anomalies(&no).await.expect("anomalies"), vec!["amount_mismatch"]);

    let unknown = format!("YZ{:024X}", yunzhao_e2e::unique());
    let notify_url = format!("{}/v1/payments/wechat/notify", stack.api);
    let d = stack.wx_notify(&unknown, json!({"amount": 3000, "notify_url": notify_url})).await.expect("notify");
    assert_eq!(d[0]["status"], 204);
    assert_eq!(stack.anomalies(&unknown).await.expect("anomalies"), vec!["unknown_order"]);
}

#[tokio::test]
async fn a_payment_whose_notification_never_came_is_reconciled_on_status_request() {
    let stack = stack().await;
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let student = stack.verified_student(&setup).await.expect("student");
    let no = order_id(&new_order(&stack, &student, &setup.campaign_id).await);
    stack.wx_pay(&no, false).await.expect("pay, notification lost");
    assert_eq!(stack.stored_order_state(&no).await.expect("state"), "created");

    let shown = stack.get(&format!("/v1/orders/{no}"), Some(&student)).await.expect("call");
    assert_eq!(shown.body["order"]["state"], "paid", "{}", shown.body);
    let history = stack.get(&format!("/v1/orders/{no}/history"), Some(&student)).await.expect("call");
    assert_eq!(history_causes(&history).last(), Some(&("paid".into(), "payment_query".into())));

    // The late notification afterwards is a harmless duplicate.
    let late = stack.wx_notify(&no, json!({})).await.expect("notify");
    assert_eq!(late[0]["status"], 204);
    assert_eq!(stack.order_items(&no, "PAYMENT#").await.expect("payments").len(), 1);
}

#[tokio::test]
async fn orders_outside_the_window_or_unverified_are_refused() {
    let stack = stack().await;
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let now = time::OffsetDateTime::now_utc();
    let fmt = |t: time::OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).expect("format");
    let later = stack
        .campaign_with_window(
            &setup.admin,
            &setup.school_id,
            &fmt(now + time::Duration::days(1)),
            &fmt(now + time::Duration::days(9)),
        )
        .await
        .expect("future campaign");
    let past = stack
        .campaign_with_window(
            &setup.admin,
            &setup.school_id,
            &fmt(now - time::Duration::days(9)),
            &fmt(now - time::Duration::minutes(1)),
        )
        .await
        .expect("closed campaign");
    let student = stack.verified_student(&setup).await.expect("student");
    let r = new_order(&stack, &student, &later).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::CONFLICT, "campaign_not_open"));
    let r = new_order(&stack, &student, &past).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::CONFLICT, "campaign_closed"));

    let stranger = stack.log_in(None).await.expect("login");
    let r = new_order(&stack, &stranger, &setup.campaign_id).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::FORBIDDEN, "not_verified"));
}

#[tokio::test]
async fn cancelling_closes_the_trade_at_wechat_pay_and_a_new_order_can_follow() {
    let stack = stack().await;
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let student = stack.verified_student(&setup).await.expect("student");
    let no = order_id(&new_order(&stack, &student, &setup.campaign_id).await);

    let other = stack.log_in(None).await.expect("another student");
    let r = stack.post(&format!("/v1/orders/{no}/cancel"), Some(&other), &json!({})).await.expect("call");
    assert_eq!(r.status, StatusCode::NOT_FOUND, "another student cannot see or cancel it");

    let cancelled = stack.post(&format!("/v1/orders/{no}/cancel"), Some(&student), &json!({})).await.expect("call");
    assert_eq!(
        (cancelled.status, cancelled.body["order"]["state"].as_str()),
        (StatusCode::OK, Some("cancelled")),
        "{}",
        cancelled.body
    );
    assert_eq!(stack.wx_trade_state(&no).await.expect("trade"), "CLOSED");
    let again = stack.post(&format!("/v1/orders/{no}/cancel"), Some(&student), &json!({})).await.expect("call");
    assert_eq!(again.error_code(), "order_not_cancellable");

    let fresh = new_order(&stack, &student, &setup.campaign_id).await;
    assert_eq!(fresh.status, StatusCode::CREATED);
    assert_ne!(order_id(&fresh), no);
    let history = stack.get(&format!("/v1/orders/{no}/history"), Some(&student)).await.expect("call");
    assert_eq!(history_causes(&history).last(), Some(&("cancelled".into(), "student_cancel".into())));
}

#[tokio::test]
async fn an_operator_refund_is_confirmed_by_notification() {
    let stack = stack().await;
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let student = stack.verified_student(&setup).await.expect("student");
    let no = order_id(&new_order(&stack, &student, &setup.campaign_id).await);
    stack.wx_pay(&no, true).await.expect("pay");

    let by_student = stack
        .post(&format!("/v1/orders/{no}/refund"), Some(&student), &json!({"reason": "不想要了"}))
        .await
        .expect("call");
    // Refunds are an operator's, from the console: a student's token does not open the route.
    assert_eq!((by_student.status, by_student.error_code()), (StatusCode::UNAUTHORIZED, "not_signed_in"));
    let requested = stack
        .post(&format!("/v1/orders/{no}/refund"), Some(&setup.operator), &json!({"reason": "学生重复缴费"}))
        .await
        .expect("call");
    assert_eq!(requested.status, StatusCode::ACCEPTED, "{}", requested.body);

    let mut state = String::new();
    for _ in 0..50 {
        state = stack.stored_order_state(&no).await.expect("state");
        if state == "refunded" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(state, "refunded");
    // Staff read an order's history through customer service's lookup.
    let looked_up = stack.get(&format!("/v1/service/orders/{no}"), Some(&setup.operator)).await.expect("call");
    let causes: Vec<(String, String)> = looked_up.body["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|h| (h["to"].as_str().unwrap_or_default().to_owned(), h["cause"].as_str().unwrap_or_default().to_owned()))
        .collect();
    assert_eq!(
        causes,
        vec![
            ("created".into(), "created".into()),
            ("paid".into(), "payment_notification".into()),
            ("refunded".into(), "refund_notification".into())
        ]
    );
    let twice = stack
        .post(&format!("/v1/orders/{no}/refund"), Some(&setup.operator), &json!({"reason": "again"}))
        .await
        .expect("call");
    assert_eq!(twice.error_code(), "not_refundable");
    // A refunded student no longer counts as paid.
    let campaign =
        stack.get(&format!("/v1/admin/campaigns/{}", setup.campaign_id), Some(&setup.admin)).await.expect("call");
    assert_eq!(campaign.body["progress"]["paid"], 0, "{}", campaign.body);
}
