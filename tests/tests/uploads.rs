//! Uploads end to end: a paid order opens an attempt, the phone POSTs the photo to S3 with
//! the presigned form as `wx.uploadFile` does (multipart/form-data), S3 keeps it and notifies
//! the standardize queue. S3 itself refuses what the policy does not allow.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use yunzhao_e2e::{Session, Stack, astronaut};

async fn stack() -> Stack {
    Stack::from_env().await.expect("the local stack's environment (run `make test`)")
}

async fn paid_order(stack: &Stack) -> (Session, String) {
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let student = stack.verified_student(&setup).await.expect("student");
    let no = stack.paid_order(&student, &setup.campaign_id).await.expect("paid order");
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

async fn wait_for_state(stack: &Stack, student: &Session, no: &str, want: &str) -> Value {
    stack.wait_for_state(student, no, want, 90).await.expect("state")
}

/// Width and height from a baseline JPEG's SOF0 marker.
fn image_size(jpeg: &[u8]) -> Option<(u16, u16)> {
    let at = jpeg.windows(2).position(|w| w == [0xFF, 0xC0])?;
    let b = jpeg.get(at + 5..at + 9)?;
    Some((u16::from_be_bytes([b[2], b[3]]), u16::from_be_bytes([b[0], b[1]])))
}

async fn clients() -> (aws_sdk_s3::Client, aws_sdk_sqs::Client) {
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    (
        aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build()),
        aws_sdk_sqs::Client::new(&sdk),
    )
}

