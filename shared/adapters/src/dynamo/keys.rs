//! Every key of the single table, in one place: the stores build their keys here, and so does
//! the test harness. `PK`/`SK` are strings; `GSI1` and `GSI2` are overloaded per entity.
//!
//! | item | PK | SK | GSI1 (PK / SK) | GSI2 (PK / SK) |
//! |---|---|---|---|---|
//! | user | `USER#<user>` | `PROFILE` | | |
//! | openid → user | `OPENID#<openid>` | `OPENID` | | |
//! | school | `SCHOOL#<id>` | `PROFILE` | `SCHOOLS` / `SCHOOL#<id>` | |
//! | campaign, its counters | `CAMPAIGN#<id>` | `PROFILE` | `SCHOOL#<school>` / `CAMPAIGN#<id>` | `OPEN_CAMPAIGNS` / `<closes_at>#<id>` |
//! | campaign's public code → campaign | `CAMPAIGNCODE#<code>` | `CODE` | | |
//! | roster entry | `CAMPAIGN#<c>` | `ENTRY#<hash>` | | |
//! | roster pointers (考生号, 采集码, 学号) | `CAMPAIGN#<c>` | `EXAMNO#<hash>`, `CODE#<hash>`, `STUNO#<hash>` | | |
//! | roster import report | `CAMPAIGN#<c>` | `IMPORT#<id>` | | |
//! | export, its lock | `CAMPAIGN#<c>` | `EXPORT#<id>`, `EXPORTING` | | |
//! | binding (enrollment) | `USER#<user>` | `ENROLL#<campaign>` | | |
//! | privacy agreement accepted | `USER#<user>` | `CONSENT#<campaign>#<version>` | | |
//! | order | `ORDER#<no>` | `ORDER` | `USER#<user>` / `ORDER#<created>#<no>` | `ORDERS#<campaign>` / `ORDER#<no>` |
//! | order history line | `ORDER#<no>` | `HIST#<millis>#<rand>` | | |
//! | payment | `ORDER#<no>` | `PAYMENT#<transaction>` | `TXN#<transaction>` / `ORDER#<no>` | |
//! | upload attempt | `ORDER#<no>` | `ATTEMPT#<nnnn>` | | |
//! | audit line | `ORDER#<no>` or `CAMPAIGN#<c>` | `AUDIT#<millis>#<rand>` | | |
//! | live order pointer | `USER#<user>` | `ORDER#<campaign>` | | |
//! | payment anomaly | `ANOMALY` | `<millis>#<no>` | | |
//! | review task | `REVIEWQ#<campaign>` | `TASK#<task>` | `REVIEW_TASKS` / `<queued_at>#<campaign>#<no>` | |
//! | reviewer's hold slot | `REVIEWQ#<campaign>` | `HOLD#<reviewer>#<k>` | | |
//! | staff member | `STAFF#<id>` | `ACCOUNT` | `STAFF_DIRECTORY` / `STAFF#<id>` | |
//! | unionid → member | `UNIONID#<unionid>` | `UNIONID` | | |
//! | invitation | `INVITE#<id>` | `INVITE` | `STAFF_DIRECTORY` / `INVITE#<created>#<id>` | |
//! | staff session | `STAFFSESSION#<sha256>` | `SESSION` | | |
//! | rate window | `RATE#<scope>` | `W#<window start>` | | |
//! | idempotency record | `IDEMP#<key>` | `IDEMP` | | |
//!
//! Access patterns: a student's orders (GSI1 `USER#`), a campaign's orders (GSI2 `ORDERS#`),
//! an order by WeChat Pay transaction (GSI1 `TXN#`), a school's campaigns (GSI1 `SCHOOL#`),
//! campaigns still to close (GSI2 `OPEN_CAMPAIGNS`), every waiting review task (GSI1
//! `REVIEW_TASKS`), staff and invitations (GSI1 `STAFF_DIRECTORY`), the schools (GSI1
//! `SCHOOLS`); everything else is a get or a query within one partition.
//!
//! Each function may touch only its own partitions: [`FUNCTION_PARTITIONS`] says which, and a
//! test holds it to the `dynamodb:LeadingKeys` of the function's role in `infra/template.yaml`.

use std::fmt::Display;

pub const PROFILE: &str = "PROFILE";
pub const ORDER: &str = "ORDER";

pub fn user(id: impl Display) -> String {
    format!("USER#{id}")
}

pub fn openid(openid: impl Display) -> String {
    format!("OPENID#{openid}")
}

pub fn school(id: impl Display) -> String {
    format!("SCHOOL#{id}")
}

pub fn campaign(id: impl Display) -> String {
    format!("CAMPAIGN#{id}")
}

