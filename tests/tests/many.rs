//! The deadline evening in small: many students of one school through the whole journey at
//! once (log in, verify, pay, upload, standardize, review), and not one order lost or stuck.

use serde_json::json;
use yunzhao_e2e::{Stack, astronaut};

const STUDENTS: usize = 50;

#[tokio::test]
async fn fifty_students_at_once_all_end_approved_and_exported() {
    let stack = Stack::from_env().await.expect("the local stack's environment (run `make test`)");
    let setup = stack.school_with_campaign("name_id_number").await.expect("setup");
    let reviewer = stack.staff(&setup.operator, &["reviewer"], &[&setup.school_id]).await.expect("reviewer");
    let (students, _) = stack.roster_students(&setup, STUDENTS, STUDENTS).await.expect("roster");
    let orders = futures::future::try_join_all(students.iter().map(|s| {
        let (stack, cid) = (&stack, &setup.campaign_id);
        async move {
            let no = stack.paid_order(&s.session, cid).await?;
            stack.upload_photo(&s.session, &no, astronaut()).await?;
            stack.submit_photo(&s.session, &no, 600).await?;
            anyhow::Ok(no)
        }
    }))
    .await
    .expect("every student pays, uploads and submits");
    // Two reviewers work the queue side by side until every photo is decided (or nothing
    // has arrived for two minutes).
    let total = std::sync::atomic::AtomicUsize::new(0);
    let work = |reviewer: yunzhao_e2e::Session| {
        let (stack, cid, total) = (&stack, setup.campaign_id.clone(), &total);
        async move {
            let (mut decided, mut idle) = (0, 0);
            while total.load(std::sync::atomic::Ordering::SeqCst) < STUDENTS && idle < 240 {
                match stack.review_next(&reviewer, &cid, &json!({"decision": "approve"})).await {
                    Ok(reply) if reply.status.is_success() => {
                        decided += 1;
                        idle = 0;
                        total.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                    _ => {
                        idle += 1;
                        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                    }
                }
            }
            decided
        }
    };
    let second = stack.staff(&setup.operator, &["reviewer"], &[&setup.school_id]).await.expect("reviewer");
    let (a, b) = tokio::join!(work(reviewer), work(second));
    assert_eq!(a + b, STUDENTS, "each photo decided once ({a} + {b})");
    for (s, no) in students.iter().zip(&orders) {
        let shown = stack.get(&format!("/v1/orders/{no}"), Some(&s.session)).await.expect("order");
        assert_eq!(shown.body["order"]["state"], "approved", "{no}: {}", shown.body);
        assert_eq!(stack.order_items(no, "PAYMENT#").await.expect("payments").len(), 1, "{no} paid once");
    }
    let export = stack.export(&setup.admin, &setup.campaign_id, false).await.expect("export");
    assert_eq!(
        (export["export"]["photos"].as_u64(), export["export"]["missing"].as_u64()),
        (Some(STUDENTS as u64), Some(0))
    );
    let campaign =
        stack.get(&format!("/v1/admin/campaigns/{}", setup.campaign_id), Some(&setup.admin)).await.expect("campaign");
    assert_eq!(campaign.body["progress"]["paid"], STUDENTS, "{}", campaign.body);
}
