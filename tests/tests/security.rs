//! What an attacker tried, kept from coming back (issue: close what an attacker found). Each
//! test names the finding it guards; they run against the local stack like the others.

use reqwest::StatusCode;
use serde_json::json;
use yunzhao_e2e::{SchoolSetup, Stack, astronaut, id_number, unique, unique_source};

async fn stack() -> Stack {
    Stack::from_env().await.expect("the local stack's environment (run `make test`)")
}

/// A plausible name of nobody on the roster, different for every `k` below 64.
fn wrong_name(k: usize) -> String {
    const A: [char; 8] = ['甲', '乙', '丙', '丁', '戊', '己', '庚', '辛'];
    format!("李{}{}", A[k % 8], A[(k / 8) % 8])
}

/// A campaign whose roster holds one person; their name and ID number.
async fn one_person(stack: &Stack) -> (SchoolSetup, &'static str, String) {
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let id = id_number(unique());
    // With the columns schools add that the service ignores (phone, mailing address): the log
    // scan after the run looks for them too.
    let phone = format!("139{:08}", unique() % 100_000_000);
    let roster = format!("姓名,身份证号,手机号,通讯地址\n张三,{id},{phone},北京市海淀区学院路{}号\n", unique() % 1000);
    let r = stack.import_roster(&setup.admin, &setup.campaign_id, roster.into_bytes()).await.expect("import");
    assert_eq!(r.body["report"]["created"], 1, "{}", r.body);
    (setup, "张三", id)
}