/// A campaign's public code (`CAMPAIGNCODE#<code>`/`CODE`: which campaign it names).
pub fn campaign_code(code: impl Display) -> String {
    format!("CAMPAIGNCODE#{code}")
}

/// A roster entry's SK (by the keyed hash of campaign and ID number).
pub fn entry(id: impl Display) -> String {
    format!("ENTRY#{id}")
}

/// A user's binding in a campaign: SK under `USER#<user>`.
pub fn enrollment(campaign_id: impl Display) -> String {
    format!("ENROLL#{campaign_id}")
}

/// A user's acceptance of a version of a campaign's privacy agreement: SK under `USER#<user>`.
pub fn consent(campaign_id: impl Display, version: impl Display) -> String {
    format!("CONSENT#{campaign_id}#{version}")
}

pub fn import(id: impl Display) -> String {
    format!("IMPORT#{id}")
}

pub fn export(id: impl Display) -> String {
    format!("EXPORT#{id}")
}

pub fn order(no: impl Display) -> String {
    format!("ORDER#{no}")
}

/// The student's live order in a campaign: SK under `USER#<user>`.
pub fn live_order(campaign_id: impl Display) -> String {
    format!("ORDER#{campaign_id}")
}

/// GSI2PK of a campaign's orders.
pub fn campaign_orders(campaign_id: impl Display) -> String {
    format!("ORDERS#{campaign_id}")
}

pub fn payment(transaction_id: impl Display) -> String {
    format!("PAYMENT#{transaction_id}")
}

/// GSI1PK finding an order by the transaction id a student reads off WeChat.
pub fn transaction(transaction_id: impl Display) -> String {
    format!("TXN#{transaction_id}")
}

pub fn attempt(n: u32) -> String {
    format!("ATTEMPT#{n:04}")
}

pub fn review_queue(campaign_id: impl Display) -> String {
    format!("REVIEWQ#{campaign_id}")
}

pub fn task(task_id: impl Display) -> String {
    format!("TASK#{task_id}")
}

/// A reviewer's hold slot `k` in a campaign's queue (SK), and the prefix of all their slots.
pub fn hold(reviewer: impl Display, slot: u32) -> String {
    format!("HOLD#{reviewer}#{slot}")
}

pub fn holds_of(reviewer: impl Display) -> String {
    format!("HOLD#{reviewer}#")
}

/// An order's history line (SK): by time, with a random tail so two lines never collide.
pub fn history(at_ms: i64, rand: &str) -> String {
    format!("HIST#{at_ms:015}#{rand}")
}

/// An audit line (SK, under an order or a campaign).
pub fn audit(at_ms: i64, rand: &str) -> String {
    format!("AUDIT#{at_ms:015}#{rand}")
}

/// GSI1SK of an order among a student's orders: by creation (seconds).
pub fn order_by_created(created_at: i64, no: impl Display) -> String {
    format!("ORDER#{created_at:012}#{no}")
}

/// GSI1SK of an invitation in the staff directory: by creation.
pub fn invitation_by_created(created_at_ms: i64, id: impl Display) -> String {
    format!("INVITE#{created_at_ms:013}#{id}")
}

/// A rate window's SK: its start.
pub fn window(start: impl Display) -> String {
    format!("W#{start}")
}

pub fn staff(id: impl Display) -> String {
    format!("STAFF#{id}")
}

pub fn unionid(unionid: impl Display) -> String {
    format!("UNIONID#{unionid}")
}

pub fn invitation(id: impl Display) -> String {
    format!("INVITE#{id}")
}

pub fn staff_session(token_sha256: impl Display) -> String {
    format!("STAFFSESSION#{token_sha256}")
}

pub fn rate(scope: impl Display) -> String {
    format!("RATE#{scope}")
}

pub fn idempotency(key: impl Display) -> String {
    format!("IDEMP#{key}")
}

