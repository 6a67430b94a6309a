//! The automatic checks of the photo rules: each measures a value, compares it with its
//! threshold (all thresholds are here, in one place) and reports a DESIGN reason code.

use image::{GrayImage, RgbImage};
use serde::Serialize;
use yunzhao_domain::photo::Reason;

use crate::detect::{Face, Point};

/// Thresholds, documented: what a photo must meet.
pub mod limits {
    /// A photo whose short side is below this cannot give a 480×640 photo.
    pub const MIN_SHORT_SIDE_PX: u32 = 400;
    /// The face must be at least this wide in the original: the output's face is 180–300 px,
    /// and more than 3× upscaling shows.
    pub const MIN_FACE_WIDTH_PX: f32 = 80.0;
    /// A second face counts if it scores this high and is either this large relative to the
    /// first, or at least SECOND_FACE_RELATIVE_WIDTH and within SECOND_FACE_NEAR_FACE_WIDTHS of
    /// it (centre to centre, in the student's face widths): someone beside or just behind the
    /// student. A smaller face further away is a crowd in the background.
    pub const SECOND_FACE_SCORE: f32 = 0.8;
    pub const SECOND_FACE_ALWAYS_RELATIVE_WIDTH: f32 = 0.6;
    pub const SECOND_FACE_RELATIVE_WIDTH: f32 = 0.25;
    pub const SECOND_FACE_NEAR_FACE_WIDTHS: f32 = 2.5;
    /// A second face whose sharpness (Laplacian variance at 128 px) is below this share of
    /// the student's is out of focus: far behind, background.
    pub const BACKGROUND_FACE_SHARPNESS_RATIO: f32 = 0.25;
    /// A placement keeping less than this share of a band's width inside it is shown to the
    /// reviewer as near the band's edge.
    pub const NEAR_BAND_EDGE: f32 = 0.05;
    /// A photo taken this many days before its upload is shown to the reviewer as old.
    pub const MAX_CAPTURE_AGE_DAYS: f32 = 30.0;
    /// Below this share of the inner face box kept by the matte, the cut-out has a hole (a
    /// face on a background of its own colour, blond hair on a pale wall): shown to the
    /// reviewer. The 45 dev photos measure 0.986–1.000 with the 288×384 matte; a 192×256 matte
    /// (tried, not kept) left a hole in one blond head on a pale wall that this catches.
    pub const MIN_FACE_MATTE_COVERAGE: f32 = 0.98;
    /// Roll beyond this is refused rather than corrected (degrees).
    pub const MAX_ROLL_DEG: f32 = 15.0;
    /// Nose offset from the eye midpoint, as a share of the eye distance (a yaw proxy from
    /// the detector, for when the mesh finds no face).
    pub const MAX_NOSE_OFFSET: f32 = 0.3;
    /// Head pose from the face mesh's depth (degrees): facing the camera.
    pub const MAX_YAW_DEG: f32 = 15.0;
    pub const MAX_PITCH_DEG: f32 = 20.0;
    /// Lid gap over eye width of the less open eye (iris model): open eyes measure 0.3–0.45,
    /// closed ones under 0.1.
    pub const MIN_EYE_OPENNESS: f32 = 0.12;
    /// Inner lip gap over mouth width. Closed lips measure under 0.05; a smile that shows the
    /// teeth measures 0.15–0.29 on real photos (the lips part over the teeth), so the gap alone
    /// cannot tell a smile from talking: what shows between the lips can. A gap beyond
    /// MOUTH_GAP_OPEN with a dark inside (the mouth's cavity, not teeth: inside luma below
    /// MOUTH_DARK_INSIDE of the face's) is an open mouth, and any gap beyond MAX_MOUTH_OPENNESS.
    pub const MOUTH_GAP_OPEN: f32 = 0.12;
    pub const MOUTH_DARK_INSIDE: f32 = 0.55;
    pub const MAX_MOUTH_OPENNESS: f32 = 0.4;
    /// Lips parted while speaking leave a small gap with the cavity's darkness between them (no
    /// teeth): a gap beyond MOUTH_GAP_PARTED with an inside below MOUTH_CAVITY_DARK is an open
    /// mouth too. On the 45 dev photos the one face measuring so (0.07, inside 0.29) is a man
    /// speaking into a headset microphone; every other gap beyond 0.06 has an inside of 0.40 or
    /// more (teeth, lips). Mouths painted open on 12 dev faces: with this rule 10 of 12 caught
    /// (6 without), slightly parted ones 6 of 12 (3 without): the face mesh often draws the
    /// lips nearer than the painted opening.
    pub const MOUTH_GAP_PARTED: f32 = 0.06;
    pub const MOUTH_CAVITY_DARK: f32 = 0.35;
    /// Mean face luma (0–255).
    pub const MIN_FACE_LUMA: f32 = 70.0;
    pub const MAX_FACE_LUMA: f32 = 215.0;
    /// Brighter half of the face over the darker half (mean luma of the face box's halves).
    /// The 45 dev photos measure 1.00–1.67; the four above this are lit from one side (1.57
    /// the mildest, a face in soft side light). One half of 12 dev faces shaded to 60 % of
    /// its light measures 1.11–2.29 (8 caught), to 45 % 1.40–3.01 (10 caught): the box's
    /// halves also hold hair and beard, which dilute the shade. Left as it is until a measure
    /// over the skin alone is built.
    pub const MAX_LIGHTING_RATIO: f32 = 1.5;
    /// Variance of the Laplacian over the face in the original, at most 128 px wide.
    pub const MIN_SHARPNESS: f32 = 30.0;
    /// Width the face is brought down to before sharpness is measured.
    pub const SHARPNESS_FACE_WIDTH: u32 = 128;
    /// Euclidean RGB distance between clothing and background.
    pub const MIN_CLOTHING_DISTANCE: f32 = 90.0;
    /// The share of the person below the chin (across the whole width) within
    /// MIN_CLOTHING_DISTANCE of the background that fails `clothing_matches_background`, even
    /// where the mean colour, pulled away by hair, skin and a collar, is further. On the 45 dev
    /// photos that share is at most 0.26 (blue and white stripes). Blue clothing painted on 10
    /// dev photos (sky, mid and light blue; denim and navy should pass): the mean alone caught
    /// 4, 4 and 4 of 10; with the share 6, 6 and 6, denim 1 and navy 0. The ones still missed
    /// show little clothing (long hair over bare shoulders: a share of 0.07–0.28).
    pub const MAX_CLOTHING_NEAR_BACKGROUND: f32 = 0.3;
    /// The frame may reach this share past the photo's sides or bottom.
    pub const MAX_OVERFLOW: f32 = 0.03;
    /// Where the shoulders are looked for: columns this many face widths either side of the
    /// face's centre.
    pub const SHOULDER_COLUMN_FACE_WIDTHS: f32 = 0.8;
    /// Face width over photo width: a half-body photo taken by someone else is 0.15–0.4; at
    /// arm's length the face fills the picture.
    pub const MAX_SELFIE_FACE_SHARE: f32 = 0.6;
    /// The lens region's luma over the cheeks' ([`crate::appearance::Appearance::lens_luma`]).
    /// Eyes with nothing before them measure 0.45–1.13 on the 45 dev photos (0.30 on one face
    /// lit from one side in the dark, which fails on its lighting). Dark sunglasses painted on
    /// 12 of those faces measure 0.13–0.24: below MIN_LENS_LUMA fails `tinted_glasses` (12 of
    /// 12). A grey lens letting 30 % through measures 0.30–0.47, so up to TINTED_LENS_LUMA it
    /// is shown to the reviewer (8 of 12). A 50 % brown tint (0.47–0.74) cannot be told from
    /// deep-set eyes by brightness: left to reviewers.
    pub const MIN_LENS_LUMA: f32 = 0.28;
    pub const TINTED_LENS_LUMA: f32 = 0.40;
    /// The share of the band along the brows that looks like skin. On the dev photos, clear
    /// brows measure 0.65–1.00, a strand or wave of hair over part of a brow 0.49–0.55 (three
    /// photos), a dark face lit from one side 0 (it fails on its lighting); a fringe of dark
    /// hair painted down over the brows of 12 faces measures 0–0.49 (all 12 shown). Fair hair
    /// on fair skin is not told apart by brightness: reviewers judge it.
    pub const MIN_BROW_SKIN: f32 = 0.6;
    /// The share of the person beside the face's contour at the ears' height that looks like
    /// skin. On the dev photos visible ears measure 0.27–1.00 and long hair over them 0–0.16
    /// (17 photos shown, one of them a short-haired face whose ear is in shadow); dark hair
    /// painted over the ears of 12 faces measures 0–0.38 (11 of 12 shown).
    pub const MIN_EAR_SKIN: f32 = 0.2;
    /// An EXIF LensModel naming the front camera (iPhones write "… front camera …").
    pub const FRONT_CAMERA_HINT: &str = "front";
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub code: Reason,
    pub passed: bool,
    pub value: f32,
    pub threshold: f32,
    pub message: &'static str,
    pub message_zh: &'static str,
}

