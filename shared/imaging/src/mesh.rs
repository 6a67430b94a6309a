//! Face mesh (MediaPipe, 468 points) on the levelled frame: how open the mouth is, and the
//! head's yaw and pitch from the mesh's depth; then MediaPipe Iris on each eye for how open
//! the eyes are (the face mesh draws open lids over closed eyes). Each network sees a square
//! crop, RGB in [0, 1]: the face mesh 1.5× the face box at 192×192, the iris model 2.3× the
//! eye's corner distance at 64×64, mirrored for the person's left eye.

use image::RgbImage;
use serde::Serialize;

use crate::detect::Point;

pub const INPUT: usize = 192;
pub const IRIS_INPUT: usize = 64;
/// Below this face-presence probability the mesh is not trusted (and nothing is measured).
pub const MIN_PRESENCE: f32 = 0.5;

/// MediaPipe Face Mesh indices (canonical face model topology).
mod idx {
    /// Outer corner, inner corner, upper lid, lower lid; the person's right eye first.
    pub const EYES: [[usize; 4]; 2] = [[33, 133, 159, 145], [263, 362, 386, 374]];
    /// Mouth corners, inner upper lip, inner lower lip.
    pub const MOUTH: [usize; 4] = [61, 291, 13, 14];
    /// Cheek contour left and right (at the ears' height), forehead top and chin.
    pub const CHEEKS: [usize; 2] = [234, 454];
    pub const FOREHEAD: usize = 10;
    pub const CHIN: usize = 152;
    /// Each brow's upper edge, outer end to inner end; the person's right brow first.
    pub const BROWS: [[usize; 5]; 2] = [[70, 63, 105, 66, 107], [300, 293, 334, 296, 336]];
    /// The middle of each cheek, below the eye (the person's right first), and the nose's ridge
    /// halfway down.
    pub const CHEEK_MIDDLES: [usize; 2] = [50, 280];
    pub const NOSE_RIDGE: usize = 195;
}

/// The square of the frame the network sees (frame pixels).
#[derive(Debug, Clone, Copy)]
pub struct Crop {
    pub x0: f32,
    pub y0: f32,
    pub side: f32,
}

impl Crop {
    /// 1.5× the face box, square, about its centre.
    pub fn around(x0: f32, y0: f32, x1: f32, y1: f32) -> Self {
        let side = (x1 - x0).max(y1 - y0) * 1.5;
        Self { x0: (x0 + x1) / 2.0 - side / 2.0, y0: (y0 + y1) / 2.0 - side / 2.0, side }
    }

    /// 2.3× the distance between an eye's corners, square, about their midpoint.
    pub fn eye(a: Point, b: Point) -> Self {
        let side = ((a.x - b.x).powi(2) + (a.y - b.y).powi(2)).sqrt().max(4.0) * 2.3;
        Self { x0: (a.x + b.x) / 2.0 - side / 2.0, y0: (a.y + b.y) / 2.0 - side / 2.0, side }
    }

    /// A point of the network's `size`-pixel input (mirrored if the input was) in frame pixels.
    fn to_frame(self, size: usize, x: f32, y: f32, mirrored: bool) -> Point {
        let k = self.side / size as f32;
        let x = if mirrored { size as f32 - x } else { x };
        Point { x: self.x0 + x * k, y: self.y0 + y * k }
    }
}

/// RGB in [0, 1], NCHW, `size`×`size`, optionally mirrored; outside the frame is black.
pub fn preprocess(frame: &RgbImage, crop: Crop, size: usize, mirror: bool) -> Vec<f32> {
    let plane = size * size;
    let mut data = vec![0f32; 3 * plane];
    let step = crop.side / size as f32;
    let (w, h) = (frame.width() as i64, frame.height() as i64);
    for y in 0..size {
        for x in 0..size {
            let sx = (crop.x0 + (x as f32 + 0.5) * step) as i64;
            let sy = (crop.y0 + (y as f32 + 0.5) * step) as i64;
            if (0..w).contains(&sx) && (0..h).contains(&sy) {
                let p = frame.get_pixel(sx as u32, sy as u32);
                let i = y * size + if mirror { size - 1 - x } else { x };
                for c in 0..3 {
                    data[c * plane + i] = p[c] as f32 / 255.0;
                }
            }
        }
    }
    data
}