/// The partitions (PK prefixes, or whole keys of the index-only partitions) each function's
/// role may touch, by the template's resource name.
pub const FUNCTION_PARTITIONS: &[(&str, &[&str])] = &[
    ("LoginFunction", &["USER#", "OPENID#"]),
    ("StaffFunction", &["STAFF#", "UNIONID#", "STAFFSESSION#", "INVITE#", "STAFF_DIRECTORY", "SCHOOL#"]),
    ("IdentityFunction", &["CAMPAIGN#", "USER#", "RATE#verify#", "RATE#verify-src#", "SCHOOL#", "CAMPAIGNCODE#"]),
    (
        "AdminFunction",
        &["CAMPAIGN#", "SCHOOL#", "SCHOOLS", "ORDERS#", "RATE#export#", "STAFF#", "STAFFSESSION#", "CAMPAIGNCODE#"],
    ),
    ("OrdersFunction", &["ORDER#", "USER#", "CAMPAIGN#", "ANOMALY", "REVIEWQ#", "STAFF#", "STAFFSESSION#"]),
    ("PaymentWebhookFunction", &["ORDER#", "CAMPAIGN#", "ANOMALY"]),
    ("UploadPresignFunction", &["ORDER#", "USER#", "CAMPAIGN#"]),
    ("StandardizeFunction", &["ORDER#", "CAMPAIGN#", "IDEMP#"]),
    (
        "ReviewFunction",
        &["REVIEWQ#", "REVIEW_TASKS", "ORDER#", "CAMPAIGN#", "SCHOOL#", "USER#", "STAFF#", "STAFFSESSION#"],
    ),
    (
        "CustomerServiceFunction",
        &[
            "ORDER#",
            "ORDERS#",
            "TXN#",
            "USER#",
            "CAMPAIGN#",
            "OPEN_CAMPAIGNS",
            "REVIEWQ#",
            "ANOMALY",
            "STAFF#",
            "STAFFSESSION#",
        ],
    ),
    ("ExportFunction", &["CAMPAIGN#", "ORDERS#"]),
    ("CloseDeadlinesFunction", &["CAMPAIGN#", "OPEN_CAMPAIGNS", "ORDER#", "ORDERS#", "ANOMALY"]),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// `dynamodb:LeadingKeys` of each function in the template, as (function, patterns).
    fn leading_keys() -> Vec<(String, Vec<String>)> {
        let template = include_str!("../../../../infra/template.yaml");
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        let mut function: Option<String> = None;
        for line in template.lines() {
            // A resource: two spaces of indent, a name, a colon, nothing after.
            if line.len() > 3 && line.starts_with("  ") && !line.starts_with("   ") && line.trim_end().ends_with(':') {
                function = Some(line.trim().trim_end_matches(':').to_owned());
            }
            let Some(list) = line.trim().strip_prefix("\"dynamodb:LeadingKeys\":") else { continue };
            let patterns = list
                .trim()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .split(',')
                .map(|p| p.trim().trim_matches('"').trim_end_matches('*').to_owned());
            let name = function.clone().expect("LeadingKeys outside a resource");
            match out.iter_mut().find(|(f, _)| *f == name) {
                Some((_, all)) => all.extend(patterns),
                None => out.push((name, patterns.collect())),
            }
        }
        out
    }

    /// Every partition this module knows: what a key function here starts with, and the
    /// index-only partitions.
    fn known(prefix: &str) -> bool {
        let made = [
            user(""),
            openid(""),
            school(""),
            campaign(""),
            campaign_code(""),
            order(""),
            campaign_orders(""),
            transaction(""),
            review_queue(""),
            staff(""),
            unionid(""),
            invitation(""),
            staff_session(""),
            rate(""),
            idempotency(""),
        ];
        let whole = ["SCHOOLS", "STAFF_DIRECTORY", "REVIEW_TASKS", "OPEN_CAMPAIGNS", "ANOMALY"];
        made.iter().any(|m| prefix.starts_with(m.as_str())) || whole.contains(&prefix)
    }

    #[test]
    fn every_leading_key_of_the_template_is_a_partition_of_this_table() {
        let all = leading_keys();
        assert_eq!(all.len(), FUNCTION_PARTITIONS.len(), "every function with a table role is listed here: {all:?}");
        for (function, patterns) in &all {
            for p in patterns {
                assert!(known(p), "{function}: LeadingKeys {p:?} is no partition of keys.rs");
            }
        }
    }

    #[test]
    fn each_function_is_granted_exactly_the_partitions_it_touches() {
        let all = leading_keys();
        for (function, wanted) in FUNCTION_PARTITIONS {
            let (_, granted) = all
                .iter()
                .find(|(f, _)| f == function)
                .unwrap_or_else(|| panic!("{function} has no LeadingKeys in the template"));
            let mut wanted: Vec<&str> = wanted.to_vec();
            let mut granted: Vec<&str> = granted.iter().map(String::as_str).collect();
            wanted.sort_unstable();
            granted.sort_unstable();
            granted.dedup();
            assert_eq!(granted, wanted, "{function}");
        }
    }

    #[test]
    fn keys_have_their_documented_shapes() {
        assert_eq!(attempt(7), "ATTEMPT#0007");
        assert_eq!(live_order("c1"), order("c1"), "the live pointer shares the ORDER# shape, under USER#");
        assert_eq!(rate("verify#u1"), "RATE#verify#u1");
    }
}
