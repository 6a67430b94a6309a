//! Originals are immutable once standardized (security issue #12, item 8): a presigned POST
//! stays usable for its ten minutes and names a fixed key per attempt, so a student could post
//! another file over a photo already approved. The uploads bucket keeps versions; the attempt
//! and its review task name the version standardize took; a later write to the key is never
//! standardized, never shown, and is removed.

use reqwest::StatusCode;
use serde_json::{Value, json};
use yunzhao_e2e::{SchoolSetup, Session, Stack, astronaut};

async fn stack() -> Stack {
    Stack::from_env().await.expect("the local stack's environment (run `make test`)")
}

async fn s3() -> aws_sdk_s3::Client {
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build())
}

fn uploads_bucket() -> String {
    std::env::var("UPLOADS_BUCKET_NAME").expect("UPLOADS_BUCKET_NAME")
}

/// A flat grey PNG, `side`×`side` pixels, its image data stored uncompressed so that it is
/// over the form's 10 KB minimum: a valid image, and nothing like the first photo.
fn grey_png(side: u32) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    // Each row: filter type 0, then one grey byte per pixel.
    let raw: Vec<u8> = (0..side).flat_map(|_| std::iter::once(0).chain((0..side).map(|_| 0x80))).collect();
    // zlib: header, deflate "stored" blocks of at most 65 535 bytes, Adler-32.
    let mut zlib = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, block) in blocks.iter().enumerate() {
        zlib.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        zlib.extend_from_slice(&len.to_le_bytes());
        zlib.extend_from_slice(&(!len).to_le_bytes());
        zlib.extend_from_slice(block);
    }
    let (a, b) = raw.iter().fold((1u32, 0u32), |(a, b), &x| {
        let a = (a + u32::from(x)) % 65_521;
        (a, (b + a) % 65_521)
    });
    zlib.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend_from_slice(&side.to_be_bytes());
    header.extend_from_slice(&side.to_be_bytes());
    header.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit greyscale, no interlace
    chunk(&mut png, b"IHDR", &header);
    chunk(&mut png, b"IDAT", &zlib);
    chunk(&mut png, b"IEND", &[]);
    png
}

/// The uploads object as it is now (its current version), or one version of it.
async fn object(s3: &aws_sdk_s3::Client, key: &str, version: Option<&str>) -> Vec<u8> {
    let got = s3.get_object().bucket(uploads_bucket()).key(key).set_version_id(version.map(str::to_owned)).send();
    let got = got.await.unwrap_or_else(|e| panic!("{key}@{version:?}: {}", aws_sdk_s3::error::DisplayErrorContext(&e)));
    got.body.collect().await.expect("body").into_bytes().to_vec()
}

