//! Staff in the console, end to end: QR sign-in through the fake WeChat's website login,
//! invitations, sessions in cookies with CSRF tokens, revocation taking effect at the next
//! request, reviewers scoped to their schools, skip, and customer service finding an order
//! by its WeChat Pay transaction id.

use reqwest::{Method, StatusCode};
use serde_json::json;
use yunzhao_e2e::{SchoolSetup, Stack, astronaut, unique, url_param};

async fn stack() -> Stack {
    Stack::from_env().await.expect("the local stack's environment (run `make test`)")
}

/// A school with an open campaign and `n` photos waiting in review.
async fn school_with_photos(stack: &Stack, n: usize) -> (SchoolSetup, Vec<String>) {
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let (students, _) = stack.roster_students(&setup, n, n).await.expect("students");
    let mut orders = Vec::new();
    for s in &students {
        let no = stack.paid_order(&s.session, &setup.campaign_id).await.expect("order");
        stack.upload_photo(&s.session, &no, astronaut()).await.expect("upload");
        stack.submit_photo(&s.session, &no, 180).await.expect("in review");
        orders.push(no);
    }
    (setup, orders)
}

#[tokio::test]
async fn sign_in_goes_to_wechats_qr_page_and_a_forged_state_or_reused_code_is_refused() {
    let stack = stack().await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let started = http.get(format!("{}/v1/staff/sign-in", stack.api)).send().await.expect("start");
    assert_eq!(started.status(), StatusCode::FOUND);
    let to = started.headers()["location"].to_str().expect("location").to_owned();
    assert!(to.starts_with(&format!("{}/connect/qrconnect?", stack.wechat)), "{to}");
    assert_eq!(url_param(&to, "scope").as_deref(), Some("snsapi_login"));
    assert_eq!(url_param(&to, "redirect_uri"), Some(format!("{}/v1/staff/sign-in/callback", stack.api)));
    let cookie = started.headers()["set-cookie"].to_str().expect("cookie").to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("Secure") && cookie.contains("SameSite=Lax"), "{cookie}");

    // WeChat's page answers for our website appid.
    let page = reqwest::get(&to).await.expect("qr page").text().await.expect("html");
    assert!(page.contains("扫码并确认登录"), "{page}");

    // A callback whose state is not the one this browser was given.
    let code: serde_json::Value = http
        .post(format!("{}/_fake/web-codes", stack.wechat))
        .json(&json!({"unionid": stack.first_operator}))
        .send()
        .await
        .expect("code")
        .json()
        .await
        .expect("json");
    let pair = cookie.split(';').next().expect("pair").to_owned();
    let forged = http
        .get(format!("{}/v1/staff/sign-in/callback", stack.api))
        .query(&[("code", code["code"].as_str().expect("code")), ("state", &"0".repeat(64))])
        .header("cookie", &pair)
        .send()
        .await
        .expect("callback");
    assert_eq!(forged.headers()["location"], format!("{}/?signin_error=invalid_signin_state", stack.api).as_str());
    assert!(
        forged
            .headers()
            .get_all("set-cookie")
            .iter()
            .all(|c| !c.to_str().unwrap_or("").starts_with("__Host-yz_staff="))
    );

    // The same code, now with the right state, signs in once; a second use is WeChat's 40163.
    let state = url_param(&to, "state").expect("state");
    let callback = |c: String| {
        http.get(format!("{}/v1/staff/sign-in/callback", stack.api))
            .query(&[("code", c), ("state", state.clone())])
            .header("cookie", pair.clone())
            .send()
    };
    let first = callback(code["code"].as_str().expect("code").to_owned()).await.expect("callback");
    assert_eq!(first.headers()["location"], format!("{}/", stack.api).as_str());
    let again = callback(code["code"].as_str().expect("code").to_owned()).await.expect("callback");
    assert_eq!(again.headers()["location"], format!("{}/?signin_error=signin_code_used", stack.api).as_str());
}

