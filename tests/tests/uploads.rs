//! Uploads end to end: a paid order opens an attempt, the phone POSTs the photo to S3 with
//! the presigned form as `wx.uploadFile` does (multipart/form-data), S3 keeps it and notifies
//! the standardize queue. S3 itself refuses what the policy does not allow.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use yunzhao_e2e::{Session, Stack};

async fn stack() -> Stack {
    Stack::from_env().await.expect("the local stack's environment (run `make test`)")
}

/// The astronaut portrait `make models` fetched (a real photo, 512×512 PNG).
fn photo() -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/astronaut.png");
    std::fs::read(path).expect("models/astronaut.png (run `make models`)")
}

async fn paid_order(stack: &Stack) -> (Session, String) {
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let student = stack.verified_student(&setup).await.expect("student");
    let created = stack
        .post("/v1/orders", Some(&student.token), &json!({"campaign_id": setup.campaign_id}))
        .await
        .expect("order");
    let no = created.body["order"]["order_id"].as_str().expect("order id").to_owned();
    stack.wx_pay(&no, true).await.expect("pay");
    (student, no)
}

/// Sends the form the way wx.uploadFile does: the fields, then the file part.
async fn post_form(
    upload: &Value,
    bytes: Vec<u8>,
    content_type: &str,
    override_key: Option<&str>,
) -> (StatusCode, String) {
    let mut form = Form::new();
    for (k, v) in upload["fields"].as_object().expect("fields") {
        let value = match (k.as_str(), override_key) {
            ("key", Some(other)) => other.to_owned(),
            ("Content-Type", _) => content_type.to_owned(),
            _ => v.as_str().expect("string").to_owned(),
        };
        form = form.text(k.clone(), value);
    }
    form = form.part("file", Part::bytes(bytes).file_name("tmp_photo.png").mime_str(content_type).expect("mime"));
    let response =
        reqwest::Client::new().post(upload["url"].as_str().expect("url")).multipart(form).send().await.expect("post");
    let status = response.status();
    (status, response.text().await.unwrap_or_default())
}

#[tokio::test]
async fn a_presigned_post_upload_lands_in_s3_and_is_queued_for_standardizing() {
    let stack = stack().await;
    let (student, no) = paid_order(&stack).await;
    let opened = stack.post(&format!("/v1/orders/{no}/uploads"), Some(&student.token), &json!({})).await.expect("call");
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.body);
    assert_eq!(opened.body["attempt"], 1);
    let upload = &opened.body["upload"];
    let key = upload["fields"]["key"].as_str().expect("key").to_owned();

    let (status, text) = post_form(upload, photo(), "image/png", None).await;
    assert!(status.is_success(), "S3 refused the upload: {status} {text}");
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
    let bucket = std::env::var("UPLOADS_BUCKET_NAME").expect("bucket");
    let head = s3.head_object().bucket(&bucket).key(&key).send().await.expect("object stored");
    assert_eq!(head.content_length(), Some(photo().len() as i64));
    assert_eq!(head.content_type(), Some("image/png"));

    // S3 → SQS: the standardize queue holds the event for this key.
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue = std::env::var("STANDARDIZE_QUEUE_URL").expect("queue");
    let mut seen = false;
    for _ in 0..10 {
        let out = sqs
            .receive_message()
            .queue_url(&queue)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .visibility_timeout(1)
            .send()
            .await
            .expect("receive");
        if out.messages().iter().any(|m| m.body().is_some_and(|b| b.contains(&key))) {
            seen = true;
            break;
        }
    }
    assert!(seen, "no S3 event for {key} on the standardize queue");

    // A retake is a new attempt under the same order, free: the order's amount is unchanged.
    let retake = stack.post(&format!("/v1/orders/{no}/uploads"), Some(&student.token), &json!({})).await.expect("call");
    assert_eq!((retake.status, retake.body["attempt"].as_u64()), (StatusCode::CREATED, Some(2)));
    assert_ne!(retake.body["upload"]["fields"]["key"], key);
    let order = stack.get(&format!("/v1/orders/{no}"), Some(&student.token)).await.expect("call");
    assert_eq!(
        (order.body["order"]["state"].as_str(), order.body["order"]["amount_fen"].as_u64()),
        (Some("paid"), Some(3000))
    );
}

#[tokio::test]
async fn s3_refuses_uploads_the_policy_does_not_allow() {
    let stack = stack().await;
    let (student, no) = paid_order(&stack).await;
    let opened = stack.post(&format!("/v1/orders/{no}/uploads"), Some(&student.token), &json!({})).await.expect("call");
    let upload = &opened.body["upload"];

    let too_big = vec![0xAB; 15 * 1024 * 1024 + 1];
    let (status, text) = post_form(upload, too_big, "image/jpeg", None).await;
    assert!(status.is_client_error(), "an upload over 15 MB was accepted: {status}");
    assert!(
        text.contains("EntityTooLarge") || text.contains("content-length-range") || text.contains("Policy"),
        "{text}"
    );

    let (status, _) = post_form(upload, photo(), "application/pdf", None).await;
    assert!(status.is_client_error(), "a non-image content type was accepted: {status}");

    let (status, _) = post_form(upload, photo(), "image/png", Some("photos/other/someone-else")).await;
    assert!(status.is_client_error(), "a different key was accepted: {status}");
}

#[tokio::test]
async fn only_the_students_paid_order_can_take_uploads() {
    let stack = stack().await;
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let student = stack.verified_student(&setup).await.expect("student");
    let created = stack
        .post("/v1/orders", Some(&student.token), &json!({"campaign_id": setup.campaign_id}))
        .await
        .expect("order");
    let no = created.body["order"]["order_id"].as_str().expect("order id").to_owned();

    let unpaid = stack.post(&format!("/v1/orders/{no}/uploads"), Some(&student.token), &json!({})).await.expect("call");
    assert_eq!((unpaid.status, unpaid.error_code()), (StatusCode::CONFLICT, "upload_not_allowed"));
    stack.wx_pay(&no, true).await.expect("pay");
    let other = stack.log_in(None).await.expect("login");
    let theirs = stack.post(&format!("/v1/orders/{no}/uploads"), Some(&other.token), &json!({})).await.expect("call");
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);

    // Refunded orders take no uploads.
    let refund = stack
        .post(&format!("/v1/orders/{no}/refund"), Some(&setup.operator.token), &json!({"reason": "test"}))
        .await
        .expect("call");
    assert_eq!(refund.status, StatusCode::ACCEPTED);
    let after = stack.post(&format!("/v1/orders/{no}/uploads"), Some(&student.token), &json!({})).await.expect("call");
    assert_eq!(after.error_code(), "upload_not_allowed");
}
