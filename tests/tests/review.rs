//! Review, retakes, export and the deadline, end to end: reviewers decide under a lease, the
//! student retakes for free after a rejection and can change nothing after an approval, the
//! school receives an archive it can check, and the deadline job closes campaigns once.

use std::io::Read;

use reqwest::StatusCode;
use serde_json::{Value, json};
use yunzhao_e2e::{Session, Stack, astronaut};

async fn stack() -> Stack {
    Stack::from_env().await.expect("the local stack's environment (run `make test`)")
}

fn approve() -> Value {
    json!({"decision": "approve"})
}

fn unzip(bytes: Vec<u8>) -> zip::ZipArchive<std::io::Cursor<Vec<u8>>> {
    zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a ZIP archive")
}

fn read(zip: &mut zip::ZipArchive<std::io::Cursor<Vec<u8>>>, name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    zip.by_name(name).unwrap_or_else(|_| panic!("{name} in the archive")).read_to_end(&mut out).expect("read");
    out
}

async fn in_review(stack: &Stack, student: &Session, campaign_id: &str) -> String {
    let no = stack.paid_order(student, campaign_id).await.expect("paid order");
    stack.upload_photo(student, &no, astronaut()).await.expect("upload");
    stack.submit_photo(student, &no, 90).await.expect("in review");
    no
}