pub fn check(code: Reason, passed: bool, value: f32, threshold: f32) -> Check {
    let (message, message_zh) = code.messages();
    Check { code, passed, value, threshold, message, message_zh }
}

/// The people a photo shows: faces that count as a second person, and faces left to the
/// background (the matte removes them) but shown to the reviewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct People {
    pub counted: usize,
    pub background: usize,
}

/// Faces that count: the best one, and others that are confident, in focus like it, and
/// either nearly its size or both not tiny and beside it. A small face far from the student,
/// or one far out of focus (a crowd behind them), is background. `sharpness[i]` is face i's
/// (see [`face_sharpness`]); missing values count as in focus.
pub fn people(faces: &[Face], sharpness: &[f32]) -> People {
    let Some(first) = faces.first() else { return People { counted: 0, background: 0 } };
    let sharp = |i: usize| sharpness.get(i).copied().unwrap_or(f32::MAX);
    let centre = |f: &Face| Point { x: (f.x0 + f.x1) / 2.0, y: (f.y0 + f.y1) / 2.0 };
    let (c, w) = (centre(first), first.width().max(1.0));
    let (mut counted, mut background) = (1, 0);
    for (i, f) in faces.iter().enumerate().skip(1).filter(|(_, f)| f.score >= limits::SECOND_FACE_SCORE) {
        let relative = f.width() / w;
        let blurred = sharp(i) < sharp(0) * limits::BACKGROUND_FACE_SHARPNESS_RATIO;
        let d = centre(f);
        let apart = ((d.x - c.x).powi(2) + (d.y - c.y).powi(2)).sqrt() / w;
        let near = apart <= limits::SECOND_FACE_NEAR_FACE_WIDTHS;
        if !blurred
            && (relative >= limits::SECOND_FACE_ALWAYS_RELATIVE_WIDTH
                || (relative >= limits::SECOND_FACE_RELATIVE_WIDTH && near))
        {
            counted += 1;
        } else {
            background += 1;
        }
    }
    People { counted, background }
}

