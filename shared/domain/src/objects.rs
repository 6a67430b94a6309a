//! Where things are in the two buckets, built (and an upload's key read back) in one place:
//!
//! | object | bucket | key |
//! |---|---|---|
//! | a student's upload for an attempt | uploads (versioned) | `photos/<campaign>/<out_trade_no>/a<nnnn>` |
//! | an ID-card photo | uploads | `identity/<campaign>/<user>/<front\|back>` |
//! | a roster file | uploads | `rosters/<campaign>/<import_id>` |
//! | an attempt's results | results | `attempts/<out_trade_no>/a<nnnn>/{standard.jpg, preview.jpg, cutout.png, report.json}` |
//! | an export's archive | results | `exports/<campaign>/<export_id>.zip` |

use std::fmt::Display;

use crate::order::OutTradeNo;

/// Where a student posts the photo of an attempt.
pub fn upload(campaign_id: impl Display, no: &OutTradeNo, attempt: u32) -> String {
    format!("photos/{campaign_id}/{no}/a{attempt:04}")
}

/// The order and attempt of an upload's key; `None` for any other key.
pub fn parse_upload(key: &str) -> Option<(OutTradeNo, u32)> {
    let mut parts = key.split('/');
    let (prefix, _campaign, no, attempt) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if prefix != "photos" || parts.next().is_some() {
        return None;
    }
    Some((OutTradeNo::parse(no).ok()?, attempt.strip_prefix('a')?.parse().ok()?))
}

pub fn card_photo(campaign_id: impl Display, user: impl Display, side: &str) -> String {
    format!("identity/{campaign_id}/{user}/{side}")
}

pub fn roster_file(campaign_id: impl Display, import_id: impl Display) -> String {
    format!("rosters/{campaign_id}/{import_id}")
}

pub fn export_archive(campaign_id: impl Display, export_id: impl Display) -> String {
    format!("exports/{campaign_id}/{export_id}.zip")
}

/// An attempt's results: its prefix (what the order records as `result_prefix`) and files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Results<'a>(&'a str);

/// The prefix of an attempt's results.
pub fn attempt_results(no: &OutTradeNo, attempt: u32) -> String {
    format!("attempts/{no}/a{attempt:04}")
}

/// The attempt whose results are at `prefix` (an [`attempt_results`] prefix).
pub fn results_attempt(prefix: &str) -> Option<u32> {
    prefix.rsplit('/').next()?.strip_prefix('a')?.parse().ok()
}

impl<'a> Results<'a> {
    /// The results under a recorded prefix.
    pub fn at(prefix: &'a str) -> Self {
        Self(prefix)
    }

    pub fn standard(self) -> String {
        format!("{}/standard.jpg", self.0)
    }

    pub fn preview(self) -> String {
        format!("{}/preview.jpg", self.0)
    }

    pub fn cutout(self) -> String {
        format!("{}/cutout.png", self.0)
    }

    pub fn report(self) -> String {
        format!("{}/report.json", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upload_key_reads_back_as_its_order_and_attempt_and_nothing_else_does() {
        let no = OutTradeNo::parse("YZ0123456789ABCDEF01234567").expect("no");
        assert_eq!(parse_upload(&upload("c_1", &no, 3)), Some((no.clone(), 3)));
        for other in
            ["photos/c_1/YZ0123456789ABCDEF01234567", "photos/c/x/a1/extra", "rosters/c/1/a1", "photos/c/YZ01/b1", ""]
        {
            assert!(parse_upload(other).is_none(), "{other}");
        }
    }

    #[test]
    fn results_sit_under_the_attempt_prefix() {
        let no = OutTradeNo::parse("YZ0123456789ABCDEF01234567").expect("no");
        let prefix = attempt_results(&no, 12);
        assert_eq!(prefix, "attempts/YZ0123456789ABCDEF01234567/a0012");
        assert_eq!(Results::at(&prefix).standard(), format!("{prefix}/standard.jpg"));
        assert_eq!(Results::at(&prefix).report(), format!("{prefix}/report.json"));
        assert_eq!(results_attempt(&prefix), Some(12));
        assert_eq!(results_attempt("attempts/YZ01/b1"), None);
    }
}