#[tokio::test]
async fn the_whole_journey_ends_in_an_exported_archive_the_school_can_check() {
    let stack = stack().await;
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let reviewer = stack.staff(&setup.operator, &["reviewer"], &[&setup.school_id]).await.expect("reviewer");
    let (students, never_verified) = stack.roster_students(&setup, 3, 2).await.expect("roster");
    let (done, unpaid) = (&students[0], &students[1]);
    let no = in_review(&stack, &done.session, &setup.campaign_id).await;
    stack.post("/v1/orders", Some(&unpaid.session), &json!({"campaign_id": setup.campaign_id})).await.expect("order");

    let decided = stack.review_next(&reviewer, &setup.campaign_id, &approve()).await.expect("review");
    assert_eq!(
        (decided.status, decided.body["state"].as_str()),
        (StatusCode::OK, Some("approved")),
        "{}",
        decided.body
    );
    let shown = stack.wait_for_state(&done.session, &no, "approved", 5).await.expect("approved");
    assert!(shown["order"]["approved_at"].is_string(), "{shown}");

    let export = stack.export(&setup.admin, &setup.campaign_id, false).await.expect("export");
    assert_eq!((export["export"]["photos"].as_u64(), export["export"]["missing"].as_u64()), (Some(1), Some(2)));
    let bytes = stack.download(export["download_url"].as_str().expect("link")).await.expect("download");
    let mut zip = unzip(bytes.clone());
    let names: Vec<String> = zip.file_names().map(|n| n.expect("entry name").into_owned()).collect();
    let photo_name = format!("photos/{}.jpg", done.id_number);
    assert_eq!(
        names,
        vec!["manifest.csv".to_owned(), "missing.csv".into(), photo_name.clone()],
        "named by ID number (CHSI)"
    );
    let jpeg = read(&mut zip, &photo_name);
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8], "a JPEG");
    assert!((20 * 1024..=40 * 1024).contains(&jpeg.len()), "the standard photo in the CHSI KB range: {}", jpeg.len());
    let manifest = String::from_utf8(read(&mut zip, "manifest.csv")).expect("UTF-8");
    assert!(manifest.starts_with('\u{FEFF}'), "with a BOM for Excel");
    let lines: Vec<&str> = manifest.trim_start_matches('\u{FEFF}').lines().collect();
    assert_eq!(lines.len(), 2, "{manifest}");
    assert!(lines[1].starts_with(&format!("{}.jpg,{},{},", done.id_number, done.name, done.id_number)), "{}", lines[1]);
    let missing = String::from_utf8(read(&mut zip, "missing.csv")).expect("UTF-8");
    assert!(
        missing.contains(&format!("{},{}", unpaid.name, unpaid.id_number)) && missing.contains("未付款"),
        "{missing}"
    );
    let (name, id) = &never_verified[0];
    assert!(missing.contains(&format!("{name},{id}")) && missing.contains("未验证身份"), "{missing}");

    // Run again, the same archive; an incremental export after it has nothing new.
    let again = stack.export(&setup.admin, &setup.campaign_id, false).await.expect("export again");
    assert_eq!(again["export"]["sha256"], export["export"]["sha256"]);
    let again_bytes = stack.download(again["download_url"].as_str().expect("link")).await.expect("download");
    assert_eq!(again_bytes, bytes, "the same archive, byte for byte");
    let incremental = stack.export(&setup.admin, &setup.campaign_id, true).await.expect("incremental");
    assert_eq!(incremental["export"]["photos"], 0, "{incremental}");

    // Every link to the archive (it holds the ID numbers) is on the record, with who got it.
    let audit = stack.db().query(&format!("CAMPAIGN#{}", setup.campaign_id), "AUDIT#").await.expect("audit");
    let by_admin = audit.iter().filter(|i| i["actor"] == setup.admin.user_id.as_str()).count();
    assert!(by_admin >= 3, "three exports looked at by the admin, {by_admin} links recorded");

    // Another school's admin cannot see or ask for it.
    let other = stack.school_with_campaign("name_id_number").await.expect("other school");
    let peek = stack
        .get(&format!("/v1/admin/campaigns/{}/exports", setup.campaign_id), Some(&other.admin))
        .await
        .expect("call");
    assert_eq!(peek.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_rejected_photo_is_retaken_free_and_approved_and_then_nothing_changes() {
    let stack = stack().await;
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let reviewer = stack.staff(&setup.operator, &["reviewer"], &[&setup.school_id]).await.expect("reviewer");
    let (students, others) = stack.roster_students(&setup, 2, 1).await.expect("roster");
    let student = &students[0].session;
    let no = in_review(&stack, student, &setup.campaign_id).await;

    let bad = json!({"decision": "reject", "reasons": ["blurry", "not_a_code"]});
    let refused = stack.review_next(&reviewer, &setup.campaign_id, &bad).await.expect("call");
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "an unknown reason code: {}", refused.body);
    let reject = json!({"decision": "reject", "reasons": ["uneven_lighting"], "note": "请到光线均匀处重拍"});
    let rejected = stack.review_next(&reviewer, &setup.campaign_id, &reject).await.expect("call");
    assert_eq!(rejected.body["state"], "rejected", "{}", rejected.body);
    let shown = stack.wait_for_state(student, &no, "rejected", 5).await.expect("rejected");
    assert_eq!(shown["order"]["retake_reasons"][0]["code"], "uneven_lighting");
    assert_eq!(shown["order"]["review_note"], "请到光线均匀处重拍");

    // The retake is a new attempt of the same order: no new payment.
    stack.upload_photo(student, &no, astronaut()).await.expect("retake");
    stack.submit_photo(student, &no, 90).await.expect("in review again");
    let approved = stack.review_next(&reviewer, &setup.campaign_id, &approve()).await.expect("approve");
    assert_eq!(approved.body["state"], "approved");
    let history = stack.get(&format!("/v1/orders/{no}/history"), Some(student)).await.expect("history");
    let states: Vec<&str> =
        history.body["history"].as_array().expect("history").iter().filter_map(|h| h["state"].as_str()).collect();
    assert_eq!(states.iter().filter(|s| **s == "paid").count(), 1, "paid once: {states:?}");
    assert_eq!(stack.order_items(&no, "PAYMENT#").await.expect("payments").len(), 1);

    // Approved is final: no upload, no new order, no second identity, no refund by the student.
    let upload = stack.post(&format!("/v1/orders/{no}/uploads"), Some(student), &json!({})).await.expect("call");
    assert_eq!((upload.status, upload.error_code()), (StatusCode::CONFLICT, "upload_not_allowed"));
    let order =
        stack.post("/v1/orders", Some(student), &json!({"campaign_id": setup.campaign_id})).await.expect("call");
    assert_eq!(order.body["order"]["order_id"], no.as_str(), "the same, approved order");
    let refund = stack
        .post(&format!("/v1/orders/{no}/refund"), Some(student), &json!({"reason": "不想要了"}))
        .await
        .expect("call");
    assert_eq!((refund.status, refund.error_code()), (StatusCode::UNAUTHORIZED, "not_signed_in"));
    let (name, id) = &others[0];
    let another = json!({"campaign_id": setup.campaign_id, "name": name, "id_number": id});
    let verify = stack.post("/v1/identity/verify", Some(student), &another).await.expect("call");
    assert_eq!(verify.status, StatusCode::CONFLICT, "identity is settled: {}", verify.body);
    let unbind = format!("/v1/service/campaigns/{}/users/{}/unbind", setup.campaign_id, student.user_id);
    let unbound = stack.post(&unbind, Some(&setup.operator), &json!({})).await.expect("call");
    assert_eq!(unbound.error_code(), "order_paid", "not even customer service unbinds a paid student");
}