/// What the reviewer is shown without an automatic verdict, each with its measured value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Hint {
    /// Faces behind the student, small and away from them: made background. Value: how many.
    BackgroundFaces,
    /// No camera data at all (no EXIF make, model or capture time): a screenshot, a re-encode,
    /// or a photo forwarded through a chat app, which strips it. Value: 1.
    NoCameraData,
    /// Taken long before the upload. Value: days between capture and upload.
    TakenLongAgo,
    /// Written by software that is not a known camera or phone system (EXIF Software), not
    /// one of the known beauty or editing apps (those fail `make_up_or_filter`). Value: 1.
    UnknownSoftware,
    /// The best placement this photo allows keeps less than NEAR_BAND_EDGE of a band's width
    /// inside it (tall hair, a tight crop): a second measurement may find it outside. Value:
    /// the smallest margin, output pixels.
    NearBandEdge,
    /// The matte leaves part of the inner face box out, so the background colour shows
    /// through the face. Value: the share of the box kept, 0–1.
    CutoutIncomplete,
    /// The eyes' surroundings are darker than the cheeks, as behind a grey lens, though not as
    /// dark as sunglasses (those fail `tinted_glasses`). Value: the lens region's luma over
    /// the cheeks'.
    LensesMayBeTinted,
    /// Something darker or brighter than skin lies just above the brows: a fringe over them.
    /// Value: the share of that band that looks like skin, 0–1.
    BrowsCovered,
    /// Beside the face at the ears' height the person is not skin: hair over the ears.
    /// Value: the share that looks like skin, 0–1.
    EarsCovered,
    /// The face mesh did not find the face in the framed photo, so eyes, mouth, head pose,
    /// glasses, brows and ears were not measured. Value: 0 when the mesh found no face, 1 when
    /// it found one too small or too near the edge for the appearance regions.
    FaceDetailsUnmeasured,
}

