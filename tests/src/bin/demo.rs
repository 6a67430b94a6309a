//! `make demo`: the whole journey on the local stack. An operator sets up a school and its
//! admin, the admin creates a campaign and imports a roster; a simulated student logs in
//! through the HTTP API, verifies against the roster, pays (WeChat Pay played by the fake, with
//! real signatures and a real encrypted notification) and uploads a real photo through the
//! presigned POST; the photo is standardized, a reviewer approves it, and the school's export
//! is built. It prints where the standard photo and the export are, then sets up photos
//! waiting in review and prints the console's address with a sign-in link for each role.

use anyhow::{Context, ensure};
use serde_json::json;
use yunzhao_e2e::{Stack, astronaut, id_number, seed, unique};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let stack = Stack::from_env().await?;
    println!("API: {}\n", stack.api);

    let operator = stack.bootstrap_operator().await.context("operator")?;
    let school_id = stack.create_school(&operator, "云照示范大学").await?;
    let admin = stack.school_admin(&operator, &school_id).await?;
    println!("1. operator created school {school_id} and its admin {}", admin.user_id);

    let campaign_id = stack.open_campaign(&admin, &school_id, "name_id_number").await?;
    println!("2. admin created campaign {campaign_id} (CHSI 480×640, 30.00 yuan, name + ID number)");

    let id = id_number(unique());
    let roster = format!(
        "\u{feff}姓名,身份证号,学号,院系\n张三,{id},2022001,计算机学院\n李四,{},2022002,数学学院\n",
        id_number(unique() + 1)
    );
    let import = stack.import_roster(&admin, &campaign_id, roster.into_bytes()).await?;
    ensure!(import.status.is_success(), "import: {} {}", import.status, import.body);
    println!("3. admin imported a roster: {}", import.body["report"]);

    let student = stack.log_in(None).await.context("student login")?;
    println!("4. student logged in through POST /v1/session: user {}", student.user_id);

    let verified = stack
        .post(
            "/v1/identity/verify",
            Some(&student),
            &json!({"campaign_id": campaign_id, "name": "张三", "id_number": id}),
        )
        .await?;
    ensure!(verified.status.is_success(), "verify: {} {}", verified.status, verified.body);
    println!("5. student verified as {}", verified.body["entry"]);

    let campaigns = stack.get("/v1/campaigns", Some(&student)).await?;
    println!("6. GET /v1/campaigns: {}", campaigns.body["campaigns"]);

    let order = stack.post("/v1/orders", Some(&student), &json!({ "campaign_id": campaign_id })).await?;
    ensure!(order.status.is_success(), "order: {} {}", order.status, order.body);
    let no = order.body["order"]["order_id"].as_str().context("order id")?.to_owned();
    println!("7. order {no} created; wx.requestPayment parameters: {}", order.body["payment"]);

    let paid = stack.wx_pay(&no, true).await?;
    println!(
        "8. student paid in WeChat; WeChat Pay's signed, encrypted notification answered {}",
        paid["delivery"]["status"]
    );
    let history = stack.get(&format!("/v1/orders/{no}/history"), Some(&student)).await?;
    ensure!(history.body["order"]["state"] == "paid", "order not paid: {}", history.body);
    println!("9. order state {}; history: {}", history.body["order"]["state"], history.body["history"]);

    let attempt = stack.upload_photo(&student, &no, astronaut()).await.context("upload")?;
    println!("10. the phone POSTed the photo to S3 with the presigned form (attempt {attempt})");

    // Standardized photos go to review; one failing a check would come back as retake_required.
    stack.submit_photo(&student, &no, 120).await.context("the photo was not accepted")?;
    let results = std::env::var("RESULTS_BUCKET_NAME").context("RESULTS_BUCKET_NAME")?;
    let order_no = yunzhao_domain::order::OutTradeNo::parse(&no).ok().context("order id")?;
    let prefix = yunzhao_domain::objects::attempt_results(&order_no, u32::try_from(attempt)?);
    println!("11. standardized and sent to review; the standard photo is s3://{results}/{prefix}/standard.jpg");
    println!(
        "    report: s3://{results}/{prefix}/report.json (local endpoint {})",
        std::env::var("AWS_ENDPOINT_URL").unwrap_or_default()
    );

    let reviewer = stack.staff(&operator, &["reviewer"], &[&school_id]).await.context("reviewer")?;
    let queue = stack.get(&format!("/v1/review/campaigns/{campaign_id}/queue"), Some(&reviewer)).await?;
    println!("12. review queue: {} waiting, oldest {} s", queue.body["waiting"], queue.body["oldest_age_seconds"]);
    let decided = stack.review_next(&reviewer, &campaign_id, &json!({"decision": "approve"})).await?;
    ensure!(decided.body["state"] == "approved", "review: {} {}", decided.status, decided.body);
    println!("13. reviewer {} claimed the photo, looked at it (audited) and approved it", reviewer.user_id);

    let export = stack.export(&admin, &campaign_id, false).await.context("export")?;
    let e = &export["export"];
    println!(
        "14. export built: {} photo(s), {} student(s) without one, sha256 {}",
        e["photos"],
        e["missing"],
        e["sha256"].as_str().unwrap_or_default()
    );
    println!("    the export is s3://{results}/{}", e["object_key"].as_str().unwrap_or_default());
    println!("    the school admin's 15-minute download link: {}", export["download_url"].as_str().unwrap_or_default());

    // The console, over data a person can work on: photos waiting in two schools.
    let console = seed::console(&stack, 3).await.context("console data")?;
    println!(
        "\n15. the staff console: {}/  (WeChat's QR page is the fake's: type any test unionid and confirm)",
        stack.api
    );
    println!("    operator: open {}/v1/staff/sign-in and scan as unionid {}", stack.api, stack.first_operator);
    for (role, link) in console["invitations"].as_object().into_iter().flatten() {
        println!(
            "    {role:<17} (one-time invitation, then sign in again with the same unionid): {}",
            link.as_str().unwrap_or_default()
        );
    }
    println!(
        "    photos waiting: {} in {}, {} in {}",
        console["students"]["a"].as_array().map_or(0, Vec::len),
        console["schools"]["a"]["name"],
        console["students"]["b"].as_array().map_or(0, Vec::len),
        console["schools"]["b"]["name"]
    );
    println!("    the stack stays up for the console; `make down` stops it.");
    Ok(())
}
