//! Campaigns, roster imports and identity verification end to end, as school admins and
//! students use them through the HTTP API. Each test makes its own schools and people.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use yunzhao_e2e::{Session, Stack, id_number, unique};

async fn stack() -> Stack {
    Stack::from_env().await.expect("the local stack's environment (run `make test`)")
}

/// An operator, a school with an admin, and an open campaign in `mode`.
struct School {
    operator: Session,
    admin: Session,
    school_id: String,
    campaign_id: String,
}

async fn school(stack: &Stack, mode: &str) -> School {
    let operator = stack.bootstrap_operator().await.expect("operator");
    let school_id = stack.create_school(&operator, "测试大学").await.expect("school");
    let admin = stack.school_admin(&operator, &school_id).await.expect("admin");
    let campaign_id = stack.open_campaign(&admin, &school_id, mode).await.expect("campaign");
    School { operator, admin, school_id, campaign_id }
}

fn csv(lines: &[String]) -> Vec<u8> {
    format!("\u{feff}{}\n", lines.join("\n")).into_bytes()
}

fn error_lines(reply: &Value) -> Vec<(u64, String)> {
    reply["report"]["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| (e["line"].as_u64().expect("line"), e["code"].as_str().expect("code").to_owned()))
        .collect()
}

async fn verify(stack: &Stack, student: &Session, body: Value) -> yunzhao_e2e::Reply {
    stack.post("/v1/identity/verify", Some(student), &body).await.expect("call")
}

fn full_ids_in_logs(stack: &Stack, ids: &[&str]) -> Vec<String> {
    let logs = std::fs::read_to_string(&stack.functions_log).expect("functions log");
    ids.iter().filter(|id| logs.contains(*id)).map(|id| id.to_string()).collect()
}

#[tokio::test]
async fn csv_roster_imports_good_rows_names_bad_lines_and_reimports_idempotently() {
    let stack = stack().await;
    let s = school(&stack, "name_id_number").await;
    let n = unique();
    let (a, b, c) = (id_number(n), id_number(n + 1), id_number(n + 2));
    let mut bad_checksum = id_number(n + 3);
    bad_checksum.replace_range(17..18, if bad_checksum.ends_with('0') { "1" } else { "0" });
    let mut lines = vec![
        "姓名,身份证号,学号,院系".to_owned(),
        format!("张三,{a},2022001,计算机学院"),
        format!("李四,{bad_checksum},2022002,计算机学院"),
        format!(",{b},2022003,计算机学院"),
        format!("王五,{b},2022004,数学学院"),
        format!("赵六,{b},2022005,数学学院"),
        format!("孙七,{},2022006,物理学院", c.to_lowercase()),
    ];
    let reply = stack.import_roster(&s.admin, &s.campaign_id, csv(&lines)).await.expect("import");
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["report"]["created"], 3, "{}", reply.body);
    assert_eq!(
        error_lines(&reply.body),
        vec![(3, "invalid_id_number".into()), (4, "invalid_name".into()), (6, "duplicate_id_number".into())]
    );

    // The same file again changes nothing; a corrected row updates its entry.
    let again = stack.import_roster(&s.admin, &s.campaign_id, csv(&lines)).await.expect("import");
    assert_eq!(
        (again.body["report"]["created"].as_u64(), again.body["report"]["unchanged"].as_u64()),
        (Some(0), Some(3))
    );
    lines[4] = format!("王五,{b},2022004,统计学院");
    let changed = stack.import_roster(&s.admin, &s.campaign_id, csv(&lines)).await.expect("import");
    assert_eq!(
        (
            changed.body["report"]["created"].as_u64(),
            changed.body["report"]["updated"].as_u64(),
            changed.body["report"]["unchanged"].as_u64()
        ),
        (Some(0), Some(1), Some(2))
    );

    let campaign = stack.get(&format!("/v1/admin/campaigns/{}", s.campaign_id), Some(&s.admin)).await.expect("call");
    assert_eq!(campaign.body["progress"]["enrolled"], 3, "{}", campaign.body);

    // Stored sealed and masked: no item of the campaign holds a full ID number.
    let items = stack.db().query(&format!("CAMPAIGN#{}", s.campaign_id), "").await.expect("query");
    let dump = format!("{items:?}");
    assert!(dump.contains("roster_entry") && dump.contains("id_sealed"), "entries not found");
    for id in [&a, &b, &c] {
        assert!(!dump.contains(id.as_str()), "a full ID number is stored in clear");
        assert!(dump.contains(&format!("{}**********{}", &id[..4], &id[14..])), "masked ID missing");
    }
    assert!(full_ids_in_logs(&stack, &[&a, &b, &c, &bad_checksum]).is_empty(), "full ID numbers in the logs");

    // The sealed value opens, with the entry's own key as context, to the ID number.
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let envelope = yunzhao_adapters::crypto::Envelope::new(
        aws_sdk_kms::Client::new(&sdk),
        std::env::var("DATA_KEY_ID").expect("key"),
    );
    let mut opened = Vec::new();
    for item in items.iter().filter(|i| i["entity"] == "roster_entry") {
        let text = |k: &str| item[k].as_str().expect("attribute").to_owned();
        let context = format!("{}|{}", text("PK"), text("SK"));
        opened
            .push(String::from_utf8(envelope.open(&text("id_sealed"), &context).await.expect("opens")).expect("utf8"));
    }
    opened.sort();
    let mut expected = vec![a.clone(), b.clone(), c.clone()];
    expected.sort();
    assert_eq!(opened, expected);
}

