//! Exports: the approved photos of a campaign, with the school's lists, built into one
//! archive. An export takes the photos approved after its `since` (0: all; the final export
//! after the deadline), and lists every roster line without one and where that student stands.

use serde::{Deserialize, Serialize};

use crate::objects;
use crate::order::{self, ForExport, Order, OutTradeNo, Stage};

/// The export id of the one built when a campaign closes.
pub const FINAL: &str = "final";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportStatus {
    Building,
    Ready,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Export {
    pub export_id: String,
    pub campaign_id: String,
    pub status: ExportStatus,
    pub requested_by: String,
    pub requested_at: i64,
    /// Only photos approved after this (millis; 0 = all): an incremental export.
    pub since: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default)]
    pub photos: usize,
    #[serde(default)]
    pub missing: usize,
    #[serde(default)]
    pub bytes: u64,
    /// The latest approval included (millis): where the next incremental export starts.
    #[serde(default)]
    pub approved_until: i64,
}

impl Export {
    /// A new request, still to be built: photos approved after `since` (millis; 0 = all).
    pub fn requested(campaign_id: &str, export_id: &str, by: &str, at_ms: i64, since: i64) -> Self {
        Self {
            export_id: export_id.to_owned(),
            campaign_id: campaign_id.to_owned(),
            status: ExportStatus::Building,
            requested_by: by.to_owned(),
            requested_at: at_ms,
            since,
            object_key: None,
            sha256: None,
            photos: 0,
            missing: 0,
            bytes: 0,
            approved_until: 0,
        }
    }
}

/// A roster line whose approved photo goes into the export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selected<'e, E> {
    pub entry: &'e E,
    /// When it was approved (millis).
    pub approved_at: i64,
    /// The standard photo in the results bucket.
    pub photo_key: String,
}

/// What an export holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection<'e, E> {
    pub photos: Vec<Selected<'e, E>>,
    /// The roster lines without an approved photo, and where each student stands.
    pub missing: Vec<(&'e E, Stage)>,
    /// The latest approval the export covers (in it or in an earlier one): where the next
    /// incremental export starts.
    pub approved_until: i64,
}

/// An approved order without its results: a bug, never fixed by building again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("approved order {0} has no results")]
pub struct NoResults(pub OutTradeNo);

/// A roster line as an export reads it.
pub trait Line {
    /// Who is bound to it, if anyone.
    fn bound_user(&self) -> Option<&str>;
    /// Collected offline (已线下采集): listed with that status among those without an online
    /// photo, never as missing one.
    fn collected_offline(&self) -> bool;
}

/// Chooses, for each roster line, the photo it contributes to an export of the photos
/// approved after `since`: the campaign's orders decide, one per student
/// ([`order::counting_orders`]).
pub fn select<'e, E: Line>(
    entries: &'e [E],
    orders: impl IntoIterator<Item = Order>,
    since: i64,
) -> Result<Selection<'e, E>, NoResults> {
    let counting = order::counting_orders(orders);
    let mut selection = Selection { photos: Vec::new(), missing: Vec::new(), approved_until: since };
    for entry in entries {
        match order::for_export(entry.bound_user(), entry.collected_offline(), &counting, since) {
            ForExport::Photo { order, approved_at } => {
                let prefix = order.result_prefix.as_deref().ok_or_else(|| NoResults(order.out_trade_no.clone()))?;
                let photo_key = objects::Results::at(prefix).standard();
                selection.approved_until = selection.approved_until.max(approved_at);
                selection.photos.push(Selected { entry, approved_at, photo_key });
            }
            ForExport::Earlier { approved_at } => selection.approved_until = selection.approved_until.max(approved_at),
            ForExport::Missing(stage) => selection.missing.push((entry, stage)),
        }
    }
    Ok(selection)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::UserId;
    use crate::order::OrderState;

    /// A roster line: its name, the student bound to it, collected offline.
    #[derive(Debug, PartialEq)]
    struct Entry(&'static str, Option<UserId>, bool);

    impl Line for Entry {
        fn bound_user(&self) -> Option<&str> {
            self.1.as_ref().map(UserId::as_str)
        }
        fn collected_offline(&self) -> bool {
            self.2
        }
    }

    fn line(name: &'static str, bound: Option<UserId>) -> Entry {
        Entry(name, bound, false)
    }

    fn order_of(user: &UserId, state: OrderState, approved_at: Option<i64>) -> Order {
        let o = Order::unpaid(user.clone(), "oStudent0001", "c1", "s1", 2500, 0, 7200);
        let result_prefix = approved_at.map(|_| objects::attempt_results(&o.out_trade_no, 1));
        Order { state, approved_at, result_prefix, ..o }
    }

    #[test]
    fn the_photos_approved_since_go_in_and_the_others_are_listed_with_where_they_stand() {
        let (a, b, c, d) = (UserId::random(), UserId::random(), UserId::random(), UserId::random());
        let lines = [
            line("甲", Some(a.clone())),
            line("乙", Some(b.clone())),
            line("丙", Some(c.clone())),
            line("丁", None),
            line("戊", Some(d)),
        ];
        let approved = order_of(&a, OrderState::Approved, Some(5_000));
        let orders = [
            approved.clone(),
            order_of(&b, OrderState::Approved, Some(1_000)),
            order_of(&c, OrderState::InReview, None),
        ];
        let got = select(&lines, orders, 2_000).expect("selection");
        assert_eq!(got.photos.len(), 1);
        assert_eq!((got.photos[0].entry.0, got.photos[0].approved_at), ("甲", 5_000));
        assert_eq!(got.photos[0].photo_key, format!("attempts/{}/a0001/standard.jpg", approved.out_trade_no));
        let missing: Vec<_> = got.missing.iter().map(|(l, s)| (l.0, *s)).collect();
        assert_eq!(missing, [("丙", Stage::InReview), ("丁", Stage::NotVerified), ("戊", Stage::NoOrder)]);
        let offline = [Entry("己", None, true)];
        let listed = select(&offline, [], 0).expect("selection");
        assert_eq!(
            listed.missing.iter().map(|(l, s)| (l.0, *s)).collect::<Vec<_>>(),
            [("己", Stage::CollectedOffline)]
        );
        assert_eq!(got.approved_until, 5_000);
    }

    #[test]
    fn an_export_with_nothing_new_covers_up_to_the_latest_earlier_approval() {
        let a = UserId::random();
        let lines = [line("甲", Some(a.clone()))];
        let got = select(&lines, [order_of(&a, OrderState::Approved, Some(1_000))], 0).expect("selection");
        assert_eq!((got.photos.len(), got.approved_until), (1, 1_000));
        let again = select(&lines, [order_of(&a, OrderState::Approved, Some(1_000))], 1_000).expect("selection");
        assert_eq!((again.photos.len(), again.missing.len(), again.approved_until), (0, 0, 1_000));
    }

    #[test]
    fn an_approved_order_without_results_stops_the_export() {
        let a = UserId::random();
        let lines = [line("甲", Some(a.clone()))];
        let broken = Order { result_prefix: None, ..order_of(&a, OrderState::Approved, Some(1_000)) };
        let no = broken.out_trade_no.clone();
        assert_eq!(select(&lines, [broken], 0), Err(NoResults(no)));
    }
}