#[tokio::test]
async fn an_invitation_makes_one_reviewer_and_is_used_up_and_strangers_are_not_staff() {
    let stack = stack().await;
    let operator = stack.bootstrap_operator().await.expect("operator");
    let school = stack.create_school(&operator, "邀请测试大学").await.expect("school");
    let link = stack.invite(&operator, &["reviewer"], &[&school]).await.expect("invite");
    let reviewer = stack.staff_sign_in(&format!("rev_{}", unique()), Some(&link)).await.expect("reviewer");
    let me = stack.get("/v1/staff/session", Some(&reviewer)).await.expect("session");
    assert_eq!(
        (me.body["staff"]["roles"].clone(), me.body["staff"]["school_ids"].clone()),
        (json!(["reviewer"]), json!([school]))
    );

    let reused = stack.staff_sign_in(&format!("rev_{}", unique()), Some(&link)).await;
    assert!(reused.is_err_and(|e| e.to_string().contains("invitation_invalid")));
    let stranger = stack.staff_sign_in(&format!("nobody_{}", unique()), None).await;
    assert!(stranger.is_err_and(|e| e.to_string().contains("not_staff")));

    // The reviewer signs in again later with the same WeChat, without a link.
    assert!(stack.staff_sign_in(&reviewer.openid, None).await.is_ok());
    let listed = stack.get("/v1/staff/invitations", Some(&operator)).await.expect("list");
    let mine = listed.body["invitations"]
        .as_array()
        .expect("list")
        .iter()
        .find(|i| link.contains(i["id"].as_str().unwrap_or("-")));
    assert_eq!(mine.map(|i| i["status"].clone()), Some(json!("used")));
}

#[tokio::test]
async fn a_student_token_opens_no_staff_route_and_state_changes_need_the_csrf_token() {
    let stack = stack().await;
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let student = stack.log_in(None).await.expect("student");
    for path in ["/v1/review/queues", "/v1/staff/members", "/v1/admin/schools"] {
        let r = stack.get(path, Some(&student)).await.expect("call");
        assert_eq!((r.status, r.error_code()), (StatusCode::UNAUTHORIZED, "not_signed_in"), "{path}");
    }
    let path = format!("/v1/admin/campaigns/{}/roster-uploads", setup.campaign_id);
    for csrf in [None, Some("f".repeat(64).as_str())] {
        let r = stack.post(&path, Some(&setup.admin.with_csrf(csrf)), &json!({})).await.expect("call");
        assert_eq!((r.status, r.error_code()), (StatusCode::FORBIDDEN, "csrf_failed"), "{csrf:?}");
    }
    let r = stack.post(&path, Some(&setup.admin), &json!({})).await.expect("call");
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["upload"]["method"], "POST");
}

#[tokio::test]
async fn reviewers_see_only_their_schools_and_a_revoked_reviewer_is_refused_at_once() {
    let stack = stack().await;
    let (a, _) = school_with_photos(&stack, 1).await;
    let b = stack.school_with_campaign("name_id_number").await.expect("school b");
    let reviewer_b = stack.staff(&a.operator, &["reviewer"], &[&b.school_id]).await.expect("reviewer b");
    let reviewer_a = stack.staff(&a.operator, &["reviewer"], &[&a.school_id]).await.expect("reviewer a");

    let queues = stack.get("/v1/review/queues", Some(&reviewer_b)).await.expect("queues");
    let listed =
        queues.body["queues"].as_array().expect("queues").iter().any(|q| q["campaign_id"] == a.campaign_id.as_str());
    assert!(!listed, "school A's queue shown to school B's reviewer: {}", queues.body);
    let claim = format!("/v1/review/campaigns/{}/claims", a.campaign_id);
    let r = stack.post(&claim, Some(&reviewer_b), &json!({})).await.expect("claim");
    assert_eq!((r.status, r.error_code()), (StatusCode::NOT_FOUND, "campaign_not_found"));

    let task = stack.post(&claim, Some(&reviewer_a), &json!({})).await.expect("claim");
    assert_eq!(task.status, StatusCode::OK, "{}", task.body);
    let task_path =
        format!("/v1/review/campaigns/{}/tasks/{}", a.campaign_id, task.body["task_id"].as_str().expect("task"));
    assert!(task.body["spec"]["width_px"].is_number(), "{}", task.body);
    let r = stack.get(&task_path, Some(&reviewer_b)).await.expect("look");
    assert_eq!((r.status, r.error_code()), (StatusCode::NOT_FOUND, "campaign_not_found"));

    let revoke = format!("/v1/staff/members/{}/revoke", reviewer_a.user_id);
    let r = stack.post(&revoke, Some(&a.operator), &json!({})).await.expect("revoke");
    assert_eq!(r.body["member"]["status"], "revoked", "{}", r.body);
    let r = stack.get(&task_path, Some(&reviewer_a)).await.expect("look");
    assert_eq!((r.status, r.error_code()), (StatusCode::UNAUTHORIZED, "session_revoked"));
    let again = stack.staff_sign_in(&reviewer_a.openid, None).await;
    assert!(again.is_err_and(|e| e.to_string().contains("staff_revoked")));

    // A school moved away from a reviewer takes effect on their next request too.
    let put = format!("/v1/staff/members/{}", reviewer_b.user_id);
    let body = json!({"roles": ["reviewer"], "school_ids": [a.school_id]});
    let r = stack.call(Method::PUT, &put, Some(&a.operator), Some(&body)).await.expect("put");
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r =
        stack.get(&format!("/v1/review/campaigns/{}/queue", b.campaign_id), Some(&reviewer_b)).await.expect("queue");
    assert_eq!(r.error_code(), "campaign_not_found");
}