impl Hint {
    pub fn messages(self) -> (&'static str, &'static str) {
        match self {
            Hint::BackgroundFaces => (
                "Other faces far behind the student were replaced by the background: check nobody else shows.",
                "学生身后远处的其他人脸已作为背景去除，请确认照片中没有其他人。",
            ),
            Hint::NoCameraData => (
                "The file carries no camera data: it may be a screenshot or a re-saved picture, not a live capture.",
                "文件不含相机信息，可能是截图或再次保存的图片，而非现场拍摄。",
            ),
            Hint::TakenLongAgo => (
                "The photo was taken long before it was uploaded (days shown): check it is recent.",
                "照片拍摄时间远早于上传时间（显示天数），请确认是近期照片。",
            ),
            Hint::NearBandEdge => (
                "The photo only just fits the size rules (margin in pixels shown): check the hair and eyes sit inside.",
                "照片仅勉强符合尺寸要求（显示余量像素），请确认头顶和眼睛位置在范围内。",
            ),
            Hint::CutoutIncomplete => (
                "The background replacement missed part of the face (share kept shown): check the photo for holes.",
                "背景替换漏掉了部分面部（显示保留比例），请检查照片是否有缺损。",
            ),
            Hint::LensesMayBeTinted => (
                "The eyes look darker than the face, as behind tinted glasses (ratio shown): check for coloured lenses.",
                "眼部明显暗于面部，可能佩戴有色眼镜（显示亮度比），请确认镜片无颜色。",
            ),
            Hint::BrowsCovered => (
                "Hair may cover the eyebrows (share of skin above the brows shown): check the brows and forehead show.",
                "头发可能遮挡眉毛（显示眉上皮肤比例），请确认眉毛和额头露出。",
            ),
            Hint::EarsCovered => (
                "Hair may cover the ears (share of skin beside the face shown): check the campaign's rule on ears.",
                "头发可能遮挡耳朵（显示脸侧皮肤比例），请按采集要求确认耳朵是否露出。",
            ),
            Hint::FaceDetailsUnmeasured => (
                "The face's details could not be measured (eyes, mouth, pose, glasses): check them by eye.",
                "未能测量面部细节（眼睛、嘴巴、姿态、眼镜），请人工检查。",
            ),
            Hint::UnknownSoftware => (
                "The file was last written by software that is not a camera: check it was not retouched.",
                "文件最后由非相机软件保存，请确认未经修图。",
            ),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct HintNote {
    pub code: Hint,
    pub value: f32,
    pub message: &'static str,
    pub message_zh: &'static str,
}

pub fn hint(code: Hint, value: f32) -> HintNote {
    let (message, message_zh) = code.messages();
    HintNote { code, value, message, message_zh }
}

/// Beauty and retouching apps as they name themselves in EXIF Software (lower case): the
/// guides forbid "美颜修图类软件". Matched as substrings.
pub const BEAUTY_OR_EDITING_APPS: &[&str] = &[
    "meitu",
    "美图",
    "beautycam",
    "beautyplus",
    "beauty plus",
    "美颜",
    "faceu",
    "轻颜",
    "b612",
    "醒图",
    "hypic",
    "picsart",
    "facetune",
    "snapseed",
    "photoshop",
    "lightroom",
    "vsco",
    "ulike",
    "无他",
    "美妆",
    "youcam",
    "airbrush",
    "snow",
];

/// Software that writes phone and camera photos (lower case substrings): not a hint.
pub const CAMERA_SOFTWARE: &[&str] =
    &["ios", "ipados", "android", "hdr+", "miui", "harmonyos", "emui", "coloros", "oneui", "ver.", "firmware"];

/// What EXIF Software says of the file: a known beauty or editing app (a rule violation),
/// something else that is not a camera (a hint), or nothing to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SoftwareVerdict {
    BeautyOrEditing,
    Unknown,
    Camera,
}

pub fn software_verdict(software: &str) -> SoftwareVerdict {
    let s = software.to_lowercase();
    if BEAUTY_OR_EDITING_APPS.iter().any(|a| s.contains(a)) {
        SoftwareVerdict::BeautyOrEditing
    } else if CAMERA_SOFTWARE.iter().any(|c| s.contains(c))
        || s.chars().all(|c| c.is_ascii_digit() || c == '.' || c == ' ')
    {
        // Many phones write only a firmware version number.
        SoftwareVerdict::Camera
    } else {
        SoftwareVerdict::Unknown
    }
}

/// Mean luma between the lips (`upper`, `lower` inner-lip midpoints, `width` the mouth's) over
/// the face's mean luma: teeth are about as bright as skin or brighter, an open mouth's inside
/// is dark. None when the lips touch.
pub fn mouth_inside_luma(img: &RgbImage, upper: Point, lower: Point, width: f32, face_luma: f32) -> Option<f32> {
    let gap = lower.y - upper.y;
    if gap < 2.0 || face_luma <= 0.0 {
        return None;
    }
    let (cx, cy) = ((upper.x + lower.x) / 2.0, (upper.y + lower.y) / 2.0);
    let (hw, hh) = ((width * 0.2).max(1.0), (gap * 0.3).max(0.5));
    let (w, h) = img.dimensions();
    let (x0, x1) = ((cx - hw).max(0.0) as u32, ((cx + hw) as u32).min(w));
    let (y0, y1) = ((cy - hh).max(0.0) as u32, ((cy + hh).ceil() as u32).min(h));
    let (mut sum, mut n) = (0.0, 0.0);
    for y in y0..y1 {
        for x in x0..x1 {
            sum += luma(img.get_pixel(x, y));
            n += 1.0;
        }
    }
    (n > 0.0).then(|| sum / n / face_luma)
}

/// The widest lip gap a closed or smiling mouth may show, given what shows between the lips:
/// the cavity's darkness allows only a parted gap, a dark inside the talking gap, teeth or
/// nothing measurable the widest (see [`limits::MOUTH_GAP_OPEN`], [`limits::MOUTH_GAP_PARTED`]).
pub fn mouth_gap_limit(inside: Option<f32>) -> f32 {
    match inside {
        Some(l) if l < limits::MOUTH_CAVITY_DARK => limits::MOUTH_GAP_PARTED,
        Some(l) if l < limits::MOUTH_DARK_INSIDE => limits::MOUTH_GAP_OPEN,
        _ => limits::MAX_MOUTH_OPENNESS,
    }
}

/// Whether the mouth is open (talking, yawning) rather than closed or smiling.
pub fn mouth_open(openness: f32, inside: Option<f32>) -> bool {
    openness > mouth_gap_limit(inside)
}

/// Nose offset from the eye midpoint along the eye line, over the eye distance.
pub fn nose_offset(face: &Face) -> f32 {
    let (l, r) = face.eyes();
    let nose = face.landmarks[2];
    let (ex, ey) = (r.x - l.x, r.y - l.y);
    let dist = (ex * ex + ey * ey).sqrt().max(1.0);
    let mid = Point { x: (l.x + r.x) / 2.0, y: (l.y + r.y) / 2.0 };
    ((nose.x - mid.x) * ex + (nose.y - mid.y) * ey) / (dist * dist)
}

pub(crate) fn luma(p: &image::Rgb<u8>) -> f32 {
    0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32
}

/// A rectangle in output pixels.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Rect {
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
}

/// Mean luma of the face, and of its left and right halves.
pub fn face_lighting(img: &RgbImage, r: Rect) -> (f32, f32, f32) {
    let mid = (r.x0 + r.x1) / 2;
    let (mut all, mut left, mut right, mut nl, mut nr) = (0f32, 0f32, 0f32, 0f32, 0f32);
    for y in r.y0..r.y1 {
        for x in r.x0..r.x1 {
            let l = luma(img.get_pixel(x, y));
            all += l;
            if x < mid {
                left += l;
                nl += 1.0;
            } else {
                right += l;
                nr += 1.0;
            }
        }
    }
    let n = (nl + nr).max(1.0);
    (all / n, left / nl.max(1.0), right / nr.max(1.0))
}

/// The share of the rectangle where the matte keeps the person (alpha above one half).
pub fn matte_coverage(alpha: &GrayImage, r: Rect) -> f32 {
    let (mut kept, mut all) = (0u32, 0u32);
    for y in r.y0..r.y1.min(alpha.height()) {
        for x in r.x0..r.x1.min(alpha.width()) {
            all += 1;
            kept += u32::from(alpha.get_pixel(x, y)[0] > 127);
        }
    }
    if all == 0 { 0.0 } else { kept as f32 / all as f32 }
}

/// Variance of the 4-neighbour Laplacian of luma over the rectangle.
pub fn sharpness(img: &RgbImage, r: Rect) -> f32 {
    let mut values = Vec::new();
    for y in r.y0.max(1)..r.y1.min(img.height() - 1) {
        for x in r.x0.max(1)..r.x1.min(img.width() - 1) {
            let c = luma(img.get_pixel(x, y));
            let lap = luma(img.get_pixel(x - 1, y))
                + luma(img.get_pixel(x + 1, y))
                + luma(img.get_pixel(x, y - 1))
                + luma(img.get_pixel(x, y + 1))
                - 4.0 * c;
            values.push(lap);
        }
    }
    let n = values.len().max(1) as f32;
    let mean = values.iter().sum::<f32>() / n;
    values.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n
}

/// Sharpness of the face as photographed: measured on the original's face box, scaled down
/// to a common width so phones of every resolution are judged alike.
pub fn face_sharpness(src: &RgbImage, face: &Face) -> f32 {
    let x0 = face.x0.max(0.0) as u32;
    let y0 = face.y0.max(0.0) as u32;
    let x1 = (face.x1 as u32).min(src.width());
    let y1 = (face.y1 as u32).min(src.height());
    if x1 <= x0 + 4 || y1 <= y0 + 4 {
        return 0.0;
    }
    let crop = image::imageops::crop_imm(src, x0, y0, x1 - x0, y1 - y0).to_image();
    let crop = if crop.width() > limits::SHARPNESS_FACE_WIDTH {
        let h = (crop.height() * limits::SHARPNESS_FACE_WIDTH / crop.width()).max(1);
        crate::resize::rgb(&crop, limits::SHARPNESS_FACE_WIDTH, h)
    } else {
        crop
    };
    let (w, h) = crop.dimensions();
    sharpness(&crop, Rect { x0: w / 6, y0: h / 6, x1: w - w / 6, y1: h - h / 6 })
}

/// The share of the person (alpha above 200) below `below_y`, across the whole width, whose
/// colour is within MIN_CLOTHING_DISTANCE of `bg`; None when too little of the person shows.
pub fn clothing_near_background(frame: &RgbImage, alpha: &GrayImage, below_y: u32, bg: [u8; 3]) -> Option<f32> {
    let (mut near, mut n) = (0u32, 0u32);
    for (x, y, p) in frame.enumerate_rows().skip(below_y as usize).flat_map(|(_, row)| row) {
        if alpha.get_pixel(x, y)[0] > 200 {
            let c = [p[0] as f32, p[1] as f32, p[2] as f32];
            n += 1;
            near += u32::from(colour_distance(c, bg) < limits::MIN_CLOTHING_DISTANCE);
        }
    }
    (n > 100).then(|| near as f32 / n as f32)
}

/// Mean colour of the clothing: person pixels in the central band below the chin.
pub fn clothing_colour(frame: &RgbImage, alpha: &GrayImage, below_y: u32) -> Option<[f32; 3]> {
    let (w, h) = frame.dimensions();
    let (mut sum, mut n) = ([0f32; 3], 0f32);
    for y in below_y.min(h)..h {
        for x in w / 4..3 * w / 4 {
            if alpha.get_pixel(x, y)[0] > 200 {
                let p = frame.get_pixel(x, y);
                for c in 0..3 {
                    sum[c] += p[c] as f32;
                }
                n += 1.0;
            }
        }
    }
    (n > 100.0).then(|| [sum[0] / n, sum[1] / n, sum[2] / n])
}

/// Slope of the shoulders in the matte (degrees, positive = the right side of the photo lower):
/// in a column either side of the face (centre `face_x`, width `face_w`), the top of the person
/// rising from the bottom edge, which must stay below `mouth_y` (else it is hair or an arm).
/// None when a column cannot tell.
pub fn shoulder_tilt(alpha: &GrayImage, face_x: f32, face_w: f32, mouth_y: u32) -> Option<f32> {
    let (w, h) = alpha.dimensions();
    let reach = face_w * limits::SHOULDER_COLUMN_FACE_WIDTHS;
    let column = |x: f32| x.clamp(0.0, w as f32 - 1.0) as u32;
    let (left, right) = (column(face_x - reach), column(face_x + reach));
    if right <= left {
        return None;
    }
    let person = |x: u32, y: u32| alpha.get_pixel(x, y)[0] > 127;
    let top = |x: u32| {
        let top = (mouth_y.min(h)..h).rev().take_while(|&y| person(x, y)).last()?;
        (top > mouth_y).then_some(top)
    };
    let (l, r) = (top(left)?, top(right)?);
    Some((r as f32 - l as f32).atan2((right - left) as f32).to_degrees())
}

/// Whether the photo looks like a selfie: the camera's own word, or a face filling the frame.
pub fn selfie(lens_model: Option<&str>, face_share: f32) -> bool {
    let front = lens_model.is_some_and(|m| m.to_lowercase().contains(limits::FRONT_CAMERA_HINT));
    front || face_share > limits::MAX_SELFIE_FACE_SHARE
}

pub fn colour_distance(a: [f32; 3], b: [u8; 3]) -> f32 {
    (0..3).map(|c| (a[c] - b[c] as f32).powi(2)).sum::<f32>().sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blue_shoulders_beside_bare_skin_match_the_background_though_their_mean_does_not() {
        let bg = [100, 197, 255];
        // Below row 20: a sky-blue top on the outer columns, skin and hair in the middle third.
        let frame = RgbImage::from_fn(60, 40, |x, _| {
            image::Rgb(match x {
                0..20 | 40.. => [110, 190, 245],
                20..30 => [210, 170, 150],
                _ => [40, 30, 25],
            })
        });
        let alpha = GrayImage::from_pixel(60, 40, image::Luma([255]));
        let mean = clothing_colour(&frame, &alpha, 20).expect("clothing shows");
        assert!(colour_distance(mean, bg) >= limits::MIN_CLOTHING_DISTANCE, "the mean passes: {mean:?}");
        let share = clothing_near_background(&frame, &alpha, 20, bg).expect("clothing shows");
        assert!((share - 2.0 / 3.0).abs() < 1e-6 && share >= limits::MAX_CLOTHING_NEAR_BACKGROUND, "{share}");
        // Where the matte leaves the blue out, it is background already: nothing to compare.
        let cut = GrayImage::from_fn(60, 40, |x, _| image::Luma([if (20..40).contains(&x) { 255 } else { 0 }]));
        assert_eq!(clothing_near_background(&frame, &cut, 20, bg), Some(0.0));
    }

    #[test]
    fn a_hole_in_the_matte_over_the_face_lowers_its_coverage() {
        let r = Rect { x0: 10, y0: 10, x1: 30, y1: 30 };
        let whole = GrayImage::from_pixel(40, 40, image::Luma([255]));
        assert_eq!(matte_coverage(&whole, r), 1.0);
        // The right quarter of the face box left as background.
        let holed = GrayImage::from_fn(40, 40, |x, _| image::Luma([if x >= 25 { 40 } else { 255 }]));
        assert_eq!(matte_coverage(&holed, r), 0.75);
        assert!(matte_coverage(&holed, r) < limits::MIN_FACE_MATTE_COVERAGE);
    }

    fn face(nose_x: f32, score2: Option<(f32, f32)>) -> Vec<Face> {
        let p = |x, y| Point { x, y };
        let mut v = vec![Face {
            x0: 0.0,
            y0: 0.0,
            x1: 200.0,
            y1: 260.0,
            score: 0.99,
            landmarks: [p(60.0, 100.0), p(140.0, 100.0), p(nose_x, 140.0), p(70.0, 190.0), p(130.0, 190.0)],
        }];
        if let Some((score, width)) = score2 {
            v.push(Face { x0: 300.0, x1: 300.0 + width, score, ..v[0].clone() });
        }
        v
    }

    #[test]
    fn a_second_face_counts_only_if_confident_and_not_tiny() {
        let counted = |f: &[Face]| people(f, &[]).counted;
        // The second face starts 100 px right of the first's edge: 1.75 face widths apart.
        assert_eq!(counted(&face(100.0, None)), 1);
        assert_eq!(counted(&face(100.0, Some((0.95, 150.0)))), 2);
        assert_eq!(counted(&face(100.0, Some((0.95, 20.0)))), 1);
        assert_eq!(counted(&face(100.0, Some((0.65, 150.0)))), 1);
        assert_eq!(counted(&[]), 0);
    }

    #[test]
    fn a_small_face_far_behind_the_student_is_background_and_a_near_one_counts() {
        let student = face(100.0, None).remove(0);
        let small = |x0: f32, w: f32| Face { x0, x1: x0 + w, y0: 0.0, y1: w * 1.3, score: 0.9, ..student.clone() };
        // A third of the student's size, 4 face widths away: a crowd.
        let mut faces = vec![student.clone(), small(900.0, 70.0)];
        assert_eq!(people(&faces, &[]), People { counted: 1, background: 1 });
        // The same size right beside the student: a second person.
        faces.push(small(220.0, 70.0));
        assert_eq!(people(&faces, &[]), People { counted: 2, background: 1 });
        // Nearly the student's size counts wherever it is, unless far out of focus.
        let far_but_big = vec![student.clone(), small(1500.0, 150.0)];
        assert_eq!(people(&far_but_big, &[]).counted, 2);
        assert_eq!(people(&far_but_big, &[200.0, 40.0]), People { counted: 1, background: 1 });
        assert_eq!(people(&far_but_big, &[200.0, 120.0]).counted, 2, "as sharp as the student: a person");
    }

    #[test]
    fn an_open_mouth_is_a_gap_with_a_dark_inside_or_a_very_wide_one() {
        assert!(!mouth_open(0.03, Some(0.2)), "closed lips");
        assert!(!mouth_open(0.28, Some(0.95)), "a broad smile over bright teeth");
        assert!(mouth_open(0.2, Some(0.3)), "talking: the inside is dark");
        assert!(mouth_open(0.5, Some(0.95)), "wide open whatever shows");
        assert!(mouth_open(0.07, Some(0.29)), "lips just parted over the dark cavity: speaking");
        assert!(!mouth_open(0.07, Some(0.45)), "just parted over teeth or lips: a smile");
        assert!(!mouth_open(0.2, None));
        // Teeth (light) between the lips, and a dark inside.
        let teeth =
            RgbImage::from_fn(100, 100, |_, y| image::Rgb(if (45..55).contains(&y) { [230; 3] } else { [150; 3] }));
        let (up, low) = (Point { x: 50.0, y: 45.0 }, Point { x: 50.0, y: 55.0 });
        let l = mouth_inside_luma(&teeth, up, low, 40.0, 150.0).expect("a gap");
        assert!(l > 1.4, "{l}");
        let dark =
            RgbImage::from_fn(100, 100, |_, y| image::Rgb(if (45..55).contains(&y) { [30; 3] } else { [150; 3] }));
        assert!(mouth_inside_luma(&dark, up, low, 40.0, 150.0).expect("a gap") < 0.3);
        assert_eq!(mouth_inside_luma(&dark, up, Point { x: 50.0, y: 46.0 }, 40.0, 150.0), None, "lips touching");
    }

    #[test]
    fn software_names_beauty_apps_phones_and_others_apart() {
        assert_eq!(software_verdict("Meitu"), SoftwareVerdict::BeautyOrEditing);
        assert_eq!(software_verdict("美图秀秀"), SoftwareVerdict::BeautyOrEditing);
        assert_eq!(software_verdict("Adobe Photoshop 25.0 (Windows)"), SoftwareVerdict::BeautyOrEditing);
        assert_eq!(software_verdict("17.1.1"), SoftwareVerdict::Camera);
        assert_eq!(software_verdict("iOS 17.1"), SoftwareVerdict::Camera);
        assert_eq!(software_verdict("HDR+ 1.0.540104024zd"), SoftwareVerdict::Camera);
        assert_eq!(software_verdict("GIMP 2.10.34"), SoftwareVerdict::Unknown);
    }

    #[test]
    fn nose_offset_is_zero_when_frontal_and_grows_when_turned() {
        assert_eq!(nose_offset(&face(100.0, None)[0]), 0.0);
        assert!((nose_offset(&face(132.0, None)[0]) - 0.4).abs() < 1e-6);
    }

    #[test]
    fn shoulders_slope_from_the_matte_columns() {
        // Shoulders at row 500 on the left and 540 on the right, 336 px apart.
        let alpha = GrayImage::from_fn(480, 640, |x, y| {
            let top = 500.0 + 40.0 * (x as f32 - 57.0) / 365.0;
            image::Luma([if (y as f32) >= top { 255 } else { 0 }])
        });
        // A 240-px face centred at 240: columns at 48 and 432.
        let tilt = shoulder_tilt(&alpha, 240.0, 240.0, 400).expect("both shoulders");
        assert!((tilt - (40f32).atan2(365.0).to_degrees()).abs() < 0.3, "{tilt}");
        assert_eq!(shoulder_tilt(&alpha, 240.0, 240.0, 520), None, "shoulders above the mouth: cannot tell");
        assert_eq!(shoulder_tilt(&GrayImage::new(480, 640), 240.0, 240.0, 400), None, "no person, no measure");
    }

    #[test]
    fn selfie_from_the_lens_or_the_face_share() {
        assert!(selfie(Some("iPhone 13 front camera 2.71mm f/2.2"), 0.3));
        assert!(!selfie(Some("iPhone 13 back dual wide camera 5.1mm f/1.6"), 0.3));
        assert!(selfie(None, 0.7));
        assert!(!selfie(None, 0.25));
    }

    #[test]
    fn lighting_halves_and_sharpness() {
        let img =
            RgbImage::from_fn(
                100,
                100,
                |x, _| if x < 50 { image::Rgb([40, 40, 40]) } else { image::Rgb([160, 160, 160]) },
            );
        let (all, l, r) = face_lighting(&img, Rect { x0: 0, y0: 0, x1: 100, y1: 100 });
        assert_eq!((l.round(), r.round(), all.round()), (40.0, 160.0, 100.0));
        let flat = RgbImage::from_pixel(50, 50, image::Rgb([90, 90, 90]));
        assert_eq!(sharpness(&flat, Rect { x0: 0, y0: 0, x1: 50, y1: 50 }), 0.0);
        assert!(sharpness(&img, Rect { x0: 0, y0: 0, x1: 100, y1: 100 }) > 100.0, "an edge is sharp");
    }
}