#[tokio::test]
async fn an_uploaded_photo_is_standardized_and_sent_to_review_once() {
    let stack = stack().await;
    let (student, no) = paid_order(&stack).await;
    // A retake is a new attempt under the same order, free: open two, upload with the second.
    let first = stack.post(&format!("/v1/orders/{no}/uploads"), Some(&student), &json!({})).await.expect("call");
    assert_eq!((first.status, first.body["attempt"].as_u64()), (StatusCode::CREATED, Some(1)), "{}", first.body);
    let second = stack.post(&format!("/v1/orders/{no}/uploads"), Some(&student), &json!({})).await.expect("call");
    assert_eq!(second.body["attempt"], 2);
    let upload = &second.body["upload"];
    let key = upload["fields"]["key"].as_str().expect("key").to_owned();

    let (status, text) = post_form(upload, astronaut(), "image/png", None).await;
    assert!(status.is_success(), "S3 refused the upload: {status} {text}");
    let (s3, sqs) = clients().await;
    let uploads = std::env::var("UPLOADS_BUCKET_NAME").expect("bucket");
    let head = s3.head_object().bucket(&uploads).key(&key).send().await.expect("object stored");
    assert_eq!((head.content_length(), head.content_type()), (Some(astronaut().len() as i64), Some("image/png")));

    // Standardized, the photo waits for its student: nothing is queued for reviewers yet.
    let shown = wait_for_state(&stack, &student, &no, "standardized").await;
    assert_eq!(shown["order"]["amount_fen"], 3000, "the retake cost nothing");
    assert_eq!(shown["order"]["retake_reasons"], json!([]), "it passed the checks");
    let campaign = shown["order"]["campaign_id"].as_str().expect("campaign").to_owned();
    let queued = stack.db().query(&format!("REVIEWQ#{campaign}"), "TASK#").await.expect("query");
    assert!(!queued.iter().any(|t| t["out_trade_no"] == no.as_str()), "queued before the student submitted");
    // The student sees the standard photo through a short-lived link.
    let link = shown["photo"]["standard_url"].as_str().expect("photo link");
    let fetched = reqwest::get(link).await.expect("get");
    assert!(fetched.status().is_success());
    let linked = fetched.bytes().await.expect("bytes");
    assert_eq!(image_size(&linked), Some((480, 640)));
    let results = std::env::var("RESULTS_BUCKET_NAME").expect("results bucket");
    let standard = s3
        .get_object()
        .bucket(&results)
        .key(format!("attempts/{no}/a0002/standard.jpg"))
        .send()
        .await
        .expect("standard photo");
    let jpeg = standard.body.collect().await.expect("body").into_bytes();
    assert!((20 * 1024..=40 * 1024).contains(&jpeg.len()), "{} bytes", jpeg.len());
    let report =
        s3.get_object().bucket(&results).key(format!("attempts/{no}/a0002/report.json")).send().await.expect("report");
    let report: Value = serde_json::from_slice(&report.body.collect().await.expect("body").into_bytes()).expect("json");
    assert_eq!(report["passed"], true);

    // The student submits what they saw (上传等待审核): in review, with the task queued for
    // this attempt.
    let submitted = stack.post(&format!("/v1/orders/{no}/submit"), Some(&student), &json!({})).await.expect("call");
    assert_eq!((submitted.status, &submitted.body["order"]["state"]), (StatusCode::OK, &json!("in_review")));
    let tasks = stack.db().query(&format!("REVIEWQ#{campaign}"), "").await.expect("query");
    let task = tasks.iter().find(|t| t["out_trade_no"] == no.as_str());
    let task = task.expect("a review task for the order");
    let field = |k: &str| match &task[k] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    assert_eq!((field("attempt"), field("result_prefix")), ("2".to_owned(), format!("attempts/{no}/a0002")));
    assert_eq!(field("upload_key"), key);

    // The same S3 event, whole as S3 sends it (the object's version and sequencer, the
    // request's parameters), delivered twice more: each is recognised as handled (one
    // idempotency record for the object version) and changes nothing.
    let etag = head.e_tag().unwrap_or_default().trim_matches('"').to_owned();
    let version = head.version_id().expect("the uploads bucket is versioned").to_owned();
    let event = json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-05-01T08:00:00.000Z", "eventName": "ObjectCreated:Post",
        "userIdentity": {"principalId": "AWS:AROAEXAMPLE:upload-presign"},
        "requestParameters": {"sourceIPAddress": "203.0.113.7"},
        "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "photos",
               "bucket": {"name": uploads, "ownerIdentity": {"principalId": "A3NL1KOZZKExample"}, "arn": format!("arn:aws:s3:::{uploads}")},
               "object": {"key": key, "size": astronaut().len(), "eTag": etag, "versionId": version, "sequencer": "0055AED6DCD90281E5"}}}]});
    let record = stack
        .item(&format!("IDEMP#s3/{uploads}/{key}@{etag}?versionId={version}"), "IDEMP")
        .await
        .expect("read")
        .expect("the upload's own event was handled under this object version's key");
    assert_eq!(record["status"].as_str(), Some("COMPLETED"));
    let duplicates_logged = || {
        let logs = std::fs::read_to_string(&stack.functions_log).expect("functions log");
        logs.lines().filter(|l| l.contains(&no) && l.contains("event already handled")).count()
    };
    let before = duplicates_logged();
    let standardize_queue = std::env::var("STANDARDIZE_QUEUE_URL").expect("queue");
    for _ in 0..2 {
        sqs.send_message().queue_url(&standardize_queue).message_body(event.to_string()).send().await.expect("send");
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while duplicates_logged() < before + 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    assert_eq!(duplicates_logged(), before + 2, "both deliveries were read as the same, handled event");
    let history = stack.get(&format!("/v1/orders/{no}/history"), Some(&student)).await.expect("call");
    let causes: Vec<&str> =
        history.body["history"].as_array().expect("history").iter().filter_map(|h| h["cause"].as_str()).collect();
    let want = ["created", "payment_notification", "upload_received", "checks_passed", "submitted"];
    assert_eq!(causes, want, "{causes:?}");
    let order = stack.item(&format!("ORDER#{no}"), "ORDER").await.expect("read").expect("order");
    assert_eq!(order["attempts"].as_u64(), Some(2), "no attempt added");

    // In review: no more uploads.
    let more = stack.post(&format!("/v1/orders/{no}/uploads"), Some(&student), &json!({})).await.expect("call");
    assert_eq!(more.error_code(), "upload_not_allowed");
}