#[tokio::test]
async fn a_claimed_task_is_hidden_from_others_until_its_lease_ends_and_is_decided_once() {
    let stack = stack().await;
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let (first, second) = (
        stack.staff(&setup.operator, &["reviewer"], &[&setup.school_id]).await.expect("reviewer"),
        stack.staff(&setup.operator, &["reviewer"], &[&setup.school_id]).await.expect("reviewer"),
    );
    let (students, _) = stack.roster_students(&setup, 1, 1).await.expect("roster");
    let no = in_review(&stack, &students[0].session, &setup.campaign_id).await;
    let claims = format!("/v1/review/campaigns/{}/claims", setup.campaign_id);

    let held = stack.post(&claims, Some(&first), &json!({})).await.expect("claim");
    assert_eq!(held.status, StatusCode::OK, "{}", held.body);
    assert_eq!(held.body["order_id"], no.as_str());
    assert!(held.body["photos"]["original_url"].is_string() && held.body["report"]["passed"] == true);
    let task = held.body["task_id"].as_str().expect("task").to_owned();
    let queue =
        stack.get(&format!("/v1/review/campaigns/{}/queue", setup.campaign_id), Some(&first)).await.expect("queue");
    assert_eq!((queue.body["waiting"].as_u64(), queue.body["claimed"].as_u64()), (Some(0), Some(1)), "{}", queue.body);
    assert!(queue.body["oldest_age_seconds"].as_u64().is_some());
    let all = stack.get("/v1/review/queues", Some(&second)).await.expect("overview");
    let this = all.body["queues"]
        .as_array()
        .expect("queues")
        .iter()
        .find(|q| q["campaign_id"] == setup.campaign_id.as_str())
        .cloned();
    assert_eq!(this.map(|q| q["claimed"].clone()), Some(json!(1)), "the overview lists the campaign: {}", all.body);

    let hidden = stack.post(&claims, Some(&second), &json!({})).await.expect("claim");
    assert_eq!((hidden.status, hidden.error_code()), (StatusCode::NOT_FOUND, "queue_empty"));
    let decide = format!("/v1/review/campaigns/{}/tasks/{task}/decision", setup.campaign_id);
    let theirs = stack.post(&decide, Some(&second), &approve()).await.expect("call");
    assert_eq!((theirs.status, theirs.error_code()), (StatusCode::CONFLICT, "task_not_held"));
    let look = stack
        .get(&format!("/v1/review/campaigns/{}/tasks/{task}", setup.campaign_id), Some(&second))
        .await
        .expect("call");
    assert_eq!(look.status, StatusCode::CONFLICT, "no peeking at a held task");

    // The lease (20 s locally) ends: the task goes to whoever claims next; the first lost it.
    tokio::time::sleep(std::time::Duration::from_secs(21)).await;
    let taken = stack.post(&claims, Some(&second), &json!({})).await.expect("claim");
    assert_eq!(taken.body["task_id"], task.as_str(), "{}", taken.body);
    let late = stack.post(&decide, Some(&first), &approve()).await.expect("call");
    assert_eq!(late.error_code(), "task_not_held");
    let decided = stack.post(&decide, Some(&second), &approve()).await.expect("call");
    assert_eq!(decided.status, StatusCode::OK, "{}", decided.body);
    let twice =
        stack.post(&decide, Some(&second), &json!({"decision": "reject", "reasons": ["blurry"]})).await.expect("call");
    assert_eq!((twice.status, twice.error_code()), (StatusCode::CONFLICT, "task_not_held"));
    assert_eq!(stack.stored_order_state(&no).await.expect("state"), "approved");

    // Every look at the photos was audited, with who looked; a student cannot review.
    let audit = stack.order_items(&no, "AUDIT#").await.expect("audit");
    let actors: Vec<String> = audit.iter().filter_map(|a| a["actor"].as_str().map(str::to_owned)).collect();
    assert!(actors.contains(&first.user_id) && actors.contains(&second.user_id), "{actors:?}");
    let student = stack.post(&claims, Some(&students[0].session), &json!({})).await.expect("call");
    assert_eq!((student.status, student.error_code()), (StatusCode::UNAUTHORIZED, "not_signed_in"));
}

