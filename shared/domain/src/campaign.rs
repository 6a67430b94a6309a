//! Collection campaigns: who collects (a school), for what (a photo spec), when (a window in
//! Asia/Shanghai time), for how much, and how students prove who they are.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// China Standard Time; Asia/Shanghai has had no daylight saving since 1991.
pub const SHANGHAI: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignKind {
    Graduation,
    Degree,
    NewStudent,
    Other,
}

/// How a student proves who they are in a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityMode {
    /// Name + resident ID number.
    NameIdNumber,
    /// 考生号: student number (or 准考证号) followed by the last 4 characters of the ID number.
    ExamNumber,
    /// A CHSI 图像采集码 imported with the roster.
    CollectionCode,
}

/// How exported files are named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NamingRule {
    IdNumber,
    ExamNumber,
    StudentNumber,
    CollectionCode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rgb(pub u8, pub u8, pub u8);

/// An inclusive range of pixels measured from the photo's top (or a width).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Band {
    pub min: u32,
    pub max: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    /// 学信网 graduation photo (教毕指〔2017〕99号).
    Chsi,
    /// 学位 (self-study degree) photo.
    Degree,
    NewStudent,
    /// Resident ID card (GA 461-2004).
    ResidentIdCard,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<Preset>,
    pub width_px: u32,
    pub height_px: u32,
    pub dpi: u32,
    pub background: Rgb,
    pub min_kb: u32,
    pub max_kb: u32,
    pub hairline_from_top: Band,
    pub eyes_from_top: Band,
    pub face_width: Band,
    pub naming: NamingRule,
}

impl PhotoSpec {
    pub fn preset(p: Preset) -> Self {
        let b = |min, max| Band { min, max };
        match p {
            Preset::Chsi => Self {
                preset: Some(p),
                width_px: 480,
                height_px: 640,
                dpi: 300,
                background: Rgb(100, 197, 255),
                min_kb: 20,
                max_kb: 40,
                hairline_from_top: b(50, 110),
                eyes_from_top: b(200, 300),
                face_width: b(180, 300),
                naming: NamingRule::IdNumber,
            },
            // CHSI's geometry scaled to 150 px wide.
            Preset::Degree => Self {
                preset: Some(p),
                width_px: 150,
                height_px: 210,
                dpi: 300,
                background: Rgb(100, 197, 255),
                min_kb: 2,
                max_kb: 10,
                hairline_from_top: b(16, 34),
                eyes_from_top: b(66, 99),
                face_width: b(56, 94),
                naming: NamingRule::IdNumber,
            },
            Preset::NewStudent => Self {
                preset: Some(p),
                background: Rgb(255, 255, 255),
                min_kb: 50,
                max_kb: 100,
                naming: NamingRule::StudentNumber,
                ..Self::preset(Preset::Chsi)
            },
            Preset::ResidentIdCard => Self {
                preset: Some(p),
                width_px: 358,
                height_px: 441,
                dpi: 350,
                background: Rgb(255, 255, 255),
                min_kb: 10,
                max_kb: 60,
                hairline_from_top: b(7, 21),
                eyes_from_top: b(150, 230),
                face_width: b(193, 221),
                naming: NamingRule::IdNumber,
            },
        }
    }

    /// Refuses specs no photo can meet.
    pub fn validate(&self) -> Result<(), CampaignError> {
        let bad = |why: &'static str| Err(CampaignError::InvalidSpec(why));
        if !(100..=2000).contains(&self.width_px) || !(100..=2000).contains(&self.height_px) {
            return bad("width and height must be 100–2000 px");
        }
        if !(72..=1200).contains(&self.dpi) {
            return bad("dpi must be 72–1200");
        }
        if self.min_kb == 0 || self.min_kb > self.max_kb || self.max_kb > 5000 {
            return bad("the KB range must be 1–5000 with min ≤ max");
        }
        for (band, limit, name) in [
            (self.hairline_from_top, self.height_px, "hairline band"),
            (self.eyes_from_top, self.height_px, "eye band"),
            (self.face_width, self.width_px, "face width band"),
        ] {
            if band.min > band.max || band.max > limit {
                return Err(CampaignError::InvalidSpecBand(name));
            }
        }
        if self.hairline_from_top.max >= self.eyes_from_top.min {
            return bad("the hairline must be above the eyes");
        }
        Ok(())
    }
}