#[tokio::test]
async fn xlsx_roster_imports_with_a_report_of_bad_lines() {
    let stack = stack().await;
    let s = school(&stack, "collection_code").await;
    let n = unique();
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let rows: Vec<Vec<String>> = vec![
        vec!["姓名".into(), "身份证号".into(), "图像采集码".into()],
        vec!["张三".into(), id_number(n), format!("A{n}")],
        vec!["李四".into(), id_number(n + 1), String::new()],
        vec!["王五".into(), "123".into(), format!("B{n}")],
        vec!["赵六".into(), id_number(n + 3), format!("C{n}")],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            sheet.write_string(r as u32, c as u16, cell).expect("cell");
        }
    }
    let reply =
        stack.import_roster(&s.admin, &s.campaign_id, book.save_to_buffer().expect("xlsx")).await.expect("import");
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["report"]["created"], 2);
    assert_eq!(error_lines(&reply.body), vec![(3, "missing_collection_code".into()), (4, "invalid_id_number".into())]);

    let garbage =
        stack.import_roster(&s.admin, &s.campaign_id, b"PK\x03\x04 not a workbook".to_vec()).await.expect("import");
    assert_eq!((garbage.status, garbage.error_code()), (StatusCode::UNPROCESSABLE_ENTITY, "unreadable_roster"));
}

#[tokio::test]
async fn name_and_id_number_verification_binds_and_lists_the_campaign() {
    let stack = stack().await;
    let s = school(&stack, "name_id_number").await;
    let id = id_number(unique());
    let roster = csv(&["姓名,身份证号,学号".into(), format!("张三,{id},2022001")]);
    stack.import_roster(&s.admin, &s.campaign_id, roster).await.expect("import");
    let student = stack.log_in(None).await.expect("student");

    let wrong_name =
        verify(&stack, &student, json!({"campaign_id": s.campaign_id, "name": "张四", "id_number": id})).await;
    let other = id_number(unique() + 7);
    let wrong_id =
        verify(&stack, &student, json!({"campaign_id": s.campaign_id, "name": "张三", "id_number": other})).await;
    assert_eq!((wrong_name.status, wrong_name.error_code()), (StatusCode::NOT_FOUND, "no_match"));
    assert_eq!(
        wrong_name.body["error"]["message"], wrong_id.body["error"]["message"],
        "failures must not say which field was wrong"
    );

    let ok = verify(
        &stack,
        &student,
        json!({"campaign_id": s.campaign_id, "name": " 张三", "id_number": id.to_lowercase()}),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.body["entry"]["id_number"], format!("{}**********{}", &id[..4], &id[14..]));
    assert!(!ok.body.to_string().contains(&id));
    let repeat = verify(&stack, &student, json!({"campaign_id": s.campaign_id, "name": "张三", "id_number": id})).await;
    assert_eq!(repeat.status, StatusCode::OK, "verifying again is harmless");

    let listed = stack.get("/v1/campaigns", Some(&student)).await.expect("call");
    let campaigns = listed.body["campaigns"].as_array().expect("campaigns");
    let mine = campaigns.iter().find(|c| c["id"] == s.campaign_id.as_str()).expect("verified campaign listed");
    assert_eq!(
        (mine["verified"].as_bool(), mine["status"].as_str(), mine["price_fen"].as_u64()),
        (Some(true), Some("open"), Some(3000))
    );
    let progress = stack.get(&format!("/v1/admin/campaigns/{}", s.campaign_id), Some(&s.admin)).await.expect("call");
    assert_eq!(progress.body["progress"]["verified"], 1, "verifying twice counts once");
    assert!(full_ids_in_logs(&stack, &[&id, &other]).is_empty(), "full ID numbers in the logs");
}