#[tokio::test]
async fn the_deadline_job_closes_on_time_once_and_uploads_stop_but_work_in_hand_finishes() {
    let stack = stack().await;
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let reviewer = stack.staff(&setup.operator, &["reviewer"], &[&setup.school_id]).await.expect("reviewer");
    // A campaign closing in ten minutes, with the school's roster.
    let now = time::OffsetDateTime::now_utc().replace_nanosecond(0).expect("now");
    let fmt = |t: time::OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).expect("format");
    let closes = now + time::Duration::minutes(10);
    let cid = stack
        .campaign_with_window(&setup.admin, &setup.school_id, &fmt(now - time::Duration::hours(1)), &fmt(closes))
        .await
        .expect("campaign");
    let setup = yunzhao_e2e::SchoolSetup { campaign_id: cid.clone(), ..setup };
    let (students, _) = stack.roster_students(&setup, 3, 3).await.expect("roster");
    let (reviewed, unpaid, paid) = (&students[0].session, &students[1].session, &students[2].session);
    let in_hand = in_review(&stack, reviewed, &cid).await;
    let created = stack.post("/v1/orders", Some(unpaid), &json!({"campaign_id": cid})).await.expect("order");
    let unpaid_no = created.body["order"]["order_id"].as_str().expect("no").to_owned();
    let paid_no = stack.paid_order(paid, &cid).await.expect("paid");

    // One minute before the close: nothing happens.
    stack.run_deadline_job(closes - time::Duration::minutes(1)).await.expect("job");
    assert_eq!(stack.stored_order_state(&unpaid_no).await.expect("state"), "created");
    let campaign = stack.get(&format!("/v1/admin/campaigns/{cid}"), Some(&setup.admin)).await.expect("campaign");
    assert_eq!(campaign.body["campaign"]["status"], "open", "{}", campaign.body);

    // One minute after: closed, the unpaid order cancelled here and closed at WeChat Pay.
    let ran = stack.run_deadline_job(closes + time::Duration::minutes(1)).await.expect("job");
    assert!(ran["closed"].as_array().expect("closed").iter().any(|c| c["campaign_id"] == cid.as_str()), "{ran}");
    assert_eq!(stack.stored_order_state(&unpaid_no).await.expect("state"), "cancelled");
    assert_eq!(stack.wx_trade_state(&unpaid_no).await.expect("trade"), "CLOSED");
    assert_eq!(stack.stored_order_state(&paid_no).await.expect("state"), "paid", "paid orders stay");
    let campaign = stack.get(&format!("/v1/admin/campaigns/{cid}"), Some(&setup.admin)).await.expect("campaign");
    assert_eq!(campaign.body["campaign"]["status"], "closed", "{}", campaign.body);
    let final_export = stack.wait_for_export(&setup.admin, &cid, "final").await.expect("final export");
    assert_eq!(final_export["export"]["missing"], 3, "{final_export}");

    // Run again: nothing changes.
    let stack = &stack;
    let items = |no: String| async move { stack.order_items(&no, "HIST#").await.expect("history").len() };
    let before = (items(unpaid_no.clone()).await, items(paid_no.clone()).await, items(in_hand.clone()).await);
    let second = stack.run_deadline_job(closes + time::Duration::minutes(2)).await.expect("job");
    assert_eq!(second["closed"], json!([]), "{second}");
    let after = (items(unpaid_no.clone()).await, items(paid_no.clone()).await, items(in_hand.clone()).await);
    assert_eq!(before, after);

    // After the close: no upload, no order. The photo already in review is still decided.
    let upload = stack.post(&format!("/v1/orders/{paid_no}/uploads"), Some(paid), &json!({})).await.expect("call");
    assert_eq!(upload.status, StatusCode::CONFLICT, "{}", upload.body);
    let late = stack.post("/v1/orders", Some(unpaid), &json!({"campaign_id": cid})).await.expect("call");
    assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.body);
    let decided = stack.review_next(&reviewer, &cid, &approve()).await.expect("review");
    assert_eq!(decided.body["state"], "approved", "{}", decided.body);
    // A closed campaign's settings are final (moving the deadline would not reopen it).
    let reopen = json!({"name": "窗口测试", "kind": "graduation", "preset": "chsi", "opens_at": fmt(now), "closes_at": fmt(now + time::Duration::days(30)), "price_fen": 3000, "identity_mode": "name_id_number"});
    let edit = stack
        .call(reqwest::Method::PUT, &format!("/v1/admin/campaigns/{cid}"), Some(&setup.admin), Some(&reopen))
        .await
        .expect("call");
    assert_eq!((edit.status, edit.error_code()), (StatusCode::CONFLICT, "campaign_closed"), "{}", edit.body);
}