/// When a campaign takes orders and uploads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    #[serde(with = "time::serde::rfc3339")]
    pub opens_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub closes_at: OffsetDateTime,
}

impl Window {
    pub fn new(opens_at: OffsetDateTime, closes_at: OffsetDateTime) -> Result<Self, CampaignError> {
        if closes_at <= opens_at {
            return Err(CampaignError::InvalidWindow);
        }
        Ok(Self { opens_at, closes_at })
    }

    pub fn contains(&self, t: OffsetDateTime) -> bool {
        self.opens_at <= t && t < self.closes_at
    }
}

/// Reads a wall-clock time in Asia/Shanghai as schools write it: `2022-04-05 24:00` is the end
/// of 5 April (6 April 00:00); RFC 3339 with an explicit offset is accepted too.
pub fn parse_shanghai_time(s: &str) -> Result<OffsetDateTime, CampaignError> {
    let s = s.trim();
    if let Ok(t) = OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339) {
        return Ok(t);
    }
    let (date, clock) = s.split_once([' ', 'T']).ok_or(CampaignError::InvalidTime)?;
    let date = Date::parse(date, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|_| CampaignError::InvalidTime)?;
    let (h, m) = clock.split_once(':').ok_or(CampaignError::InvalidTime)?;
    let (h, m): (u8, u8) =
        (h.parse().map_err(|_| CampaignError::InvalidTime)?, m.parse().map_err(|_| CampaignError::InvalidTime)?);
    let (date, h) = match (h, m) {
        (24, 0) => (date.next_day().ok_or(CampaignError::InvalidTime)?, 0),
        _ => (date, h),
    };
    let time = Time::from_hms(h, m, 0).map_err(|_| CampaignError::InvalidTime)?;
    Ok(PrimitiveDateTime::new(date, time).assume_offset(SHANGHAI))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CampaignError {
    #[error("the photo spec is not usable: {0}")]
    InvalidSpec(&'static str),
    #[error("the photo spec's {0} does not fit in the photo")]
    InvalidSpecBand(&'static str),
    #[error("the window must close after it opens")]
    InvalidWindow,
    #[error("times are written 2022-04-05 24:00 (Asia/Shanghai) or in RFC 3339")]
    InvalidTime,
    /// WeChat Pay refuses a total of 0: a campaign is paid, from 1 fen.
    #[error("the price must be between 1 and 100000 fen (WeChat Pay takes no payment of 0)")]
    InvalidPrice,
    #[error("the name must be 1–100 characters")]
    InvalidName,
    #[error("free checks must be between 1 and 50")]
    InvalidFreeChecks,
    #[error("the privacy agreement needs a short version (letters, digits, - . _) and an https link")]
    InvalidAgreement,
}

/// Where a campaign stands at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignStatus {
    NotYetOpen,
    Open,
    Closed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Campaign {
    pub id: String,
    pub school_id: String,
    pub name: String,
    pub kind: CampaignKind,
    pub spec: PhotoSpec,
    pub window: Window,
    pub price_fen: u32,
    pub identity_mode: IdentityMode,
    pub require_id_card_photos: bool,
    /// Students may take a submitted photo back out of review while no reviewer holds it
    /// (撤回审核); otherwise they ask customer service.
    #[serde(default)]
    pub allow_withdraw: bool,
    /// Free automatic checks per student (共N次免费提交检测机会): each upload takes one; a
    /// reviewer's rejection gives them all back.
    #[serde(default = "default_free_checks")]
    pub free_checks: u32,
    /// The privacy agreement (《用户隐私协议》) students accept before their ID number is
    /// checked; `None`: none asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privacy_agreement: Option<Agreement>,
    /// The short public code schools print (采集特征码, e.g. `zqxslh`) and the mini-program's
    /// QR code carries: a student finds the campaign by it before verifying. `None` on
    /// campaigns made before codes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Set by the deadline job; a closed campaign stays closed even if its window is edited.
    #[serde(default)]
    pub closed: bool,
}

/// A privacy agreement: the version a student accepts, and where they read it. A new version
/// asks every student again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agreement {
    pub version: String,
    pub url: String,
}

impl Agreement {
    /// A version is a short label (`2026-09`, `v3`); the text is an https page.
    pub fn is_valid(&self) -> bool {
        let v = self.version.as_str();
        v == v.trim()
            && (1..=32).contains(&v.len())
            && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
            && self.url.starts_with("https://")
            && self.url.len() <= 512
    }
}

/// A fresh public code: six lowercase letters (308 million of them; the store refuses a code
/// already taken).
pub fn new_code() -> String {
    uuid::Uuid::new_v4().as_bytes().iter().take(6).map(|b| char::from(b'a' + b % 26)).collect()
}

/// Whether `s` can be a public code (what a student types: letters and digits).
pub fn is_code(s: &str) -> bool {
    (4..=16).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// Checks a student gets unless the campaign says otherwise.
pub const DEFAULT_FREE_CHECKS: u32 = 10;

fn default_free_checks() -> u32 {
    DEFAULT_FREE_CHECKS
}

impl Campaign {
    pub fn status(&self, now: OffsetDateTime) -> CampaignStatus {
        if self.closed || now >= self.window.closes_at {
            CampaignStatus::Closed
        } else if now < self.window.opens_at {
            CampaignStatus::NotYetOpen
        } else {
            CampaignStatus::Open
        }
    }

    pub fn validate(&self) -> Result<(), CampaignError> {
        let name_len = self.name.trim().chars().count();
        if name_len == 0 || name_len > 100 {
            return Err(CampaignError::InvalidName);
        }
        if !(1..=100_000).contains(&self.price_fen) {
            return Err(CampaignError::InvalidPrice);
        }
        if !(1..=crate::upload::MAX_ATTEMPTS).contains(&self.free_checks) {
            return Err(CampaignError::InvalidFreeChecks);
        }
        if self.privacy_agreement.as_ref().is_some_and(|a| !a.is_valid()) {
            return Err(CampaignError::InvalidAgreement);
        }
        self.spec.validate()?;
        Window::new(self.window.opens_at, self.window.closes_at).map(|_| ())
    }
}

/// Port: the campaigns students act in (read only).
pub trait Campaigns: Send + Sync {
    fn campaign(
        &self,
        id: &str,
    ) -> impl std::future::Future<Output = Result<Option<Campaign>, crate::StoreError>> + Send;
}

#[cfg(any(test, feature = "memory"))]
pub mod memory {
    //! Campaigns in memory.

    use super::*;

    /// One campaign `c1` of school `s1` (CHSI spec, 25.00 yuan, name + ID number), open from
    /// the Unix epoch for a year; change its fields for other cases.
    pub fn campaign() -> Campaign {
        let opens = OffsetDateTime::UNIX_EPOCH;
        Campaign {
            id: "c1".into(),
            school_id: "s1".into(),
            name: "2027届毕业生图像采集".into(),
            kind: CampaignKind::Graduation,
            spec: PhotoSpec::preset(Preset::Chsi),
            window: Window { opens_at: opens, closes_at: opens + time::Duration::days(365) },
            price_fen: 2500,
            identity_mode: IdentityMode::NameIdNumber,
            require_id_card_photos: false,
            allow_withdraw: false,
            free_checks: DEFAULT_FREE_CHECKS,
            privacy_agreement: None,
            code: None,
            closed: false,
        }
    }

    #[derive(Default)]
    pub struct MemoryCampaigns(pub Vec<Campaign>);

    impl Campaigns for MemoryCampaigns {
        async fn campaign(&self, id: &str) -> Result<Option<Campaign>, crate::StoreError> {
            Ok(self.0.iter().find(|c| c.id == id).cloned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_new_code_is_six_letters_a_student_can_type_and_codes_differ() {
        let (a, b) = (new_code(), new_code());
        assert!(is_code(&a) && a.len() == 6 && a.bytes().all(|c| c.is_ascii_lowercase()), "{a}");
        assert_ne!(a, b);
        for bad in ["", "abc", "ZQXSLH", "zq-xs", "averyveryverylongcode"] {
            assert!(!is_code(bad), "{bad}");
        }
    }

    #[test]
    fn all_presets_are_valid_specs() {
        for p in [Preset::Chsi, Preset::Degree, Preset::NewStudent, Preset::ResidentIdCard] {
            assert_eq!(PhotoSpec::preset(p).validate(), Ok(()), "{p:?}");
        }
        let chsi = PhotoSpec::preset(Preset::Chsi);
        assert_eq!((chsi.width_px, chsi.height_px, chsi.background), (480, 640, Rgb(100, 197, 255)));
    }

    #[test]
    fn impossible_specs_are_refused() {
        let mut s = PhotoSpec::preset(Preset::Chsi);
        s.min_kb = 50;
        assert!(matches!(s.validate(), Err(CampaignError::InvalidSpec(_))));
        let mut s = PhotoSpec::preset(Preset::Chsi);
        s.eyes_from_top = Band { min: 600, max: 700 };
        assert_eq!(s.validate(), Err(CampaignError::InvalidSpecBand("eye band")));
        let mut s = PhotoSpec::preset(Preset::Chsi);
        s.hairline_from_top = Band { min: 50, max: 250 };
        assert!(matches!(s.validate(), Err(CampaignError::InvalidSpec(_))));
    }

    #[test]
    fn twenty_four_hundred_is_the_next_midnight_in_shanghai() {
        let t = parse_shanghai_time("2022-04-05 24:00").expect("valid");
        assert_eq!(t, datetime!(2022-04-06 00:00 +8));
        assert_eq!(t, datetime!(2022-04-05 16:00 UTC));
        assert_eq!(parse_shanghai_time("2022-03-18 18:00"), Ok(datetime!(2022-03-18 18:00 +8)));
        assert_eq!(parse_shanghai_time("2022-03-18T10:00:00Z"), Ok(datetime!(2022-03-18 10:00 UTC)));
        for bad in ["2022-04-05 24:30", "2022-02-30 10:00", "tomorrow", "2022-04-05 25:00"] {
            assert_eq!(parse_shanghai_time(bad), Err(CampaignError::InvalidTime), "{bad}");
        }
    }

    #[test]
    fn status_follows_the_window_and_the_closed_flag() {
        let window = Window::new(datetime!(2022-03-18 18:00 +8), datetime!(2022-04-06 00:00 +8)).expect("window");
        let mut c =
            Campaign { name: "2022 届毕业生图像采集".into(), window, price_fen: 3000, ..memory::campaign() };
        assert_eq!(c.status(datetime!(2022-03-18 17:59 +8)), CampaignStatus::NotYetOpen);
        assert_eq!(c.status(datetime!(2022-04-05 23:59 +8)), CampaignStatus::Open);
        assert_eq!(c.status(datetime!(2022-04-06 00:00 +8)), CampaignStatus::Closed);
        c.closed = true;
        assert_eq!(c.status(datetime!(2022-03-20 12:00 +8)), CampaignStatus::Closed);
        assert_eq!(c.validate(), Ok(()));
        c.price_fen = 1_000_000;
        assert_eq!(c.validate(), Err(CampaignError::InvalidPrice));
        c.price_fen = 0;
        assert_eq!(c.validate(), Err(CampaignError::InvalidPrice), "a free campaign could never be paid");
        assert_eq!(Window::new(window.closes_at, window.opens_at), Err(CampaignError::InvalidWindow));
    }
}