#[tokio::test]
async fn exam_number_verification_uses_student_number_and_id_last4() {
    let stack = stack().await;
    let s = school(&stack, "exam_number").await;
    let n = unique();
    let (id, ticket_id) = (id_number(n), id_number(n + 1));
    let roster =
        csv(&["姓名,身份证号,学号,准考证号".into(), format!("张三,{id},S{n},"), format!("李四,{ticket_id},,0{n}")]);
    let imported = stack.import_roster(&s.admin, &s.campaign_id, roster).await.expect("import");
    assert_eq!(imported.body["report"]["created"], 2, "{}", imported.body);

    let student = stack.log_in(None).await.expect("student");
    let wrong =
        verify(&stack, &student, json!({"campaign_id": s.campaign_id, "exam_number": format!("S{n}0000")})).await;
    assert_eq!(wrong.error_code(), "no_match");
    let ok =
        verify(&stack, &student, json!({"campaign_id": s.campaign_id, "exam_number": format!("s{n}{}", &id[14..])}))
            .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.body["entry"]["name"], "张三");

    let other = stack.log_in(None).await.expect("student");
    let by_ticket = verify(
        &stack,
        &other,
        json!({"campaign_id": s.campaign_id, "exam_number": format!("0{n}{}", &ticket_id[14..])}),
    )
    .await;
    assert_eq!((by_ticket.status, by_ticket.body["entry"]["name"].as_str()), (StatusCode::OK, Some("李四")));
}

#[tokio::test]
async fn collection_code_verification() {
    let stack = stack().await;
    let s = school(&stack, "collection_code").await;
    let n = unique();
    let roster = csv(&["姓名,身份证号,图像采集码".into(), format!("张三,{},K{n}", id_number(n))]);
    stack.import_roster(&s.admin, &s.campaign_id, roster).await.expect("import");
    let student = stack.log_in(None).await.expect("student");
    let wrong =
        verify(&stack, &student, json!({"campaign_id": s.campaign_id, "collection_code": format!("K{}", n + 1)})).await;
    assert_eq!(wrong.error_code(), "no_match");
    let missing = verify(&stack, &student, json!({"campaign_id": s.campaign_id, "name": "张三"})).await;
    assert_eq!((missing.status, missing.error_code()), (StatusCode::BAD_REQUEST, "invalid_request"));
    let ok = verify(&stack, &student, json!({"campaign_id": s.campaign_id, "collection_code": format!("k{n}")})).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
}