/// Waits until the key holds the first photo again: standardize has handled the second
/// write's event and removed it.
async fn wait_until_the_key_holds(s3: &aws_sdk_s3::Client, key: &str, want: &[u8]) {
    for _ in 0..120 {
        if object(s3, key, None).await == want {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    panic!("{key} still holds the second write after 60 s: the overwrite replaced the original");
}

/// A paid order with its first upload attempt opened: the student, the order, the form.
async fn order_with_a_form(stack: &Stack, setup: &SchoolSetup) -> (Session, String, Value) {
    let student = stack.verified_student(setup).await.expect("student");
    let no = stack.paid_order(&student, &setup.campaign_id).await.expect("paid order");
    let opened = stack.post(&format!("/v1/orders/{no}/uploads"), Some(&student), &json!({})).await.expect("call");
    assert_eq!((opened.status, opened.body["attempt"].as_u64()), (StatusCode::CREATED, Some(1)), "{}", opened.body);
    (student, no, opened.body["upload"].clone())
}

/// A paid order whose first photo went through its form and waits in review: the student,
/// the order, the form (still valid) and the key it posts to.
async fn in_review_with_its_form(stack: &Stack, setup: &SchoolSetup) -> (Session, String, Value, String) {
    let (student, no, form) = order_with_a_form(stack, setup).await;
    let key = form["fields"]["key"].as_str().expect("key").to_owned();
    let status = stack.upload_form(&form, astronaut(), "image/png").await.expect("post");
    assert!(status.is_success(), "S3 refused the first upload: {status}");
    stack.submit_photo(&student, &no, 180).await.expect("in review");
    (student, no, form, key)
}

/// What the order records of its one attempt: the attempt counter, and the attempt's state
/// and upload version.
async fn recorded(stack: &Stack, no: &str) -> (String, Option<String>, Option<String>) {
    let order = stack.item(&format!("ORDER#{no}"), "ORDER").await.expect("read").expect("order");
    let attempts = order["attempts"].as_u64().map(|n| n.to_string()).unwrap_or_default();
    let attempt = stack.item(&format!("ORDER#{no}"), "ATTEMPT#0001").await.expect("read").expect("attempt 1");
    let text = |k: &str| attempt[k].as_str().map(str::to_owned);
    (attempts, text("state"), text("upload_version"))
}

async fn causes(stack: &Stack, student: &Session, no: &str) -> Vec<String> {
    let history = stack.get(&format!("/v1/orders/{no}/history"), Some(student)).await.expect("history");
    let entries = history.body["history"].as_array().cloned().unwrap_or_default();
    entries.iter().filter_map(|h| h["cause"].as_str().map(str::to_owned)).collect()
}

/// Every version the bucket keeps of the key.
async fn versions(s3: &aws_sdk_s3::Client, key: &str) -> Vec<String> {
    let listed = s3.list_object_versions().bucket(uploads_bucket()).prefix(key).send().await.expect("versions");
    listed
        .versions()
        .iter()
        .filter(|v| v.key() == Some(key))
        .filter_map(|v| v.version_id().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn the_same_form_posted_again_after_approval_changes_no_original() {
    let (stack, s3) = (stack().await, s3().await);
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let (student, no, form, key) = in_review_with_its_form(&stack, &setup).await;

    // A reviewer is shown the original, and approves it.
    let reviewer = stack.staff(&setup.operator, &["reviewer"], &[&setup.school_id]).await.expect("reviewer");
    let claims = format!("/v1/review/campaigns/{}/claims", setup.campaign_id);
    let claimed = stack.post(&claims, Some(&reviewer), &json!({})).await.expect("claim");
    assert_eq!(claimed.status, StatusCode::OK, "{}", claimed.body);
    let original_link = claimed.body["photos"]["original_url"].as_str().expect("original link").to_owned();
    assert!(stack.download(&original_link).await.expect("original") == astronaut(), "the reviewer sees the upload");
    let task = claimed.body["task_id"].as_str().expect("task id");
    let decide = format!("/v1/review/campaigns/{}/tasks/{task}/decision", setup.campaign_id);
    let decided = stack.post(&decide, Some(&reviewer), &json!({"decision": "approve"})).await.expect("decide");
    assert_eq!(
        (decided.status, decided.body["state"].as_str()),
        (StatusCode::OK, Some("approved")),
        "{}",
        decided.body
    );
    let before = recorded(&stack, &no).await;

    // WHEN the student posts another image with the same form, still within its ten minutes
    let grey = grey_png(200);
    assert!(grey.len() > 10 * 1024 && grey != astronaut());
    let status = stack.upload_form(&form, grey, "image/png").await.expect("post");
    assert!(status.is_success(), "S3 takes the bytes (the form is still valid): {status}");

    // THEN the link the reviewer was given still shows the first photo
    assert!(
        stack.download(&original_link).await.expect("original") == astronaut(),
        "the reviewer's link to the original now shows the second write"
    );
    // and, once standardize has seen the write, it is gone: the key holds the first photo again
    wait_until_the_key_holds(&s3, &key, &astronaut()).await;
    assert_eq!(versions(&s3, &key).await.len(), 1, "only the original is kept");
    // the order is approved with its attempt unchanged, which names the original's version
    assert_eq!(stack.stored_order_state(&no).await.expect("state"), "approved");
    let after = recorded(&stack, &no).await;
    assert_eq!(after, before, "the attempt is what it was");
    let (attempts, state, version) = after;
    assert_eq!((attempts.as_str(), state.as_deref()), ("1", Some("uploaded")));
    let version = version.expect("the attempt records the version it took");
    assert!(object(&s3, &key, Some(&version)).await == astronaut(), "the recorded version is the first upload");
    // and nothing was standardized a second time.
    let causes = causes(&stack, &student, &no).await;
    assert_eq!(causes.iter().filter(|c| *c == "upload_received").count(), 1, "{causes:?}");
}

#[tokio::test]
async fn a_second_write_while_in_review_is_never_what_the_reviewer_is_shown() {
    let (stack, s3) = (stack().await, s3().await);
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let (student, no, form, key) = in_review_with_its_form(&stack, &setup).await;

    // WHEN the same form posts another image while the photo waits for a reviewer
    let status = stack.upload_form(&form, grey_png(200), "image/png").await.expect("post");
    assert!(status.is_success(), "S3 takes the bytes (the form is still valid): {status}");
    wait_until_the_key_holds(&s3, &key, &astronaut()).await;

    // THEN the reviewer who claims it is shown the first photo, the one standardized
    let reviewer = stack.staff(&setup.operator, &["reviewer"], &[&setup.school_id]).await.expect("reviewer");
    let claims = format!("/v1/review/campaigns/{}/claims", setup.campaign_id);
    let claimed = stack.post(&claims, Some(&reviewer), &json!({})).await.expect("claim");
    assert_eq!(claimed.status, StatusCode::OK, "{}", claimed.body);
    let original = stack.download(claimed.body["photos"]["original_url"].as_str().expect("link")).await.expect("get");
    assert!(original == astronaut(), "the reviewer is shown the second write");
    assert_eq!(stack.stored_order_state(&no).await.expect("state"), "in_review");
    let causes = causes(&stack, &student, &no).await;
    assert_eq!(causes.iter().filter(|c| *c == "upload_received").count(), 1, "{causes:?}");
}
