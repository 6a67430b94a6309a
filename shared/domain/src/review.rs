//! Review: a photo that passed the automatic checks waits as a task for a reviewer, who claims
//! it under a short lease; only the lease holder may decide it, and the decision moves the
//! order in the same write that ends the task ([`crate::order::Also::DecideTask`]).

use serde::{Deserialize, Serialize};

use crate::order::OutTradeNo;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewTask {
    pub task_id: String,
    pub campaign_id: String,
    pub out_trade_no: OutTradeNo,
    pub attempt: u32,
    /// Where the attempt's results are in the results bucket.
    pub result_prefix: String,
    /// Where the original upload is in the uploads bucket.
    pub upload_key: String,
    /// Which version of `upload_key` the attempt took (the one standardized): reviewers are
    /// shown that one, never a later write to the key. `None` for tasks queued before the
    /// uploads bucket was versioned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_version: Option<String>,
    pub queued_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_until: Option<i64>,
    /// The holder's hold slot covering the lease (see the review store).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_slot: Option<u32>,
}

impl ReviewTask {
    pub fn new(
        campaign_id: &str,
        no: &OutTradeNo,
        attempt: u32,
        result_prefix: String,
        upload_key: String,
        upload_version: Option<String>,
        now_ms: i64,
    ) -> Self {
        Self {
            task_id: format!("{now_ms:013}-{no}"),
            campaign_id: campaign_id.to_owned(),
            out_trade_no: no.clone(),
            attempt,
            result_prefix,
            upload_key,
            upload_version,
            queued_at: now_ms,
            lease_by: None,
            lease_until: None,
            lease_slot: None,
        }
    }

    /// `who` holds a live lease on it: the only one who may decide it.
    pub fn held_by(&self, who: &str, now_ms: i64) -> bool {
        self.lease_by.as_deref() == Some(who) && self.lease_until.is_some_and(|u| u > now_ms)
    }

    /// Nobody holds a live lease on it.
    pub fn is_free(&self, now_ms: i64) -> bool {
        self.lease_until.is_none_or(|u| u <= now_ms)
    }
}

/// The most tasks of one campaign a reviewer holds at once: the photo on screen, the next
/// one claimed ahead, and one whose decision is still on its way.
pub const MAX_HELD: usize = 3;

/// What a claim gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claimed {
    Task(Box<ReviewTask>),
    /// Nothing waiting that the reviewer may take.
    Empty,
    /// The reviewer holds [`MAX_HELD`] tasks already: decide or release one first.
    HoldingTooMany,
}

/// One line of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: i64,
    pub actor: String,
    /// `viewed_photos`, `approved`, `rejected`, `sent_back`, `looked_up`, …
    pub action: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_ids_sort_by_age_and_leases_expire() {
        let no = OutTradeNo::parse("YZ0123456789abcdef01234567").expect("no");
        let a = ReviewTask::new("c", &no, 1, "p".into(), "k".into(), Some("v1".into()), 999);
        let b = ReviewTask::new("c", &no, 1, "p".into(), "k".into(), None, 1_000);
        assert!(a.task_id < b.task_id, "older first: {} {}", a.task_id, b.task_id);
        let held = ReviewTask { lease_by: Some("r1".into()), lease_until: Some(5_000), ..a };
        assert!(held.held_by("r1", 4_999) && !held.held_by("r2", 4_999));
        assert!(!held.is_free(4_999) && held.is_free(5_000) && !held.held_by("r1", 5_000));
    }
}