/// Forty wrong attempts of one account at once: the limit holds (5), none slips through.
#[tokio::test]
async fn concurrent_wrong_attempts_are_counted_before_the_lookup_and_cannot_pass_the_limit() {
    let stack = stack().await.from_source(unique_source()).expect("source");
    let (setup, _, id) = one_person(&stack).await;
    let student = stack.log_in(None).await.expect("student");
    let attempts = (0..40).map(|k| {
        let body = json!({"campaign_id": setup.campaign_id, "name": wrong_name(k), "id_number": id});
        let (stack, student) = (&stack, &student);
        async move { stack.post("/v1/identity/verify", Some(student), &body).await.expect("verify") }
    });
    let replies = futures::future::join_all(attempts).await;
    let count = |code: &str| replies.iter().filter(|r| r.error_code() == code).count();
    assert_eq!(
        (count("no_match"), count("too_many_attempts")),
        (5, 35),
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
}

/// ~24 fresh accounts guessing used to lock every honest student of the campaign out: the
/// limit is per account and per network source now, not per campaign.
#[tokio::test]
async fn strangers_guessing_cannot_lock_the_campaigns_students_out() {
    let base = stack().await;
    let (setup, name, id) = one_person(&base).await;
    let attacker = base.from_source(unique_source()).expect("source");
    let mut limited = 0;
    for _ in 0..25 {
        let account = attacker.log_in(None).await.expect("account");
        for k in 0..5 {
            let body = json!({"campaign_id": setup.campaign_id, "name": wrong_name(k), "id_number": id});
            let r = attacker.post("/v1/identity/verify", Some(&account), &body).await.expect("verify");
            limited += usize::from(r.error_code() == "too_many_attempts");
        }
    }
    assert_eq!(limited, 25, "one source gets 100 wrong attempts in ten minutes, then waits");
    let honest = base.from_source(unique_source()).expect("source");
    let student = honest.log_in(None).await.expect("student");
    let body = json!({"campaign_id": setup.campaign_id, "name": name, "id_number": id});
    let r = honest.post("/v1/identity/verify", Some(&student), &body).await.expect("verify");
    assert_eq!(r.status, StatusCode::OK, "the student is not locked out: {}", r.body);
}

/// `already_bound` told any account, without limit, that a guessed pair is real: it counts now.
#[tokio::test]
async fn already_bound_answers_count_against_the_limit() {
    let stack = stack().await.from_source(unique_source()).expect("source");
    let (setup, name, id) = one_person(&stack).await;
    let owner = stack.log_in(None).await.expect("owner");
    let body = json!({"campaign_id": setup.campaign_id, "name": name, "id_number": id});
    assert_eq!(stack.post("/v1/identity/verify", Some(&owner), &body).await.expect("verify").status, StatusCode::OK);
    let prober = stack.log_in(None).await.expect("prober");
    let mut codes = Vec::new();
    for _ in 0..6 {
        codes.push(
            stack.post("/v1/identity/verify", Some(&prober), &body).await.expect("verify").error_code().to_owned(),
        );
    }
    assert_eq!(codes[..5], ["already_bound"; 5]);
    assert_eq!(codes[5], "too_many_attempts");
    // The owner verifying again is never limited (successes are given back).
    for _ in 0..6 {
        assert_eq!(stack.post("/v1/identity/verify", Some(&owner), &body).await.expect("again").status, StatusCode::OK);
    }
}

/// A JSON type error used to echo the value (`invalid type: integer `1101…``) into the log.
#[tokio::test]
async fn a_refused_body_never_puts_its_values_in_the_log() {
    let stack = stack().await;
    let (setup, _, _) = one_person(&stack).await;
    let student = stack.log_in(None).await.expect("student");
    // An ID number ending in a digit, sent as a JSON number.
    let id = (0..).map(|_| id_number(unique())).find(|i| !i.ends_with('X')).expect("id");
    let raw: u64 = id.parse().expect("digits");
    let body = json!({"campaign_id": setup.campaign_id, "name": "张三", "id_number": raw});
    let r = stack.post("/v1/identity/verify", Some(&student), &body).await.expect("verify");
    assert_eq!((r.status, r.error_code()), (StatusCode::BAD_REQUEST, "invalid_request"), "{}", r.body);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let log = std::fs::read_to_string(&stack.functions_log).expect("functions log");
    assert!(log.contains("body wrong fields or types"), "the refusal is logged by its shape");
    assert!(!log.contains(&id), "the ID number reached the log");
}

/// Students saw staff members' user ids in their order's history: they see a role.
#[tokio::test]
async fn a_students_history_names_roles_never_staff_ids() {
    let stack = stack().await;
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let student = stack.verified_student(&setup).await.expect("student");
    let no = stack.paid_order(&student, &setup.campaign_id).await.expect("paid");
    stack.upload_photo(&student, &no, astronaut()).await.expect("upload");
    stack.submit_photo(&student, &no, 180).await.expect("in review");
    let reviewer = stack.staff(&setup.operator, &["reviewer"], &[&setup.school_id]).await.expect("reviewer");
    let claim = format!("/v1/review/campaigns/{}/claims", setup.campaign_id);
    let task = stack.post(&claim, Some(&reviewer), &json!({})).await.expect("claim");
    let decide = format!(
        "/v1/review/campaigns/{}/tasks/{}/decision",
        setup.campaign_id,
        task.body["task_id"].as_str().expect("task")
    );
    let r = stack
        .post(&decide, Some(&reviewer), &json!({"decision": "reject", "reasons": ["blurry"]}))
        .await
        .expect("decide");
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let history = stack.get(&format!("/v1/orders/{no}/history"), Some(&student)).await.expect("history");
    let by: Vec<&str> =
        history.body["history"].as_array().expect("history").iter().filter_map(|h| h["by"].as_str()).collect();
    assert!(by.contains(&"reviewer") && by.contains(&"student"), "{by:?}");
    assert!(!history.body.to_string().contains(&reviewer.user_id), "a staff id reached the student: {}", history.body);
}

/// A free campaign was accepted, and every order of it would fail at WeChat Pay (no 0 total).
#[tokio::test]
async fn a_campaign_of_price_zero_is_refused() {
    let stack = stack().await;
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let now = time::OffsetDateTime::now_utc().replace_nanosecond(0).expect("now");
    let fmt = |t: time::OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).expect("time");
    let body = json!({
        "school_id": setup.school_id, "name": "免费采集", "kind": "graduation", "preset": "chsi",
        "opens_at": fmt(now), "closes_at": fmt(now + time::Duration::days(7)), "price_fen": 0, "identity_mode": "name_id_number",
    });
    let r = stack.post("/v1/admin/campaigns", Some(&setup.admin), &body).await.expect("create");
    assert_eq!((r.status, r.error_code()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_campaign"), "{}", r.body);
    let edit = stack
        .call(
            reqwest::Method::PUT,
            &format!("/v1/admin/campaigns/{}", setup.campaign_id),
            Some(&setup.admin),
            Some(&body),
        )
        .await
        .expect("edit");
    assert_eq!(edit.error_code(), "invalid_campaign", "{}", edit.body);
}

/// A megabyte `campaign_id` reached DynamoDB and came back 503: every id and string is bounded
/// at the edge now, and what names nothing is "not found".
#[tokio::test]
async fn huge_or_strange_ids_and_strings_are_client_errors_not_outages() {
    let stack = stack().await;
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let student = stack.log_in(None).await.expect("student");
    let verify = |campaign_id: String| json!({"campaign_id": campaign_id, "name": "张三", "id_number": id_number(1)});
    let r = stack.post("/v1/identity/verify", Some(&student), &verify("c".repeat(1 << 20))).await.expect("call");
    assert_eq!((r.status, r.error_code()), (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"));
    let r = stack.post("/v1/identity/verify", Some(&student), &verify("c".repeat(5000))).await.expect("call");
    assert_eq!((r.status, r.error_code()), (StatusCode::BAD_REQUEST, "field_too_long"));
    // Under every field limit, but no id of ours (and over DynamoDB's key size in bytes).
    let r = stack.post("/v1/identity/verify", Some(&student), &verify("é".repeat(1000))).await.expect("call");
    assert_eq!((r.status, r.error_code()), (StatusCode::NOT_FOUND, "campaign_not_found"), "{}", r.body);
    let r = stack.post("/v1/orders", Some(&student), &json!({"campaign_id": "🎓".repeat(600)})).await.expect("call");
    assert!(r.status.is_client_error(), "{} {}", r.status, r.body);
    let long = "a".repeat(3000);
    let r = stack.get(&format!("/v1/admin/campaigns/{long}"), Some(&setup.admin)).await.expect("call");
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = stack.get(&format!("/v1/orders/{long}"), Some(&student)).await.expect("call");
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
}

/// Nine refunds of one order at once got 503 "WeChat Pay not answering": one asks, the others
/// are told it is in progress (or done), and the order is refunded once.
#[tokio::test]
async fn concurrent_refunds_of_one_order_are_one_refund_and_conflicts() {
    let stack = stack().await;
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let student = stack.verified_student(&setup).await.expect("student");
    let no = stack.paid_order(&student, &setup.campaign_id).await.expect("paid");
    let path = format!("/v1/orders/{no}/refund");
    let reason = json!({"reason": "学生重复缴费"});
    let calls = (0..9).map(|_| stack.post(&path, Some(&setup.operator), &reason));
    let replies: Vec<_> = futures::future::join_all(calls).await.into_iter().map(|r| r.expect("refund")).collect();
    let statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    assert!(
        !statuses.iter().any(|s| *s >= 500),
        "{statuses:?} {:?}",
        replies.iter().map(|r| r.body.clone()).collect::<Vec<_>>()
    );
    assert!(statuses.contains(&202), "{statuses:?}");
    for r in replies.iter().filter(|r| r.status == StatusCode::CONFLICT) {
        assert!(["refund_in_progress", "not_refundable"].contains(&r.error_code()), "{}", r.body);
    }
}

/// Export requests had no limit, each a full ZIP with a KMS decrypt per student.
#[tokio::test]
async fn exports_are_one_at_a_time_and_twenty_a_day_per_campaign() {
    let stack = stack().await;
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let path = format!("/v1/admin/campaigns/{}/exports", setup.campaign_id);
    // Eight at once (the check was read, then written): one builds at a time. An empty
    // campaign's export is quick, so a later request may start once it is built: each taken
    // request came after the archive of the one before it was written.
    let body = json!({});
    let replies = futures::future::join_all((0..8).map(|_| stack.post(&path, Some(&setup.admin), &body))).await;
    let replies: Vec<_> = replies.into_iter().map(|r| r.expect("export")).collect();
    let mut accepted: Vec<_> = replies.iter().filter(|r| r.status == StatusCode::ACCEPTED).collect();
    assert!(!accepted.is_empty() && accepted.len() < 8, "{:?}", replies.iter().map(|r| r.status).collect::<Vec<_>>());
    for r in replies.iter().filter(|r| r.status != StatusCode::ACCEPTED) {
        assert_eq!((r.status, r.error_code()), (StatusCode::CONFLICT, "export_in_progress"), "{}", r.body);
    }
    accepted.sort_by_key(|r| r.body["export"]["requested_at"].as_i64());
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
    let results = std::env::var("RESULTS_BUCKET_NAME").expect("results bucket");
    let mut built_at = None;
    for r in &accepted {
        let requested_at = r.body["export"]["requested_at"].as_i64().expect("requested_at");
        if let Some(before) = built_at {
            assert!(before <= requested_at, "an export was taken while the one before it was building");
        }
        let id = r.body["export"]["export_id"].as_str().expect("id");
        let ready = stack.wait_for_export(&setup.admin, &setup.campaign_id, id).await.expect("built");
        let key = ready["export"]["object_key"].as_str().expect("archive key");
        let head = s3.head_object().bucket(&results).key(key).send().await.expect("archive");
        built_at = head.last_modified().map(|t| t.secs() * 1000);
    }
    // Finished, the next may start at once.
    let next = stack.post(&path, Some(&setup.admin), &json!({})).await.expect("export");
    assert_eq!(next.status, StatusCode::ACCEPTED, "{}", next.body);
    let id = next.body["export"]["export_id"].as_str().expect("id");
    stack.wait_for_export(&setup.admin, &setup.campaign_id, id).await.expect("built");
    // As if eighteen more had been made today: the school's day, in Asia/Shanghai.
    let (day, shanghai) = (86_400, 8 * 3600);
    let window = (time::OffsetDateTime::now_utc().unix_timestamp() + shanghai).div_euclid(day) * day - shanghai;
    let twenty = json!({"count": 20});
    let counter = format!("RATE#export#{}", setup.campaign_id);
    stack.db().set(&counter, &format!("W#{window}"), twenty.as_object().expect("fields")).await.expect("counter");
    let r = stack.post(&path, Some(&setup.admin), &json!({})).await.expect("export");
    assert_eq!((r.status, r.error_code()), (StatusCode::TOO_MANY_REQUESTS, "too_many_exports"), "{}", r.body);
    assert!(r.headers.get("retry-after").is_some());
}

/// Unbinding left the student's unpaid order and prepay live: they could still pay and upload
/// a photo that could never be exported. The order is closed at WeChat Pay and cancelled with
/// the unbinding now, and uploads check the binding.
#[tokio::test]
async fn unbinding_closes_the_unpaid_order_and_uploads_need_the_binding() {
    let stack = stack().await;
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let student = stack.verified_student(&setup).await.expect("student");
    let no = stack.unpaid_order(&student, &setup.campaign_id).await.expect("order");
    assert_eq!(stack.wx_trade_state(&no).await.expect("trade"), "NOTPAY");

    let service = stack.staff(&setup.operator, &["customer_service"], &[]).await.expect("service");
    let path = format!("/v1/service/campaigns/{}/users/{}/unbind", setup.campaign_id, student.user_id);
    let r = stack.post(&path, Some(&service), &json!({})).await.expect("unbind");
    assert_eq!((r.status, r.body["cancelled_order"].clone()), (StatusCode::OK, json!(no)), "{}", r.body);
    assert_eq!(stack.wx_trade_state(&no).await.expect("trade"), "CLOSED", "the prepay can no longer be paid");
    let order = stack.get(&format!("/v1/orders/{no}"), Some(&student)).await.expect("order");
    assert_eq!(order.body["order"]["state"], "cancelled", "{}", order.body);
    let history = stack.get(&format!("/v1/orders/{no}/history"), Some(&student)).await.expect("history");
    assert!(history.body.to_string().contains("customer_service"), "{}", history.body);

    // A paid order whose binding is gone (as an old unbinding left it): no upload.
    let other = stack.verified_student(&setup).await.expect("student");
    let paid = stack.paid_order(&other, &setup.campaign_id).await.expect("paid");
    let (user, enrollment) = (format!("USER#{}", other.user_id), format!("ENROLL#{}", setup.campaign_id));
    stack.db().delete(&user, &enrollment).await.expect("unbind by hand");
    let r = stack.post(&format!("/v1/orders/{paid}/uploads"), Some(&other), &json!({})).await.expect("upload");
    assert_eq!((r.status, r.error_code()), (StatusCode::CONFLICT, "not_bound"), "{}", r.body);
}

/// Unbinding read the student's orders through the index by user, which lags the table: an
/// order created a moment before the unbinding was missed and stayed live. An order the index
/// does not have under the student yet (its index key moved elsewhere, as while the index
/// catches up) is still found and closed with the unbinding.
#[tokio::test]
async fn unbinding_finds_an_order_the_index_does_not_have_yet() {
    let stack = stack().await;
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let student = stack.verified_student(&setup).await.expect("student");
    let no = stack.unpaid_order(&student, &setup.campaign_id).await.expect("order");
    let elsewhere = json!({"GSI1PK": "USER#not-yet-indexed"});
    stack
        .db()
        .set(&format!("ORDER#{no}"), "ORDER", elsewhere.as_object().expect("fields"))
        .await
        .expect("out of the index");
    let service = stack.staff(&setup.operator, &["customer_service"], &[]).await.expect("service");
    let path = format!("/v1/service/campaigns/{}/users/{}/unbind", setup.campaign_id, student.user_id);
    let r = stack.post(&path, Some(&service), &json!({})).await.expect("unbind");
    assert_eq!((r.status, r.body["cancelled_order"].clone()), (StatusCode::OK, json!(no)), "{}", r.body);
    assert_eq!(stack.stored_order_state(&no).await.expect("state"), "cancelled");
    assert_eq!(stack.wx_trade_state(&no).await.expect("trade"), "CLOSED");
}

/// Any logged-in user got ID-card upload links for any campaign, and any bytes satisfied the
/// requirement: links only where the campaign asks (and is open), only for the student the
/// roster matched, and only images count.
#[tokio::test]
async fn id_card_photo_links_only_where_asked_for_the_matched_student_and_only_images_count() {
    let stack = stack().await;
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let student = stack.log_in(None).await.expect("student");
    let link = |cid: &str| json!({"campaign_id": cid, "side": "front"});
    let r = stack.post("/v1/identity/card-photos", Some(&student), &link(&setup.campaign_id)).await.expect("link");
    assert_eq!((r.status, r.error_code()), (StatusCode::CONFLICT, "card_photos_not_needed"), "{}", r.body);

    let now = time::OffsetDateTime::now_utc().replace_nanosecond(0).expect("now");
    let fmt = |t: time::OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).expect("time");
    let body = json!({"school_id": setup.school_id, "name": "需身份证照片", "kind": "graduation", "preset": "chsi",
        "opens_at": fmt(now - time::Duration::hours(1)), "closes_at": fmt(now + time::Duration::days(3)),
        "price_fen": 3000, "identity_mode": "name_id_number", "require_id_card_photos": true});
    let created = stack.post("/v1/admin/campaigns", Some(&setup.admin), &body).await.expect("campaign");
    let cid = created.body["campaign"]["id"].as_str().expect("id").to_owned();
    let id = id_number(unique());
    let roster = format!("姓名,身份证号\n张三,{id}\n");
    stack.import_roster(&setup.admin, &cid, roster.into_bytes()).await.expect("import");
    // A logged-in stranger (not on the roster, or not yet matched) gets no link.
    let stranger = stack.log_in(None).await.expect("stranger");
    let r = stack.post("/v1/identity/card-photos", Some(&stranger), &link(&cid)).await.expect("link");
    assert_eq!((r.status, r.error_code()), (StatusCode::CONFLICT, "verify_identity_first"), "{}", r.body);
    let claim = json!({"campaign_id": cid, "name": "张三", "id_number": id});
    let r = stack.post("/v1/identity/verify", Some(&student), &claim).await.expect("verify");
    assert_eq!(
        (r.status, r.body["binding_status"].as_str()),
        (StatusCode::OK, Some("card_photos_needed")),
        "{}",
        r.body
    );
    // 20 KB of text labelled as an image: S3's form accepts it, verification does not.
    let text = "这不是身份证照片。".repeat(800).into_bytes();
    for side in ["front", "back"] {
        let r =
            stack.post("/v1/identity/card-photos", Some(&student), &json!({"campaign_id": cid, "side": side})).await;
        let r = r.expect("link");
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let sent = stack.upload_form(&r.body["upload"], text.clone(), "image/jpeg").await.expect("post");
        assert!(sent.is_success(), "{sent}");
    }
    let r = stack.post("/v1/identity/verify", Some(&student), &claim).await.expect("verify");
    assert_eq!((r.status, r.error_code()), (StatusCode::BAD_REQUEST, "id_card_photo_not_an_image"), "{}", r.body);
    // Still pending: no order.
    let order = stack.post("/v1/orders", Some(&student), &json!({"campaign_id": cid})).await.expect("order");
    assert_eq!(
        (order.status, order.error_code()),
        (StatusCode::FORBIDDEN, "id_card_photos_required"),
        "{}",
        order.body
    );
}
