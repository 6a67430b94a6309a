//! Face detection with RetinaFace (MobileNet-0.25): the pre- and post-processing around the
//! network, as pure functions. The network sees a letterboxed square copy of the photo.

use image::RgbImage;
use serde::Serialize;

/// Side of the square the detector sees.
pub const INPUT: usize = 320;
/// Faces below this score are not faces.
pub const SCORE_THRESHOLD: f32 = 0.6;
const NMS_IOU: f32 = 0.4;
const MEAN_BGR: [f32; 3] = [104.0, 117.0, 123.0];
const VARIANCE: [f32; 2] = [0.1, 0.2];

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Point {
    pub x: f32,
    pub y: f32,
}

/// A face in photo coordinates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Face {
    pub x0: f32,
    pub y0: f32,
    pub x1: f32,
    pub y1: f32,
    pub score: f32,
    /// Left eye, right eye (as seen in the photo: smaller x first), nose, mouth corners.
    pub landmarks: [Point; 5],
}

impl Face {
    pub fn width(&self) -> f32 {
        self.x1 - self.x0
    }

    pub fn height(&self) -> f32 {
        self.y1 - self.y0
    }

    /// The same face on a copy of the photo resized by `f`.
    pub fn scaled(&self, f: f32) -> Face {
        let p = |q: Point| Point { x: q.x * f, y: q.y * f };
        Face {
            x0: self.x0 * f,
            y0: self.y0 * f,
            x1: self.x1 * f,
            y1: self.y1 * f,
            score: self.score,
            landmarks: self.landmarks.map(p),
        }
    }

    pub fn eyes(&self) -> (Point, Point) {
        (self.landmarks[0], self.landmarks[1])
    }
}

/// How the photo was fitted into the detector's square.
#[derive(Debug, Clone, Copy)]
pub struct Letterbox {
    pub scale: f32,
}

/// The detector's input: BGR minus the training means, NCHW, letterboxed at the top-left.
pub fn preprocess(img: &RgbImage) -> (Vec<f32>, Letterbox) {
    let (w, h) = img.dimensions();
    let scale = INPUT as f32 / w.max(h) as f32;
    let (sw, sh) = (((w as f32 * scale).round() as u32).max(1), ((h as f32 * scale).round() as u32).max(1));
    let small = crate::resize::rgb(img, sw, sh);
    let plane = INPUT * INPUT;
    let mut data = vec![0f32; 3 * plane];
    for c in 0..3 {
        data[c * plane..(c + 1) * plane].fill(-MEAN_BGR[c]);
    }
    for (x, y, p) in small.enumerate_pixels() {
        let i = y as usize * INPUT + x as usize;
        // BGR order.
        data[i] = p[2] as f32 - MEAN_BGR[0];
        data[plane + i] = p[1] as f32 - MEAN_BGR[1];
        data[2 * plane + i] = p[0] as f32 - MEAN_BGR[2];
    }
    (data, Letterbox { scale })
}

/// Anchor centres and sizes (cx, cy, s, s) in pixels of the square input, in network order:
/// strides 8/16/32, sizes {16,32}/{64,128}/{256,512}, one anchor per size per cell.
pub fn anchors() -> Vec<[f32; 4]> {
    let mut out = Vec::new();
    for (stride, sizes) in [(8usize, [16.0f32, 32.0]), (16, [64.0, 128.0]), (32, [256.0, 512.0])] {
        let cells = INPUT.div_ceil(stride);
        for y in 0..cells {
            for x in 0..cells {
                for s in sizes {
                    out.push([(x as f32 + 0.5) * stride as f32, (y as f32 + 0.5) * stride as f32, s, s]);
                }
            }
        }
    }
    out
}