#[tokio::test]
async fn a_file_that_is_not_a_photo_returns_to_the_student_with_the_reason() {
    let stack = stack().await;
    let (student, no) = paid_order(&stack).await;
    let opened = stack.post(&format!("/v1/orders/{no}/uploads"), Some(&student), &json!({})).await.expect("call");
    let noise: Vec<u8> = (0..40_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let (status, _) = post_form(&opened.body["upload"], noise, "image/jpeg", None).await;
    assert!(status.is_success());
    let shown = wait_for_state(&stack, &student, &no, "retake_required").await;
    assert_eq!(shown["order"]["retake_reasons"][0]["code"], "not_a_photo", "{shown}");
    assert!(shown["order"]["retake_reasons"][0]["message_zh"].as_str().is_some_and(|m| !m.is_empty()));
    let retake = stack.post(&format!("/v1/orders/{no}/uploads"), Some(&student), &json!({})).await.expect("call");
    assert_eq!(
        (retake.status, retake.body["attempt"].as_u64()),
        (StatusCode::CREATED, Some(2)),
        "a retake is allowed, free"
    );
}

#[tokio::test]
async fn s3_refuses_uploads_the_policy_does_not_allow() {
    let stack = stack().await;
    let (student, no) = paid_order(&stack).await;
    let opened = stack.post(&format!("/v1/orders/{no}/uploads"), Some(&student), &json!({})).await.expect("call");
    let upload = &opened.body["upload"];

    let too_big = vec![0xAB; 15 * 1024 * 1024 + 1];
    let (status, text) = post_form(upload, too_big, "image/jpeg", None).await;
    assert!(status.is_client_error(), "an upload over 15 MB was accepted: {status}");
    assert!(
        text.contains("EntityTooLarge") || text.contains("content-length-range") || text.contains("Policy"),
        "{text}"
    );

    let (status, _) = post_form(upload, astronaut(), "application/pdf", None).await;
    assert!(status.is_client_error(), "a non-image content type was accepted: {status}");

    let (status, _) = post_form(upload, astronaut(), "image/png", Some("photos/other/someone-else")).await;
    assert!(status.is_client_error(), "a different key was accepted: {status}");
}

#[tokio::test]
async fn only_the_students_paid_order_can_take_uploads() {
    let stack = stack().await;
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let student = stack.verified_student(&setup).await.expect("student");
    let no = stack.unpaid_order(&student, &setup.campaign_id).await.expect("order");

    let unpaid = stack.post(&format!("/v1/orders/{no}/uploads"), Some(&student), &json!({})).await.expect("call");
    assert_eq!((unpaid.status, unpaid.error_code()), (StatusCode::CONFLICT, "upload_not_allowed"));
    stack.wx_pay(&no, true).await.expect("pay");
    let other = stack.log_in(None).await.expect("login");
    let theirs = stack.post(&format!("/v1/orders/{no}/uploads"), Some(&other), &json!({})).await.expect("call");
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);

    // Refunded orders take no uploads.
    let refund = stack
        .post(&format!("/v1/orders/{no}/refund"), Some(&setup.operator), &json!({"reason": "test"}))
        .await
        .expect("call");
    assert_eq!(refund.status, StatusCode::ACCEPTED);
    let after = stack.post(&format!("/v1/orders/{no}/uploads"), Some(&student), &json!({})).await.expect("call");
    assert_eq!(after.error_code(), "upload_not_allowed");
}