/// Lid gap over corner distance from the iris model's eye contour (71 points, 64-pixel input):
/// 0 and 8 are the corners, 4 the middle of the lower lid, 12 the middle of the upper.
pub fn iris_eye_openness(contour: &[f32], crop: Crop, mirrored: bool) -> Option<f32> {
    if contour.len() < 16 * 3 {
        return None;
    }
    let p = |i: usize| crop.to_frame(IRIS_INPUT, contour[3 * i], contour[3 * i + 1], mirrored);
    let d = |a: Point, b: Point| ((a.x - b.x).powi(2) + (a.y - b.y).powi(2)).sqrt();
    Some(d(p(12), p(4)) / d(p(0), p(8)).max(1.0))
}

/// A point of the mesh in frame pixels, with depth on the same scale.
#[derive(Debug, Clone, Copy)]
pub struct P3 {
    pub x: f32,
    pub y: f32,
    pub z: f32,
}

/// Points of the mesh that the iris model and the appearance checks look around (frame
/// pixels; the person's right side first, which is the image's left).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Landmarks {
    /// Each eye's outer and inner corner.
    pub eye_corners: [(Point, Point); 2],
    /// Each brow's upper edge, outer end to inner end.
    pub brows: [[Point; 5]; 2],
    /// The middle of each cheek, below the eye.
    pub cheeks: [Point; 2],
    /// The nose's ridge halfway down: skin that make-up, hair and lenses rarely cover.
    pub nose_ridge: Point,
    /// The face's contour at the ears' height.
    pub contour: [Point; 2],
}

/// What the mesh says about the face.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FaceMesh {
    pub presence: f32,
    /// Where the iris crops and the appearance regions were placed (frame pixels), so a
    /// reviewer's tool can draw them.
    pub points: Landmarks,
    /// Lid gap over eye width, the less open eye of the two.
    pub eye_openness: f32,
    /// Inner lip gap over mouth width.
    pub mouth_openness: f32,
    /// The inner lips' midpoints (upper, lower) and the mouth's width, for looking inside.
    #[serde(skip)]
    pub inner_lips: (Point, Point),
    #[serde(skip)]
    pub mouth_width: f32,
    /// Head turned left/right and nodding up/down (degrees, 0 = facing the camera).
    pub yaw_deg: f32,
    pub pitch_deg: f32,
    pub forehead_top: Point,
    pub chin: Point,
}

fn dist(a: P3, b: P3) -> f32 {
    ((a.x - b.x).powi(2) + (a.y - b.y).powi(2)).sqrt()
}

/// The mesh's raw outputs (1404 values, 192-pixel crop space; a presence logit) in frame terms.
pub fn postprocess(raw: &[f32], presence_logit: f32, crop: Crop) -> Option<FaceMesh> {
    if raw.len() < 468 * 3 {
        return None;
    }
    let presence = 1.0 / (1.0 + (-presence_logit).exp());
    let k = crop.side / INPUT as f32;
    let pt = |i: usize| P3 { x: crop.x0 + raw[3 * i] * k, y: crop.y0 + raw[3 * i + 1] * k, z: raw[3 * i + 2] * k };
    Some(measure(presence, &pt))
}