#[tokio::test]
async fn the_sixth_wrong_attempt_in_a_window_is_refused_with_retry_after() {
    let stack = stack().await;
    let s = school(&stack, "name_id_number").await;
    let id = id_number(unique());
    stack
        .import_roster(&s.admin, &s.campaign_id, csv(&["姓名,身份证号".into(), format!("张三,{id}")]))
        .await
        .expect("import");
    let student = stack.log_in(None).await.expect("student");
    for (attempt, wrong_name) in ["李一", "李二", "李三", "李四", "李五"].into_iter().enumerate() {
        let r =
            verify(&stack, &student, json!({"campaign_id": s.campaign_id, "name": wrong_name, "id_number": id})).await;
        assert_eq!(r.error_code(), "no_match", "attempt {attempt}");
    }
    let sixth = verify(&stack, &student, json!({"campaign_id": s.campaign_id, "name": "张三", "id_number": id})).await;
    assert_eq!((sixth.status, sixth.error_code()), (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"));
    let wait: u32 = sixth.headers["retry-after"].to_str().expect("ascii").parse().expect("seconds");
    assert!((1..=900).contains(&wait), "retry-after {wait}");

    // Another person is not limited by this one's failures.
    let other = stack.log_in(None).await.expect("student");
    let ok = verify(&stack, &other, json!({"campaign_id": s.campaign_id, "name": "张三", "id_number": id})).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
}

#[tokio::test]
async fn a_second_user_claiming_a_bound_entry_gets_a_conflict() {
    let stack = stack().await;
    let s = school(&stack, "name_id_number").await;
    let n = unique();
    let (id, id2) = (id_number(n), id_number(n + 1));
    stack
        .import_roster(
            &s.admin,
            &s.campaign_id,
            csv(&["姓名,身份证号".into(), format!("张三,{id}"), format!("李四,{id2}")]),
        )
        .await
        .expect("import");
    let (first, second) = (stack.log_in(None).await.expect("a"), stack.log_in(None).await.expect("b"));
    let claim = json!({"campaign_id": s.campaign_id, "name": "张三", "id_number": id});
    assert_eq!(verify(&stack, &first, claim.clone()).await.status, StatusCode::OK);
    let taken = verify(&stack, &second, claim).await;
    assert_eq!((taken.status, taken.error_code()), (StatusCode::CONFLICT, "already_bound"));
    // The first user cannot also become the other student of the campaign.
    let again = verify(&stack, &first, json!({"campaign_id": s.campaign_id, "name": "李四", "id_number": id2})).await;
    assert_eq!((again.status, again.error_code()), (StatusCode::CONFLICT, "already_verified_as_another"));
}

#[tokio::test]
async fn students_see_only_their_schools_campaigns() {
    let stack = stack().await;
    let mine = school(&stack, "name_id_number").await;
    let other_school = stack.create_school(&mine.operator, "别的大学").await.expect("school");
    let other_admin = stack.school_admin(&mine.operator, &other_school).await.expect("admin");
    let other_campaign = stack.open_campaign(&other_admin, &other_school, "name_id_number").await.expect("campaign");
    let second_of_mine = stack.open_campaign(&mine.admin, &mine.school_id, "name_id_number").await.expect("campaign");
    let id = id_number(unique());
    stack
        .import_roster(&mine.admin, &mine.campaign_id, csv(&["姓名,身份证号".into(), format!("张三,{id}")]))
        .await
        .expect("import");
    let student = stack.log_in(None).await.expect("student");
    assert_eq!(
        verify(&stack, &student, json!({"campaign_id": mine.campaign_id, "name": "张三", "id_number": id}))
            .await
            .status,
        StatusCode::OK
    );

    let listed = stack.get("/v1/campaigns", Some(&student)).await.expect("call");
    let ids: Vec<&str> =
        listed.body["campaigns"].as_array().expect("list").iter().filter_map(|c| c["id"].as_str()).collect();
    assert!(ids.contains(&mine.campaign_id.as_str()) && ids.contains(&second_of_mine.as_str()), "{ids:?}");
    assert!(!ids.contains(&other_campaign.as_str()), "another school's campaign is listed: {ids:?}");

    // Students are not admins: a student's token opens no staff route.
    let r =
        stack.get(&format!("/v1/admin/campaigns?school_id={}", mine.school_id), Some(&student)).await.expect("call");
    assert_eq!((r.status, r.error_code()), (StatusCode::UNAUTHORIZED, "not_signed_in"));
}

#[tokio::test]
async fn a_school_admin_cannot_touch_another_schools_campaign() {
    let stack = stack().await;
    let mine = school(&stack, "name_id_number").await;
    let theirs = school(&stack, "name_id_number").await;
    let token = Some(&mine.admin);
    let path = format!("/v1/admin/campaigns/{}", theirs.campaign_id);

    assert_eq!(stack.get(&path, token).await.expect("call").error_code(), "campaign_not_found");
    let update = json!({"name": "x", "kind": "graduation", "preset": "chsi", "opens_at": "2026-01-01 00:00",
        "closes_at": "2027-01-01 24:00", "price_fen": 1, "identity_mode": "name_id_number"});
    let r = stack.call(Method::PUT, &path, token, Some(&update)).await.expect("call");
    assert_eq!((r.status, r.error_code()), (StatusCode::NOT_FOUND, "campaign_not_found"));
    let r = stack.post(&format!("{path}/roster-uploads"), token, &json!({})).await.expect("call");
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let mut create = update.clone();
    create["school_id"] = json!(theirs.school_id);
    let r = stack.post("/v1/admin/campaigns", token, &create).await.expect("call");
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = stack.get(&format!("/v1/admin/campaigns?school_id={}", theirs.school_id), token).await.expect("call");
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Their own campaign they can update; the other school's is unchanged.
    let own = stack
        .call(Method::PUT, &format!("/v1/admin/campaigns/{}", mine.campaign_id), token, Some(&update))
        .await
        .expect("call");
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    assert_eq!(own.body["campaign"]["closes_at"], "2027-01-02T00:00:00+08:00");
    let untouched = stack.get(&path, Some(&theirs.admin)).await.expect("call");
    assert_eq!(untouched.body["campaign"]["name"], "2026 届毕业生图像采集");
    // Only operators grant roles.
    let r = stack
        .call(
            Method::PUT,
            &format!("/v1/staff/members/{}", mine.admin.user_id),
            token,
            Some(&json!({"roles": ["operator"], "school_ids": []})),
        )
        .await
        .expect("call");
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn campaign_settings_are_validated_with_clear_errors() {
    let stack = stack().await;
    let s = school(&stack, "name_id_number").await;
    let base = json!({"school_id": s.school_id, "name": "x", "kind": "degree", "preset": "degree",
        "opens_at": "2026-03-18 18:00", "closes_at": "2026-04-05 24:00", "price_fen": 2000, "identity_mode": "exam_number"});
    let created = stack.post("/v1/admin/campaigns", Some(&s.admin), &base).await.expect("call");
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["campaign"]["spec"]["width_px"], 150);
    assert_eq!(created.body["campaign"]["closes_at"], "2026-04-06T00:00:00+08:00");

    for (field, value) in
        [("closes_at", json!("2026-03-01 10:00")), ("opens_at", json!("someday")), ("price_fen", json!(10_000_000))]
    {
        let mut bad = base.clone();
        bad[field] = value;
        let r = stack.post("/v1/admin/campaigns", Some(&s.admin), &bad).await.expect("call");
        assert_eq!(
            (r.status, r.error_code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_campaign"),
            "{field}: {}",
            r.body
        );
        assert!(r.body["error"]["message"].as_str().is_some_and(|m| m.len() > 10));
    }
    let _ = &s.operator;
}

/// A 学号's pointer was never freed when a re-import changed the entry's number, so two
/// students whose numbers were swapped (a school's mistake, corrected) were refused. The swap
/// is taken, and each number finds its new holder; a number the file dropped is free.
#[tokio::test]
async fn a_reimport_swapping_two_students_numbers_moves_their_pointers() {
    let stack = stack().await;
    let s = school(&stack, "name_id_number").await;
    let n = unique();
    let (a, b, c) = (id_number(n), id_number(n + 1), id_number(n + 2));
    let (first, second, third) = (format!("S{n}1"), format!("S{n}2"), format!("S{n}3"));
    let header = "姓名,身份证号,学号".to_owned();
    let before =
        csv(&[header.clone(), format!("张三,{a},{first}"), format!("李四,{b},{second}"), format!("王五,{c},{third}")]);
    let r = stack.import_roster(&s.admin, &s.campaign_id, before).await.expect("import");
    assert_eq!((r.body["report"]["created"].as_u64(), error_lines(&r.body)), (Some(3), vec![]), "{}", r.body);
    // Swapped in the next file; 王五's number dropped.
    let after = csv(&[header.clone(), format!("张三,{a},{second}"), format!("李四,{b},{first}"), format!("王五,{c},")]);
    let r = stack.import_roster(&s.admin, &s.campaign_id, after).await.expect("import");
    assert_eq!((r.body["report"]["updated"].as_u64(), error_lines(&r.body)), (Some(3), vec![]), "{}", r.body);
    let holder = |number: String| {
        let (stack, s) = (&stack, &s);
        async move {
            let path = format!("/v1/admin/campaigns/{}/progress?q={number}", s.campaign_id);
            let listed = stack.get(&path, Some(&s.admin)).await.expect("progress");
            let students = listed.body["students"].as_array().cloned().unwrap_or_default();
            students.iter().filter_map(|st| st["line"]["name"].as_str().map(str::to_owned)).collect::<Vec<_>>()
        }
    };
    assert_eq!(holder(first.clone()).await, vec!["李四"]);
    assert_eq!(holder(second.clone()).await, vec!["张三"]);
    assert_eq!(holder(third.clone()).await, Vec::<String>::new());
    // The dropped number is free for another student.
    let d = id_number(n + 3);
    let later = csv(&[header, format!("赵六,{d},{third}")]);
    let r = stack.import_roster(&s.admin, &s.campaign_id, later).await.expect("import");
    assert_eq!((r.body["report"]["created"].as_u64(), error_lines(&r.body)), (Some(1), vec![]), "{}", r.body);
    assert_eq!(holder(third).await, vec!["赵六"]);
}

/// The roster match comes first and binds pending; links go only to that student while the
/// binding waits; a verification after both uploads completes it (recording the versions
/// checked); then orders are open and no more links are given.
#[tokio::test]
async fn a_campaign_requiring_id_card_photos_binds_pending_until_both_sides_are_uploaded() {
    let stack = stack().await;
    let s = school(&stack, "name_id_number").await;
    let now = time::OffsetDateTime::now_utc().replace_nanosecond(0).expect("time");
    let fmt = |t: time::OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).expect("format");
    let body = json!({"school_id": s.school_id, "name": "需身份证照片", "kind": "graduation", "preset": "chsi",
        "opens_at": fmt(now - time::Duration::hours(1)), "closes_at": fmt(now + time::Duration::days(3)),
        "price_fen": 3000, "identity_mode": "name_id_number", "require_id_card_photos": true});
    let created = stack.post("/v1/admin/campaigns", Some(&s.admin), &body).await.expect("call");
    let cid = created.body["campaign"]["id"].as_str().expect("id").to_owned();
    let id = id_number(unique());
    stack.import_roster(&s.admin, &cid, csv(&["姓名,身份证号".into(), format!("张三,{id}")])).await.expect("import");
    let student = stack.log_in(None).await.expect("student");
    let claim = json!({"campaign_id": cid, "name": "张三", "id_number": id});
    let link = |side: &str| {
        let body = json!({"campaign_id": cid, "side": side});
        let (stack, student) = (&stack, &student);
        async move { stack.post("/v1/identity/card-photos", Some(student), &body).await.expect("call") }
    };

    // No link before the roster matched.
    let early = link("front").await;
    assert_eq!((early.status, early.error_code()), (StatusCode::CONFLICT, "verify_identity_first"), "{}", early.body);
    // The match binds, pending, and says so; no order yet.
    let pending = verify(&stack, &student, claim.clone()).await;
    assert_eq!(pending.status, StatusCode::OK, "{}", pending.body);
    assert_eq!(pending.body["binding_status"], "card_photos_needed", "{}", pending.body);
    let order = stack.post("/v1/orders", Some(&student), &json!({"campaign_id": cid})).await.expect("order");
    assert_eq!(
        (order.status, order.error_code()),
        (StatusCode::FORBIDDEN, "id_card_photos_required"),
        "{}",
        order.body
    );
    let listed = stack.get("/v1/campaigns", Some(&student)).await.expect("list");
    let mine =
        listed.body["campaigns"].as_array().expect("campaigns").iter().find(|c| c["id"] == cid.as_str()).cloned();
    assert_eq!(mine.map(|c| c["binding_status"].clone()), Some(json!("card_photos_needed")));

    let photo = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../models/astronaut.png")).expect("make models");
    for side in ["front", "back"] {
        let l = link(side).await;
        assert_eq!(l.status, StatusCode::CREATED, "{}", l.body);
        let sent = stack.upload_form(&l.body["upload"], photo.clone(), "image/png").await.expect("post");
        assert!(sent.is_success(), "{side}: {sent}");
    }
    let done = verify(&stack, &student, claim).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.body["binding_status"], "complete", "{}", done.body);
    // The versions checked are recorded: a later write to the key is not what was checked.
    let enrollment = stack
        .item(&format!("USER#{}", student.user_id), &format!("ENROLL#{cid}"))
        .await
        .expect("read")
        .expect("enrollment");
    for side in ["card_front_version", "card_back_version"] {
        assert!(enrollment[side].as_str().is_some_and(|v| !v.is_empty()), "{side}");
    }
    let after = link("front").await;
    assert_eq!((after.status, after.error_code()), (StatusCode::CONFLICT, "card_photos_complete"), "{}", after.body);
    let order = stack.post("/v1/orders", Some(&student), &json!({"campaign_id": cid})).await.expect("order");
    assert_eq!(order.status, StatusCode::CREATED, "{}", order.body);
}

/// 已经线下完成信息采集的同学不用再次线上采集: a roster line marked 已线下采集 is told so at
/// verification, gets no binding and so no order, is counted as collected offline by progress
/// and the export, and a bad mark is refused on its line. Re-importing it unmarked brings the
/// student back online.
#[tokio::test]
async fn a_student_collected_offline_is_told_so_and_cannot_order() {
    let stack = stack().await;
    let s = school(&stack, "name_id_number").await;
    let n = unique();
    let (offline, online, bad) = (id_number(n), id_number(n + 1), id_number(n + 2));
    let header = "姓名,身份证号,已线下采集".to_owned();
    let roster =
        csv(&[header.clone(), format!("张三,{offline},是"), format!("李四,{online},"), format!("王五,{bad},也许")]);
    let imported = stack.import_roster(&s.admin, &s.campaign_id, roster).await.expect("import");
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    assert_eq!(error_lines(&imported.body), vec![(4, "invalid_collected_offline".to_owned())]);

    let student = stack.log_in(None).await.expect("student");
    let claim = json!({"campaign_id": s.campaign_id, "name": "张三", "id_number": offline});
    let r = verify(&stack, &student, claim.clone()).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::CONFLICT, "collected_offline"), "{}", r.body);
    assert!(r.body["error"]["message_zh"].as_str().is_some_and(|m| m.contains("线下")), "{}", r.body);
    let order = stack.post("/v1/orders", Some(&student), &json!({"campaign_id": s.campaign_id})).await.expect("order");
    assert_eq!((order.status, order.error_code()), (StatusCode::FORBIDDEN, "not_verified"), "{}", order.body);

    let path = format!("/v1/admin/campaigns/{}/progress", s.campaign_id);
    let progress = stack.get(&path, Some(&s.admin)).await.expect("progress");
    let count = |stage: &str| {
        let stages = progress.body["stages"].as_array().expect("stages");
        stages.iter().find(|x| x["stage"] == stage).and_then(|x| x["count"].as_u64())
    };
    assert_eq!((count("collected_offline"), count("not_verified")), (Some(1), Some(1)), "{}", progress.body);

    // Unmarked again: the student verifies as any other.
    let again = csv(&[header, format!("张三,{offline},否")]);
    let reimported = stack.import_roster(&s.admin, &s.campaign_id, again).await.expect("import");
    assert_eq!(reimported.body["report"]["updated"], 1, "{}", reimported.body);
    let r = verify(&stack, &student, claim).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