/// Faces from the raw outputs (`loc` [N,4], `conf` [N,2], `landmarks` [N,10]), mapped back to
/// photo coordinates, best first, overlapping detections suppressed.
pub fn postprocess(loc: &[f32], conf: &[f32], landmarks: &[f32], anchors: &[[f32; 4]], lb: Letterbox) -> Vec<Face> {
    let mut faces = Vec::new();
    for (i, a) in anchors.iter().enumerate() {
        let score = conf.get(2 * i + 1).copied().unwrap_or(0.0);
        if score < SCORE_THRESHOLD {
            continue;
        }
        let l = &loc[4 * i..4 * i + 4];
        let cx = a[0] + l[0] * VARIANCE[0] * a[2];
        let cy = a[1] + l[1] * VARIANCE[0] * a[3];
        let w = a[2] * (l[2] * VARIANCE[1]).exp();
        let h = a[3] * (l[3] * VARIANCE[1]).exp();
        let m = &landmarks[10 * i..10 * i + 10];
        let point = |k: usize| Point {
            x: (a[0] + m[2 * k] * VARIANCE[0] * a[2]) / lb.scale,
            y: (a[1] + m[2 * k + 1] * VARIANCE[0] * a[3]) / lb.scale,
        };
        faces.push(Face {
            x0: (cx - w / 2.0) / lb.scale,
            y0: (cy - h / 2.0) / lb.scale,
            x1: (cx + w / 2.0) / lb.scale,
            y1: (cy + h / 2.0) / lb.scale,
            score,
            landmarks: [point(0), point(1), point(2), point(3), point(4)],
        });
    }
    nms(faces)
}

fn iou(a: &Face, b: &Face) -> f32 {
    let ix = (a.x1.min(b.x1) - a.x0.max(b.x0)).max(0.0);
    let iy = (a.y1.min(b.y1) - a.y0.max(b.y0)).max(0.0);
    let inter = ix * iy;
    inter / (a.width() * a.height() + b.width() * b.height() - inter).max(f32::EPSILON)
}

fn nms(mut faces: Vec<Face>) -> Vec<Face> {
    faces.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Face> = Vec::new();
    for f in faces {
        if kept.iter().all(|k| iou(k, &f) < NMS_IOU) {
            kept.push(f);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_cover_three_strides_with_two_sizes_each() {
        let a = anchors();
        assert_eq!(a.len(), 2 * (40 * 40 + 20 * 20 + 10 * 10));
        assert_eq!(a[0], [4.0, 4.0, 16.0, 16.0]);
        assert_eq!(a[1], [4.0, 4.0, 32.0, 32.0]);
        assert_eq!(a[2 * 1600], [8.0, 8.0, 64.0, 64.0]);
    }

    #[test]
    fn a_zero_offset_decodes_to_its_anchor_and_overlaps_are_suppressed() {
        let a = vec![[100.0, 100.0, 64.0, 64.0], [102.0, 100.0, 64.0, 64.0], [250.0, 250.0, 32.0, 32.0]];
        let loc = vec![0.0; 12];
        let conf = vec![0.1, 0.9, 0.2, 0.8, 0.5, 0.5];
        let lm = vec![0.0; 30];
        let faces = postprocess(&loc, &conf, &lm, &a, Letterbox { scale: 0.5 });
        assert_eq!(faces.len(), 1, "the second overlaps the first; the third scores too low");
        let f = &faces[0];
        assert_eq!((f.x0, f.y0, f.x1, f.y1), (136.0, 136.0, 264.0, 264.0));
        assert_eq!(f.landmarks[2], Point { x: 200.0, y: 200.0 });
    }

    #[test]
    fn preprocessing_is_bgr_minus_means_letterboxed() {
        let img = RgbImage::from_pixel(640, 320, image::Rgb([200, 100, 50]));
        let (data, lb) = preprocess(&img);
        assert_eq!(lb.scale, 0.5);
        assert_eq!(data.len(), 3 * INPUT * INPUT);
        assert_eq!(data[0], 50.0 - 104.0);
        assert_eq!(data[INPUT * INPUT], 100.0 - 117.0);
        assert_eq!(data[2 * INPUT * INPUT], 200.0 - 123.0);
        // Below the letterboxed photo: padding (zero after adding the mean back).
        assert_eq!(data[(INPUT - 1) * INPUT], -104.0);
    }
}