/// The measurements from any source of mesh points (frame pixels).
pub fn measure(presence: f32, pt: &dyn Fn(usize) -> P3) -> FaceMesh {
    let eye = |e: [usize; 4]| dist(pt(e[2]), pt(e[3])) / dist(pt(e[0]), pt(e[1])).max(1.0);
    let eye_openness = eye(idx::EYES[0]).min(eye(idx::EYES[1]));
    let flat = |p: P3| Point { x: p.x, y: p.y };
    let at = |i: usize| flat(pt(i));
    let corners = |e: [usize; 4]| (at(e[0]), at(e[1]));
    let points = Landmarks {
        eye_corners: [corners(idx::EYES[0]), corners(idx::EYES[1])],
        brows: idx::BROWS.map(|b| b.map(at)),
        cheeks: idx::CHEEK_MIDDLES.map(at),
        nose_ridge: at(idx::NOSE_RIDGE),
        contour: idx::CHEEKS.map(at),
    };
    let m = idx::MOUTH;
    let mouth_width = dist(pt(m[0]), pt(m[1]));
    let mouth_openness = dist(pt(m[2]), pt(m[3])) / mouth_width.max(1.0);
    let (l, r) = (pt(idx::CHEEKS[0]), pt(idx::CHEEKS[1]));
    // Turning the head moves one cheek towards the camera and the other away.
    let yaw_deg = (r.z - l.z).atan2(r.x - l.x).to_degrees();
    let (top, chin) = (pt(idx::FOREHEAD), pt(idx::CHIN));
    let pitch_deg = (chin.z - top.z).atan2(chin.y - top.y).to_degrees();
    FaceMesh {
        presence,
        points,
        eye_openness,
        mouth_openness,
        inner_lips: (flat(pt(m[2])), flat(pt(m[3]))),
        mouth_width,
        yaw_deg,
        pitch_deg,
        forehead_top: Point { x: top.x, y: top.y },
        chin: Point { x: chin.x, y: chin.y },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A flat face facing the camera: eyes 30 wide and 9 open, mouth 50 wide and 2 open.
    fn flat(i: usize) -> P3 {
        let p = |x, y| P3 { x, y, z: 0.0 };
        match i {
            33 => p(100.0, 100.0),
            133 => p(130.0, 100.0),
            159 => p(115.0, 95.5),
            145 => p(115.0, 104.5),
            362 => p(170.0, 100.0),
            263 => p(200.0, 100.0),
            386 => p(185.0, 95.5),
            374 => p(185.0, 104.5),
            61 => p(125.0, 180.0),
            291 => p(175.0, 180.0),
            13 => p(150.0, 179.0),
            14 => p(150.0, 181.0),
            234 => p(70.0, 110.0),
            454 => p(230.0, 110.0),
            10 => p(150.0, 20.0),
            152 => p(150.0, 230.0),
            _ => p(0.0, 0.0),
        }
    }

    #[test]
    fn a_frontal_face_with_open_eyes_and_closed_lips() {
        let m = measure(0.99, &flat);
        assert!((m.eye_openness - 0.3).abs() < 1e-6);
        assert!((m.mouth_openness - 0.04).abs() < 1e-6);
        assert_eq!((m.yaw_deg, m.pitch_deg), (0.0, 0.0));
    }

    #[test]
    fn turning_and_nodding_show_in_depth() {
        // The right cheek 58 px further from the camera over 160 px of width: 20° of yaw.
        let turned = |i| if i == 454 { P3 { z: 58.2, ..flat(i) } } else { flat(i) };
        assert!((measure(0.99, &turned).yaw_deg - 20.0).abs() < 0.1);
        let nodding = |i| if i == 152 { P3 { z: -76.4, ..flat(i) } } else { flat(i) };
        assert!((measure(0.99, &nodding).pitch_deg + 20.0).abs() < 0.1);
    }

    #[test]
    fn a_closed_eye_and_an_open_mouth() {
        let shut = |i| match i {
            386 => P3 { y: 99.5, ..flat(i) },
            374 => P3 { y: 100.5, ..flat(i) },
            13 => P3 { y: 170.0, ..flat(i) },
            14 => P3 { y: 195.0, ..flat(i) },
            _ => flat(i),
        };
        let m = measure(0.99, &shut);
        assert!((m.eye_openness - 1.0 / 30.0).abs() < 1e-6, "the less open eye counts");
        assert!((m.mouth_openness - 0.5).abs() < 1e-6);
    }

    #[test]
    fn the_crop_is_a_square_one_and_a_half_times_the_box() {
        let c = Crop::around(100.0, 100.0, 300.0, 360.0);
        assert_eq!((c.x0, c.y0, c.side), (5.0, 35.0, 390.0));
        let d = preprocess(&RgbImage::from_pixel(480, 640, image::Rgb([255, 0, 0])), c, INPUT, false);
        assert_eq!((d[0], d[INPUT * INPUT]), (1.0, 0.0));
    }

    #[test]
    fn iris_contour_maps_back_through_the_mirror() {
        let crop = Crop::eye(Point { x: 100.0, y: 100.0 }, Point { x: 140.0, y: 100.0 });
        assert_eq!((crop.x0, crop.y0, crop.side), (74.0, 54.0, 92.0));
        // Corners at x 12 and 52 of the 64-px input, lids 8 apart: 0.2 open either way round.
        let mut c = vec![0f32; 71 * 3];
        for (i, x, y) in [(0, 12.0, 32.0), (8, 52.0, 32.0), (4, 32.0, 36.0), (12, 32.0, 28.0)] {
            c[3 * i] = x;
            c[3 * i + 1] = y;
        }
        for mirrored in [false, true] {
            assert!((iris_eye_openness(&c, crop, mirrored).expect("openness") - 0.2).abs() < 1e-6);
        }
        let p = crop.to_frame(IRIS_INPUT, 12.0, 32.0, true);
        assert!((p.x - 148.75).abs() < 1e-4 && (p.y - 100.0).abs() < 1e-4, "{p:?}");
    }
}