/// The guides' 上传等待审核: a photo is reviewed only once its student looked at it and
/// submitted it, only a photo that passed the checks can be, and one left unsubmitted is
/// reported to the school as such.
#[tokio::test]
async fn only_a_checked_photo_is_submitted_for_review_and_an_unsubmitted_one_is_reported_as_such() {
    let stack = stack().await;
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let student = stack.verified_student(&setup).await.expect("student");
    let no = stack.paid_order(&student, &setup.campaign_id).await.expect("paid");
    let path = format!("/v1/orders/{no}/submit");
    let refused = |r: &yunzhao_e2e::Reply| (r.status, r.error_code().to_owned());
    let nothing = (StatusCode::CONFLICT, "nothing_to_submit".to_owned());

    // Before any photo, and with a photo the checks refused: nothing to submit.
    let before = stack.post(&path, Some(&student), &json!({})).await.expect("call");
    assert_eq!(refused(&before), nothing, "{}", before.body);
    let noise: Vec<u8> = (0..40_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    stack.upload_photo(&student, &no, noise).await.expect("upload");
    wait_for_state(&stack, &student, &no, "retake_required").await;
    let failed = stack.post(&path, Some(&student), &json!({})).await.expect("call");
    assert_eq!(refused(&failed), nothing, "{}", failed.body);

    // A good photo waits for its student; the school sees it as not submitted.
    stack.upload_photo(&student, &no, astronaut()).await.expect("upload");
    wait_for_state(&stack, &student, &no, "standardized").await;
    let progress = format!("/v1/admin/campaigns/{}/progress?stage=not_submitted", setup.campaign_id);
    let listed = stack.get(&progress, Some(&setup.admin)).await.expect("progress");
    let students = listed.body["students"].as_array().expect("students");
    assert_eq!(students.len(), 1, "{}", listed.body);
    assert_eq!((&students[0]["order_id"], &students[0]["stage_zh"]), (&json!(no), &json!("照片未提交审核")));

    // Nobody else can submit it; its student can, and a second tap changes nothing.
    let other = stack.verified_student(&setup).await.expect("another student");
    let theirs = stack.post(&path, Some(&other), &json!({})).await.expect("call");
    assert_eq!(refused(&theirs), (StatusCode::NOT_FOUND, "order_not_found".to_owned()), "{}", theirs.body);
    for _ in 0..2 {
        let r = stack.post(&path, Some(&student), &json!({})).await.expect("call");
        assert_eq!((r.status, &r.body["order"]["state"]), (StatusCode::OK, &json!("in_review")), "{}", r.body);
    }
    let tasks = stack.db().query(&format!("REVIEWQ#{}", setup.campaign_id), "TASK#").await.expect("tasks");
    assert_eq!(tasks.iter().filter(|t| t["out_trade_no"] == no.as_str()).count(), 1, "one task");
}

/// 共N次免费提交检测机会: each upload takes one of the order's free checks, none left is refused
/// with its own reason, and a reviewer's rejection gives them all back (a rejected student
/// always gets a retake).
#[tokio::test]
async fn each_upload_takes_a_free_check_and_a_rejection_gives_them_all_back() {
    let stack = stack().await;
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let saved = stack.update_campaign(&setup, json!({"free_checks": 2})).await.expect("update");
    assert_eq!(saved["free_checks"], 2, "{saved}");
    let student = stack.verified_student(&setup).await.expect("student");
    let no = stack.paid_order(&student, &setup.campaign_id).await.expect("paid");
    let left = |v: &Value| v["order"]["checks_left"].clone();
    let shown = stack.get(&format!("/v1/orders/{no}"), Some(&student)).await.expect("order");
    assert_eq!((left(&shown.body), &shown.body["order"]["free_checks"]), (json!(2), &json!(2)), "{}", shown.body);

    let noise: Vec<u8> = (0..40_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    stack.upload_photo(&student, &no, noise).await.expect("upload");
    assert_eq!(left(&wait_for_state(&stack, &student, &no, "retake_required").await), 1);
    stack.upload_photo(&student, &no, astronaut()).await.expect("upload");
    assert_eq!(left(&wait_for_state(&stack, &student, &no, "standardized").await), 0);
    let more = stack.post(&format!("/v1/orders/{no}/uploads"), Some(&student), &json!({})).await.expect("call");
    assert_eq!((more.status, more.error_code()), (StatusCode::CONFLICT, "no_checks_left"), "{}", more.body);

    stack.post(&format!("/v1/orders/{no}/submit"), Some(&student), &json!({})).await.expect("submit");
    let reviewer = stack.staff(&setup.operator, &["reviewer"], &[&setup.school_id]).await.expect("reviewer");
    let reject = json!({"decision": "reject", "reasons": ["uneven_lighting"]});
    let decided = stack.review_next(&reviewer, &setup.campaign_id, &reject).await.expect("review");
    assert_eq!(decided.status, StatusCode::OK, "{}", decided.body);
    assert_eq!(left(&wait_for_state(&stack, &student, &no, "rejected").await), 2, "all given back");
    let retake = stack.post(&format!("/v1/orders/{no}/uploads"), Some(&student), &json!({})).await.expect("call");
    assert_eq!(retake.status, StatusCode::CREATED, "{}", retake.body);
}