/// 勾选《用户隐私协议》 (PIPL art. 28–29: separate consent): where the campaign names an
/// agreement, verification waits until its version is accepted; the acceptance is kept and
/// shown to customer service; a new version asks again.
#[tokio::test]
async fn verification_waits_for_the_privacy_agreement_and_a_new_version_asks_again() {
    let stack = stack().await;
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let agreement = |v: &str| json!({"version": v, "url": "https://example.edu.cn/privacy"});
    let saved =
        stack.update_campaign(&setup, json!({"privacy_agreement": agreement("2026-09")})).await.expect("update");
    assert_eq!(saved["privacy_agreement"]["version"], "2026-09", "{saved}");
    let id = id_number(unique());
    let roster = csv(&["姓名,身份证号".into(), format!("张三,{id}")]);
    stack.import_roster(&setup.admin, &setup.campaign_id, roster).await.expect("import");
    let student = stack.log_in(None).await.expect("student");
    let claim = json!({"campaign_id": setup.campaign_id, "name": "张三", "id_number": id});
    let code = |r: &yunzhao_e2e::Reply| (r.status, r.error_code().to_owned());

    let r = verify(&stack, &student, claim.clone()).await;
    assert_eq!(code(&r), (StatusCode::CONFLICT, "consent_required".to_owned()), "{}", r.body);
    let (st, who) = (&stack, &student);
    let accept = |v: &str| {
        let body = json!({"campaign_id": setup.campaign_id, "version": v});
        async move { st.post("/v1/identity/consent", Some(who), &body).await.expect("call") }
    };
    let old = accept("2026-08").await;
    assert_eq!(code(&old), (StatusCode::CONFLICT, "agreement_changed".to_owned()), "{}", old.body);
    let ok = accept("2026-09").await;
    assert_eq!((ok.status, &ok.body["consent"]["version"]), (StatusCode::OK, &json!("2026-09")), "{}", ok.body);
    let r = verify(&stack, &student, claim.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let service = stack.staff(&setup.operator, &["customer_service"], &[]).await.expect("service");
    let theirs = format!("/v1/service/users/{}/orders", student.user_id);
    let shown = stack.get(&theirs, Some(&service)).await.expect("call");
    let consents = shown.body["consents"].as_array().expect("consents");
    assert_eq!(consents.len(), 1, "{}", shown.body);
    assert_eq!((&consents[0]["campaign_id"], &consents[0]["version"]), (&json!(setup.campaign_id), &json!("2026-09")));
    assert!(consents[0]["accepted_at"].is_string(), "{}", shown.body);

    stack.update_campaign(&setup, json!({"privacy_agreement": agreement("2026-12")})).await.expect("update");
    let r = verify(&stack, &student, claim.clone()).await;
    assert_eq!(code(&r), (StatusCode::CONFLICT, "consent_required".to_owned()), "a new version asks again: {}", r.body);

    // The school removes the agreement (null): nobody is asked any more.
    let saved = stack.update_campaign(&setup, json!({"privacy_agreement": null})).await.expect("update");
    assert!(saved["privacy_agreement"].is_null(), "{saved}");
    let r = verify(&stack, &student, claim).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

/// Finding the campaign as a new user would: the code the school prints (采集特征码, the QR's
/// `scene`) opens it before login, with what verification will ask for; a code nobody has is
/// not found.
#[tokio::test]
async fn a_campaign_is_found_by_its_public_code_before_login() {
    let stack = stack().await;
    let s = school(&stack, "name_id_number").await;
    let c = stack.get(&format!("/v1/admin/campaigns/{}", s.campaign_id), Some(&s.admin)).await.expect("campaign");
    let code = c.body["campaign"]["code"].as_str().expect("a code").to_owned();
    assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_lowercase()), "{code}");

    let found = stack.get(&format!("/v1/campaigns/code/{code}"), None).await.expect("call");
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    let v = &found.body["campaign"];
    assert_eq!((&v["id"], &v["school_name"]), (&json!(s.campaign_id), &json!("测试大学")), "{v}");
    assert_eq!((&v["needs"], &v["status"]), (&json!(["name", "id_number"]), &json!("open")), "{v}");
    assert_eq!(v["price_fen"], c.body["campaign"]["price_fen"]);
    // Typed in capitals it is the same campaign; a code nobody has is not found.
    let upper = stack.get(&format!("/v1/campaigns/code/{}", code.to_uppercase()), None).await.expect("call");
    assert_eq!(upper.body["campaign"]["id"], json!(s.campaign_id), "{}", upper.body);
    for unknown in ["zzzzzzzzzz", "no-such"] {
        let r = stack.get(&format!("/v1/campaigns/code/{unknown}"), None).await.expect("call");
        assert_eq!((r.status, r.error_code()), (StatusCode::NOT_FOUND, "campaign_not_found"), "{unknown}: {}", r.body);
    }
}