#[tokio::test]
async fn a_skipped_task_goes_back_at_once_to_another_reviewer() {
    let stack = stack().await;
    let (setup, _) = school_with_photos(&stack, 1).await;
    let first = stack.staff(&setup.operator, &["reviewer"], &[&setup.school_id]).await.expect("first");
    let second = stack.staff(&setup.operator, &["reviewer"], &[&setup.school_id]).await.expect("second");
    let claim = format!("/v1/review/campaigns/{}/claims", setup.campaign_id);
    let held = stack.post(&claim, Some(&first), &json!({})).await.expect("claim");
    let task_id = held.body["task_id"].as_str().expect("task").to_owned();
    let r = stack.post(&claim, Some(&second), &json!({})).await.expect("claim");
    assert_eq!(r.error_code(), "queue_empty", "the held task was handed out twice");

    let release = format!("/v1/review/campaigns/{}/tasks/{task_id}/release", setup.campaign_id);
    assert_eq!(stack.post(&release, Some(&first), &json!({})).await.expect("release").status, StatusCode::NO_CONTENT);
    let r = stack.post(&release, Some(&first), &json!({})).await.expect("release");
    assert_eq!(r.error_code(), "task_not_held");
    let taken = stack.post(&claim, Some(&second), &json!({})).await.expect("claim");
    assert_eq!(taken.body["task_id"], task_id.as_str());
    // The first reviewer passing over it finds nothing else.
    let r = stack.post(&claim, Some(&first), &json!({"except": [task_id]})).await.expect("claim");
    assert_eq!(r.error_code(), "queue_empty");
}