#[tokio::test]
async fn customer_service_looks_up_sends_back_and_unbinds() {
    let stack = stack().await;
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let (students, _) = stack.roster_students(&setup, 2, 2).await.expect("roster");
    let (student, wrong) = (&students[0], &students[1]);
    let no = in_review(&stack, &student.session, &setup.campaign_id).await;
    let op = &setup.operator;

    let looked = stack.get(&format!("/v1/service/orders/{no}"), Some(op)).await.expect("call");
    assert_eq!(looked.status, StatusCode::OK, "{}", looked.body);
    let causes: Vec<&str> =
        looked.body["history"].as_array().expect("history").iter().filter_map(|h| h["cause"].as_str()).collect();
    assert_eq!(causes, vec!["created", "payment_notification", "upload_received", "checks_passed", "submitted"]);
    assert!(
        looked.body["audit"]
            .as_array()
            .expect("audit")
            .iter()
            .any(|a| a["action"] == "looked_up" && a["actor"] == op.user_id.as_str())
    );
    let theirs =
        stack.get(&format!("/v1/service/users/{}/orders", student.session.user_id), Some(op)).await.expect("call");
    assert_eq!(theirs.body["orders"][0]["order_id"], no.as_str());
    let not_staff = stack.get(&format!("/v1/service/orders/{no}"), Some(&student.session)).await.expect("call");
    assert_eq!((not_staff.status, not_staff.error_code()), (StatusCode::UNAUTHORIZED, "not_signed_in"));

    let back = json!({"reasons": ["clothing_matches_background"], "note": "学校要求深色上衣，请更换后重拍"});
    let sent = stack.post(&format!("/v1/service/orders/{no}/send-back"), Some(op), &back).await.expect("call");
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    let shown = stack.wait_for_state(&student.session, &no, "rejected", 5).await.expect("rejected");
    assert_eq!(shown["order"]["review_note"], "学校要求深色上衣，请更换后重拍");
    let queue = stack.get(&format!("/v1/review/campaigns/{}/queue", setup.campaign_id), Some(op)).await.expect("queue");
    assert_eq!(
        (queue.body["waiting"].as_u64(), queue.body["claimed"].as_u64()),
        (Some(0), Some(0)),
        "the task is withdrawn"
    );
    let twice = stack.post(&format!("/v1/service/orders/{no}/send-back"), Some(op), &back).await.expect("call");
    assert_eq!(twice.error_code(), "not_in_review");

    // Unbinding: refused once paid; before payment the entry is free for the right person.
    let paid = stack
        .post(
            &format!("/v1/service/campaigns/{}/users/{}/unbind", setup.campaign_id, student.session.user_id),
            Some(op),
            &json!({}),
        )
        .await
        .expect("call");
    assert_eq!((paid.status, paid.error_code()), (StatusCode::CONFLICT, "order_paid"));
    let unbound = stack
        .post(
            &format!("/v1/service/campaigns/{}/users/{}/unbind", setup.campaign_id, wrong.session.user_id),
            Some(op),
            &json!({}),
        )
        .await
        .expect("call");
    assert_eq!(unbound.status, StatusCode::OK, "{}", unbound.body);
    let right = stack.log_in(None).await.expect("the right person");
    let body = json!({"campaign_id": setup.campaign_id, "name": wrong.name, "id_number": wrong.id_number});
    let verified = stack.post("/v1/identity/verify", Some(&right), &body).await.expect("call");
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.body);
}

