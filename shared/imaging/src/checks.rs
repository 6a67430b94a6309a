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
    /// A second face counts if it scores this high and is this large relative to the first.
    pub const SECOND_FACE_SCORE: f32 = 0.8;
    pub const SECOND_FACE_RELATIVE_WIDTH: f32 = 0.25;
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
    /// teeth reaches about 0.15 and is left to the reviewer ("natural expression"); talking or
    /// yawning goes beyond.
    pub const MAX_MOUTH_OPENNESS: f32 = 0.25;
    /// Mean face luma (0–255).
    pub const MIN_FACE_LUMA: f32 = 70.0;
    pub const MAX_FACE_LUMA: f32 = 215.0;
    /// Brighter half of the face over the darker half.
    pub const MAX_LIGHTING_RATIO: f32 = 1.5;
    /// Variance of the Laplacian over the face in the original, at most 128 px wide.
    pub const MIN_SHARPNESS: f32 = 30.0;
    /// Width the face is brought down to before sharpness is measured.
    pub const SHARPNESS_FACE_WIDTH: u32 = 128;
    /// Euclidean RGB distance between clothing and background.
    pub const MIN_CLOTHING_DISTANCE: f32 = 90.0;
    /// The frame may reach this share past the photo's sides or bottom.
    pub const MAX_OVERFLOW: f32 = 0.03;
    /// Where the shoulders are looked for: columns this many face widths either side of the
    /// face's centre.
    pub const SHOULDER_COLUMN_FACE_WIDTHS: f32 = 0.8;
    /// Face width over photo width: a half-body photo taken by someone else is 0.15–0.4; at
    /// arm's length the face fills the picture.
    pub const MAX_SELFIE_FACE_SHARE: f32 = 0.6;
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

/// Faces that count: the best one, and others that are confident and not tiny beside it.
pub fn counted_faces(faces: &[Face]) -> usize {
    let Some(first) = faces.first() else { return 0 };
    1 + faces[1..]
        .iter()
        .filter(|f| {
            f.score >= limits::SECOND_FACE_SCORE && f.width() >= first.width() * limits::SECOND_FACE_RELATIVE_WIDTH
        })
        .count()
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

fn luma(p: &image::Rgb<u8>) -> f32 {
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
        assert_eq!(counted_faces(&face(100.0, None)), 1);
        assert_eq!(counted_faces(&face(100.0, Some((0.95, 150.0)))), 2);
        assert_eq!(counted_faces(&face(100.0, Some((0.95, 20.0)))), 1);
        assert_eq!(counted_faces(&face(100.0, Some((0.65, 150.0)))), 1);
        assert_eq!(counted_faces(&[]), 0);
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