#[tokio::test]
async fn customer_service_finds_an_order_by_transaction_id_and_sends_it_back() {
    let stack = stack().await;
    let (setup, orders) = school_with_photos(&stack, 1).await;
    let service = stack.staff(&setup.operator, &["customer_service"], &[]).await.expect("service");
    let stored = stack.order_items(&orders[0], "PAYMENT#").await.expect("payment");
    let txn = stored[0]["transaction_id"].as_str().expect("transaction id").to_owned();

    let found = stack.get(&format!("/v1/service/orders?q={txn}"), Some(&service)).await.expect("search");
    assert_eq!(found.body["orders"][0]["order_id"], orders[0].as_str(), "{}", found.body);
    assert!(found.body["orders"][0].get("payer_openid").is_none(), "{}", found.body);
    assert!(found.body["orders"][0]["student"]["name"].as_str().is_some_and(|n| n.contains('*')), "{}", found.body);
    // …or by the student's name in the campaign (the only student here is 王伟伟).
    let path = format!("/v1/service/orders?campaign_id={}&name=%E7%8E%8B%E4%BC%9F", setup.campaign_id);
    let by_name = stack.get(&path, Some(&service)).await.expect("search");
    assert_eq!(by_name.body["orders"][0]["order_id"], orders[0].as_str(), "{}", by_name.body);
    assert_eq!(by_name.body["orders"][0]["student"]["name"], "王**");
    let none = stack.get("/v1/service/orders?q=4200000000000000000000000000", Some(&service)).await.expect("search");
    assert_eq!(none.body["orders"], json!([]));

    let back = format!("/v1/service/orders/{}/send-back", orders[0]);
    let r = stack
        .post(&back, Some(&service), &json!({"reasons": ["blurry"], "note": "照片模糊，请重拍"}))
        .await
        .expect("send back");
    assert_eq!(r.body["state"], "rejected", "{}", r.body);
    // Customer service is not an admin, a reviewer or an operator.
    let r = stack.get("/v1/review/queues", Some(&service)).await.expect("queues");
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = stack
        .post(&format!("/v1/orders/{}/refund", orders[0]), Some(&service), &json!({"reason": "x"}))
        .await
        .expect("refund");
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_school_admin_sees_where_every_student_stands_by_class_and_finds_who_has_not_finished() {
    let stack = stack().await;
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let ids: Vec<String> = (0..3).map(|_| yunzhao_e2e::id_number(unique())).collect();
    let roster = format!(
        "\u{feff}姓名,身份证号,院系,专业,班级\n王小明,{},计算机学院,软件工程,软件1班\n李小红,{},计算机学院,软件工程,软件1班\n赵小刚,{},数学学院,数学,数学1班\n",
        ids[0], ids[1], ids[2]
    );
    let import = stack.import_roster(&setup.admin, &setup.campaign_id, roster.into_bytes()).await.expect("import");
    assert_eq!(import.body["report"]["created"], 3, "{}", import.body);
    let student = stack.log_in(None).await.expect("student");
    let body = json!({"campaign_id": setup.campaign_id, "name": "王小明", "id_number": ids[0]});
    assert_eq!(stack.post("/v1/identity/verify", Some(&student), &body).await.expect("verify").status, StatusCode::OK);
    stack.paid_order(&student, &setup.campaign_id).await.expect("paid");

    let path = format!("/v1/admin/campaigns/{}/progress", setup.campaign_id);
    let all = stack.get(&path, Some(&setup.admin)).await.expect("progress");
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    let count = |stage: &str| {
        all.body["stages"].as_array().expect("stages").iter().find(|s| s["stage"] == stage).map(|s| s["count"].clone())
    };
    assert_eq!((count("not_verified"), count("paid_no_photo")), (Some(json!(2)), Some(json!(1))));
    assert_eq!(all.body["matching"], 3);
    assert!(
        all.body["students"]
            .as_array()
            .expect("list")
            .iter()
            .all(|s| s["line"]["id_number"].as_str().is_some_and(|i| i.contains('*')))
    );
    let class = all.body["groups"].as_array().expect("groups").iter().find(|g| g["class"] == "软件1班").cloned();
    assert_eq!(class.map(|g| (g["total"].clone(), g["approved"].clone())), Some((json!(2), json!(0))));

    let maths =
        stack.get(&format!("{path}?class=%E6%95%B0%E5%AD%A61%E7%8F%AD"), Some(&setup.admin)).await.expect("filter");
    assert_eq!(maths.body["students"][0]["line"]["name"], "赵小刚", "{}", maths.body);
    assert_eq!(maths.body["students"][0]["stage_zh"], "未验证身份");
    let paid = stack.get(&format!("{path}?stage=paid_no_photo"), Some(&setup.admin)).await.expect("filter");
    assert_eq!(
        (paid.body["matching"].clone(), paid.body["students"][0]["line"]["name"].clone()),
        (json!(1), json!("王小明"))
    );
}

#[tokio::test]
async fn operators_see_orders_stuck_in_standardizing_and_the_dead_letter_queues() {
    let stack = stack().await;
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let student = stack.verified_student(&setup).await.expect("student");
    let no = stack.paid_order(&student, &setup.campaign_id).await.expect("paid");
    // As if the standardize function had crashed on its upload an hour ago.
    let an_hour_ago = time::OffsetDateTime::now_utc().unix_timestamp() - 3600;
    let stuck = json!({"state": "standardizing", "updated_at": an_hour_ago});
    stack.db().set(&format!("ORDER#{no}"), "ORDER", stuck.as_object().expect("fields")).await.expect("stuck");

    let r = stack.get("/v1/service/stuck-orders", Some(&setup.operator)).await.expect("stuck");
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let mine = r.body["orders"].as_array().expect("orders").iter().find(|o| o["order_id"] == no.as_str()).cloned();
    assert!(mine.as_ref().is_some_and(|o| o["stuck_seconds"].as_i64().is_some_and(|s| s >= 3600)), "{}", r.body);
    let queues: Vec<&str> =
        r.body["dead_letters"].as_array().expect("dlq").iter().filter_map(|q| q["queue"].as_str()).collect();
    assert_eq!(queues, vec!["standardize", "export"]);

    let service = stack.staff(&setup.operator, &["customer_service"], &[]).await.expect("service");
    let r = stack.get("/v1/service/stuck-orders", Some(&service)).await.expect("stuck");
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

/// Every staff route against every kind of caller: no session and a student's token are
/// 401, a role the route is not for is 403 (the role check comes before any lookup).
#[tokio::test]
async fn every_staff_route_refuses_callers_without_the_role() {
    let stack = stack().await;
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let s = &setup.school_id;
    let reviewer = stack.staff(&setup.operator, &["reviewer"], &[s]).await.expect("reviewer");
    let service = stack.staff(&setup.operator, &["customer_service"], &[]).await.expect("service");
    let student = stack.log_in(None).await.expect("student");
    let (c, u) = (&setup.campaign_id, &student.user_id);
    let no = "YZ0000000000000000000000000A";
    // (method, path, the roles it is for; an operator may do everything)
    let routes: Vec<(Method, String, &[&str])> = vec![
        (Method::GET, "/v1/staff/members".into(), &[]),
        (Method::POST, "/v1/staff/invitations".into(), &[]),
        (Method::GET, "/v1/staff/invitations".into(), &[]),
        (Method::POST, format!("/v1/staff/members/{u}/revoke"), &[]),
        (Method::GET, "/v1/review/queues".into(), &["reviewer"]),
        (Method::POST, format!("/v1/review/campaigns/{c}/claims"), &["reviewer"]),
        (Method::GET, format!("/v1/review/campaigns/{c}/queue"), &["reviewer"]),
        (Method::POST, format!("/v1/review/campaigns/{c}/tasks/t1/lease"), &["reviewer"]),
        (Method::POST, "/v1/admin/schools".into(), &[]),
        (Method::GET, "/v1/admin/schools".into(), &["school_admin", "customer_service"]),
        (Method::GET, format!("/v1/admin/campaigns/{c}"), &["school_admin"]),
        (Method::GET, format!("/v1/admin/campaigns/{c}/progress"), &["school_admin"]),
        (Method::POST, format!("/v1/admin/campaigns/{c}/roster-uploads"), &["school_admin"]),
        (Method::GET, format!("/v1/admin/campaigns/{c}/exports"), &["school_admin"]),
        (Method::GET, format!("/v1/service/orders/{no}"), &["customer_service"]),
        (Method::GET, "/v1/service/anomalies".into(), &["customer_service"]),
        (Method::GET, "/v1/service/stuck-orders".into(), &[]),
        (Method::POST, format!("/v1/orders/{no}/refund"), &[]),
    ];
    let callers = [("reviewer", &reviewer), ("school_admin", &setup.admin), ("customer_service", &service)];
    for (method, path, roles) in &routes {
        let body = json!({});
        let r = stack.call(method.clone(), path, None, Some(&body)).await.expect("call");
        assert_eq!(
            (r.status, r.error_code()),
            (StatusCode::UNAUTHORIZED, "not_signed_in"),
            "{method} {path} anonymous"
        );
        let r = stack.call(method.clone(), path, Some(&student), Some(&body)).await.expect("call");
        assert_eq!((r.status, r.error_code()), (StatusCode::UNAUTHORIZED, "not_signed_in"), "{method} {path} student");
        for (role, who) in callers {
            let r = stack.call(method.clone(), path, Some(who), Some(&body)).await.expect("call");
            if roles.contains(&role) {
                assert_ne!(r.status, StatusCode::FORBIDDEN, "{method} {path} refused {role}: {}", r.body);
            } else {
                assert_eq!(r.status, StatusCode::FORBIDDEN, "{method} {path} let {role} in: {}", r.body);
            }
        }
    }
}

#[tokio::test]
async fn a_student_is_found_by_their_whole_student_number_which_is_unique_in_the_campaign() {
    let stack = stack().await;
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let ids: Vec<String> = (0..3).map(|_| yunzhao_e2e::id_number(unique())).collect();
    let number = format!("S{}", unique() % 1_000_000_000);
    let roster = format!(
        "姓名,身份证号,学号\n孙小美,{},{number}\n钱小多,{},{number}X\n周小同,{},{number}\n",
        ids[0], ids[1], ids[2]
    );
    let import = stack.import_roster(&setup.admin, &setup.campaign_id, roster.into_bytes()).await.expect("import");
    assert_eq!(import.body["report"]["created"], 2, "{}", import.body);
    let errors = &import.body["report"]["errors"];
    assert_eq!((errors[0]["line"].clone(), errors[0]["code"].clone()), (json!(4), json!("duplicate_student_no")));
    assert_eq!(errors[0]["column"], "学号", "{errors}");
    // A later import cannot give the number to someone else either.
    let again = format!("姓名,身份证号,学号\n吴小新,{},{number}\n", yunzhao_e2e::id_number(unique()));
    let import = stack.import_roster(&setup.admin, &setup.campaign_id, again.into_bytes()).await.expect("import");
    let errors = &import.body["report"]["errors"];
    assert_eq!((errors[0]["line"].clone(), errors[0]["code"].clone()), (json!(2), json!("belongs_to_another_entry")));

    let student = stack.log_in(None).await.expect("student");
    let body = json!({"campaign_id": setup.campaign_id, "name": "孙小美", "id_number": ids[0]});
    assert_eq!(stack.post("/v1/identity/verify", Some(&student), &body).await.expect("verify").status, StatusCode::OK);
    let no = stack.paid_order(&student, &setup.campaign_id).await.expect("paid");

    // Customer service: the whole number finds the order (the number itself is stored masked).
    let service = stack.staff(&setup.operator, &["customer_service"], &[]).await.expect("service");
    let search = |n: &str| format!("/v1/service/orders?campaign_id={}&student_no={n}", setup.campaign_id);
    let found = stack.get(&search(&number), Some(&service)).await.expect("search");
    assert_eq!(found.body["orders"][0]["order_id"], no.as_str(), "{}", found.body);
    assert_eq!(found.body["orders"][0]["student"]["name"], "孙**");
    assert!(found.body["orders"][0]["student"]["student_no"].as_str().is_some_and(|n| n.contains('*')));
    let lower = stack.get(&search(&number.to_lowercase()), Some(&service)).await.expect("search");
    assert_eq!(lower.body["orders"][0]["order_id"], no.as_str(), "student numbers match whatever the letters' case");
    let part = stack.get(&search(&number[..number.len() - 2]), Some(&service)).await.expect("search");
    assert_eq!((part.body["orders"].clone(), part.body["roster_matches"].clone()), (json!([]), json!(0)));
    let bad = stack.get(&search("12%2034"), Some(&service)).await.expect("search");
    assert_eq!(bad.error_code(), "invalid_request");

    // The school admin: the same number in the progress search.
    let path = format!("/v1/admin/campaigns/{}/progress?q={}X", setup.campaign_id, number);
    let listed = stack.get(&path, Some(&setup.admin)).await.expect("progress");
    let names: Vec<&str> =
        listed.body["students"].as_array().expect("list").iter().filter_map(|s| s["line"]["name"].as_str()).collect();
    assert_eq!(names, vec!["钱小多"], "{}", listed.body);
}

#[tokio::test]
async fn a_reviewer_keeps_an_open_task_by_renewing_it_and_holds_at_most_three() {
    let stack = stack().await;
    let (setup, _) = school_with_photos(&stack, 4).await;
    let reviewer = stack.staff(&setup.operator, &["reviewer"], &[&setup.school_id]).await.expect("reviewer");
    let other = stack.staff(&setup.operator, &["reviewer"], &[&setup.school_id]).await.expect("other");
    let claim = format!("/v1/review/campaigns/{}/claims", setup.campaign_id);
    let mut held: Vec<String> = Vec::new();
    for _ in 0..3 {
        let r = stack.post(&claim, Some(&reviewer), &json!({"except": held})).await.expect("claim");
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        held.push(r.body["task_id"].as_str().expect("task").to_owned());
    }
    let r = stack.post(&claim, Some(&reviewer), &json!({"except": held})).await.expect("claim");
    assert_eq!(r.error_code(), "holding_too_many", "{}", r.body);
    // Another reviewer still gets the fourth photo.
    let fourth = stack.post(&claim, Some(&other), &json!({})).await.expect("claim");
    assert!(fourth.body["task_id"].as_str().is_some_and(|t| !held.iter().any(|h| h == t)), "{}", fourth.body);

    // The lease is 20 s here: renewed at 12 s, the task is still the reviewer's at 24 s.
    let lease = |t: &str| format!("/v1/review/campaigns/{}/tasks/{t}/lease", setup.campaign_id);
    tokio::time::sleep(std::time::Duration::from_secs(12)).await;
    let renewed = stack.post(&lease(&held[0]), Some(&reviewer), &json!({})).await.expect("renew");
    assert_eq!(renewed.status, StatusCode::OK, "{}", renewed.body);
    assert_eq!(renewed.body["lease_seconds"], 20);
    let r = stack.post(&lease(&held[0]), Some(&other), &json!({})).await.expect("renew");
    assert_eq!(r.error_code(), "task_not_held", "only the holder renews");
    tokio::time::sleep(std::time::Duration::from_secs(12)).await;
    let taken = stack.post(&claim, Some(&other), &json!({"except": [fourth.body["task_id"]]})).await.expect("claim");
    assert_ne!(taken.body["task_id"], held[0].as_str(), "the renewed task was handed to another reviewer");
    let decide = format!("/v1/review/campaigns/{}/tasks/{}/decision", setup.campaign_id, held[0]);
    let r = stack.post(&decide, Some(&reviewer), &json!({"decision": "approve"})).await.expect("decide");
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // The ones not renewed lapsed: renewing them now is refused.
    let r = stack.post(&lease(&held[1]), Some(&reviewer), &json!({})).await.expect("renew");
    assert_eq!(r.error_code(), "task_not_held");
}

/// The cap of three held tasks was read, then written: claims arriving at once all saw
/// fewer than three held. Ten concurrent claims by one reviewer, round after round, end
/// with at most three live leases.
#[tokio::test]
async fn concurrent_claims_by_one_reviewer_never_hold_more_than_three() {
    let stack = stack().await;
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let (students, _) = stack.roster_students(&setup, 6, 6).await.expect("students");
    let queued = students.iter().map(|s| async {
        let no = stack.paid_order(&s.session, &setup.campaign_id).await.expect("order");
        stack.upload_photo(&s.session, &no, astronaut()).await.expect("upload");
        stack.submit_photo(&s.session, &no, 240).await.expect("in review");
    });
    futures::future::join_all(queued).await;
    let reviewer = stack.staff(&setup.operator, &["reviewer"], &[&setup.school_id]).await.expect("reviewer");
    let claim = format!("/v1/review/campaigns/{}/claims", setup.campaign_id);
    let live_leases = || async {
        let tasks = stack.db().query(&format!("REVIEWQ#{}", setup.campaign_id), "TASK#").await.expect("tasks");
        let now_ms = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
        tasks
            .iter()
            .filter(|i| i["lease_by"] == reviewer.user_id.as_str())
            .filter(|i| i["lease_until"].as_i64() > Some(now_ms))
            .count()
    };
    let mut seen: Vec<String> = Vec::new();
    for _ in 0..3 {
        let body = json!({"except": seen});
        let round = (0..10).map(|_| stack.post(&claim, Some(&reviewer), &body));
        for r in futures::future::join_all(round).await {
            let r = r.expect("claim");
            match r.status {
                StatusCode::OK => {
                    let task = r.body["task_id"].as_str().expect("task").to_owned();
                    if !seen.contains(&task) {
                        seen.push(task);
                    }
                }
                StatusCode::CONFLICT => assert_eq!(r.error_code(), "holding_too_many", "{}", r.body),
                other => panic!("claim answered {other}: {}", r.body),
            }
        }
        let held = live_leases().await;
        assert!(held <= 3, "{held} tasks held at once by one reviewer");
    }
    assert_eq!((seen.len(), live_leases().await), (3, 3), "the reviewer holds three tasks: {seen:?}");
    let more = stack.post(&claim, Some(&reviewer), &json!({"except": seen})).await.expect("claim");
    assert_eq!((more.status, more.error_code()), (StatusCode::CONFLICT, "holding_too_many"), "{}", more.body);
}