#[tokio::test]
async fn an_order_refunded_while_in_review_leaves_the_queue() {
    let stack = stack().await;
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let reviewer = stack.staff(&setup.operator, &["reviewer"], &[&setup.school_id]).await.expect("reviewer");
    let (students, _) = stack.roster_students(&setup, 1, 1).await.expect("roster");
    let no = in_review(&stack, &students[0].session, &setup.campaign_id).await;
    let refund = stack
        .post(&format!("/v1/orders/{no}/refund"), Some(&setup.operator), &json!({"reason": "学生重复缴费"}))
        .await
        .expect("call");
    assert!(refund.status.is_success(), "{}", refund.body);
    // WeChat Pay confirms the refund by notification.
    let mut state = String::new();
    for _ in 0..40 {
        state = stack.stored_order_state(&no).await.expect("state");
        if state == "refunded" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert_eq!(state, "refunded");
    let decided = stack.review_next(&reviewer, &setup.campaign_id, &approve()).await.expect("call");
    assert_eq!((decided.status, decided.error_code()), (StatusCode::CONFLICT, "task_withdrawn"), "{}", decided.body);
    assert_eq!(stack.stored_order_state(&no).await.expect("state"), "refunded", "a refunded order is never approved");
    let queue =
        stack.get(&format!("/v1/review/campaigns/{}/queue", setup.campaign_id), Some(&reviewer)).await.expect("queue");
    assert_eq!((queue.body["waiting"].as_u64(), queue.body["claimed"].as_u64()), (Some(0), Some(0)), "{}", queue.body);
}

/// 撤回审核: where the campaign allows it, a student takes a submitted photo back while no
/// reviewer holds it (its task goes with it), and submits it again; never while a reviewer
/// holds it, never after approval, and not at all where the campaign does not allow it.
#[tokio::test]
async fn a_student_withdraws_a_photo_from_review_only_while_nobody_holds_it_and_where_allowed() {
    let stack = stack().await;
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let reviewer = stack.staff(&setup.operator, &["reviewer"], &[&setup.school_id]).await.expect("reviewer");
    let student = stack.verified_student(&setup).await.expect("student");
    let no = in_review(&stack, &student, &setup.campaign_id).await;
    let withdraw = format!("/v1/orders/{no}/withdraw");
    let code = |r: &yunzhao_e2e::Reply| (r.status, r.error_code().to_owned());

    // The campaign as created sends students to customer service.
    let r = stack.post(&withdraw, Some(&student), &json!({})).await.expect("call");
    assert_eq!(code(&r), (StatusCode::CONFLICT, "withdraw_not_allowed".to_owned()), "{}", r.body);

    // Its admin allows withdrawing.
    let saved = stack.update_campaign(&setup, json!({"allow_withdraw": true})).await.expect("update");
    assert_eq!(saved["allow_withdraw"], true, "{saved}");

    // Nobody holds it: back with the student, its task gone; submitted again, queued again.
    let r = stack.post(&withdraw, Some(&student), &json!({})).await.expect("call");
    assert_eq!((r.status, &r.body["order"]["state"]), (StatusCode::OK, &json!("standardized")), "{}", r.body);
    let tasks = || async {
        let all = stack.db().query(&format!("REVIEWQ#{}", setup.campaign_id), "TASK#").await.expect("tasks");
        all.iter().filter(|t| t["out_trade_no"] == no.as_str()).count()
    };
    assert_eq!(tasks().await, 0, "the task went with the withdrawal");
    stack.submit_photo(&student, &no, 5).await.expect("submitted again");
    assert_eq!(tasks().await, 1);

    // A reviewer holds it: not withdrawn.
    let claims = format!("/v1/review/campaigns/{}/claims", setup.campaign_id);
    let claimed = stack.post(&claims, Some(&reviewer), &json!({})).await.expect("claim");
    assert_eq!(claimed.status, StatusCode::OK, "{}", claimed.body);
    let r = stack.post(&withdraw, Some(&student), &json!({})).await.expect("call");
    assert_eq!(code(&r), (StatusCode::CONFLICT, "photo_being_reviewed".to_owned()), "{}", r.body);
    assert_eq!(stack.stored_order_state(&no).await.expect("state"), "in_review");

    // Approved: final.
    let task = claimed.body["task_id"].as_str().expect("task");
    let decide = format!("/v1/review/campaigns/{}/tasks/{task}/decision", setup.campaign_id);
    let r = stack.post(&decide, Some(&reviewer), &approve()).await.expect("decide");
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = stack.post(&withdraw, Some(&student), &json!({})).await.expect("call");
    assert_eq!(code(&r), (StatusCode::CONFLICT, "not_in_review".to_owned()), "{}", r.body);
    assert_eq!(stack.stored_order_state(&no).await.expect("state"), "approved");
}
