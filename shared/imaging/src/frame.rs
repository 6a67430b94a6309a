//! Where the standard photo comes from in the original: one affine map (scale, roll
//! correction, translation) that puts the eyes level at the spec's eye line, centred, with
//! the face at the spec's width; and the warp that samples the full-resolution photo
//! through it.

use image::{Rgb, RgbImage};
use serde::Serialize;
use yunzhao_domain::campaign::PhotoSpec;

use crate::detect::{Face, Point};

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Frame {
    pub out_w: u32,
    pub out_h: u32,
    /// Output pixels per source pixel.
    pub scale: f32,
    /// The face's roll in the source, corrected by the map (degrees, positive = clockwise).
    pub roll_deg: f32,
    /// Source eye midpoint and where it lands in the output.
    eye_src: Point,
    eye_out: Point,
}

fn mid(b: yunzhao_domain::campaign::Band) -> f32 {
    (b.min + b.max) as f32 / 2.0
}

impl Frame {
    pub fn plan(face: &Face, spec: &PhotoSpec) -> Self {
        let (l, r) = face.eyes();
        let roll = (r.y - l.y).atan2(r.x - l.x);
        let eye_src = Point { x: (l.x + r.x) / 2.0, y: (l.y + r.y) / 2.0 };
        let scale = mid(spec.face_width) / face.width().max(1.0);
        let eye_out = Point { x: spec.width_px as f32 / 2.0, y: mid(spec.eyes_from_top) };
        Self { out_w: spec.width_px, out_h: spec.height_px, scale, roll_deg: roll.to_degrees(), eye_src, eye_out }
    }

    /// Output pixel → source pixel.
    pub fn to_source(&self, x: f32, y: f32) -> Point {
        let (s, c) = self.roll_deg.to_radians().sin_cos();
        let (dx, dy) = ((x - self.eye_out.x) / self.scale, (y - self.eye_out.y) / self.scale);
        Point { x: self.eye_src.x + c * dx - s * dy, y: self.eye_src.y + s * dx + c * dy }
    }

    /// Source pixel → output pixel.
    pub fn to_output(&self, p: Point) -> Point {
        let (s, c) = self.roll_deg.to_radians().sin_cos();
        let (dx, dy) = (p.x - self.eye_src.x, p.y - self.eye_src.y);
        Point {
            x: self.eye_out.x + (c * dx + s * dy) * self.scale,
            y: self.eye_out.y + (-s * dx + c * dy) * self.scale,
        }
    }

    /// Where the eyes land (output pixels from the top).
    pub fn eye_line(&self) -> f32 {
        self.eye_out.y
    }

    /// The same frame turned by a further `degrees` of roll correction about the eyes.
    pub fn rolled(&self, degrees: f32) -> Self {
        Self { roll_deg: self.roll_deg + degrees, ..*self }
    }

    /// The same frame with everything `dy` output pixels lower.
    pub fn shifted(&self, dy: f32) -> Self {
        Self { eye_out: Point { x: self.eye_out.x, y: self.eye_out.y + dy }, ..*self }
    }

    /// How far the frame reaches past the photo's left, right and bottom edges, as a share of
    /// the frame's size (above the head, the background is made anyway).
    pub fn overflow(&self, src_w: u32, src_h: u32) -> f32 {
        let corners =
            [(0.0, 0.0), (self.out_w as f32, 0.0), (0.0, self.out_h as f32), (self.out_w as f32, self.out_h as f32)];
        let mut worst: f32 = 0.0;
        for (x, y) in corners {
            let p = self.to_source(x, y);
            let side = (-p.x).max(p.x - src_w as f32).max(0.0) * self.scale / self.out_w as f32;
            let bottom = (p.y - src_h as f32).max(0.0) * self.scale / self.out_h as f32;
            worst = worst.max(side).max(bottom);
        }
        worst
    }
}

/// The photo reduced once so that no output pixel skips more than two source pixels, and
/// the frame re-expressed on it; every warp of one photo then samples the small copy.
pub fn working_source(src: &RgbImage, frame: &Frame) -> (RgbImage, Frame, f32) {
    if frame.scale >= 0.5 {
        return (src.clone(), *frame, 1.0);
    }
    let f = frame.scale * 2.0;
    let (w, h) = (((src.width() as f32 * f).round() as u32).max(1), ((src.height() as f32 * f).round() as u32).max(1));
    let small = crate::resize::rgb(src, w, h);
    let (fx, fy) = (w as f32 / src.width() as f32, h as f32 / src.height() as f32);
    let mut fr = *frame;
    fr.scale /= fx;
    fr.eye_src = Point { x: frame.eye_src.x * fx, y: frame.eye_src.y * fy };
    (small, fr, fx)
}

/// Samples `src` through the frame (bilinear, edges clamped).
pub fn warp(src: &RgbImage, frame: &Frame) -> RgbImage {
    let (w, h) = (src.width() as i64, src.height() as i64);
    let px = |x: i64, y: i64| src.get_pixel(x.clamp(0, w - 1) as u32, y.clamp(0, h - 1) as u32).0;
    RgbImage::from_fn(frame.out_w, frame.out_h, |x, y| {
        let p = frame.to_source(x as f32 + 0.5, y as f32 + 0.5);
        let (fx, fy) = (p.x - 0.5, p.y - 0.5);
        let (x0, y0) = (fx.floor() as i64, fy.floor() as i64);
        let (ax, ay) = (fx - x0 as f32, fy - y0 as f32);
        let (a, b, c, d) = (px(x0, y0), px(x0 + 1, y0), px(x0, y0 + 1), px(x0 + 1, y0 + 1));
        let mut out = [0u8; 3];
        for k in 0..3 {
            let top = a[k] as f32 * (1.0 - ax) + b[k] as f32 * ax;
            let bottom = c[k] as f32 * (1.0 - ax) + d[k] as f32 * ax;
            out[k] = (top * (1.0 - ay) + bottom * ay).round().clamp(0.0, 255.0) as u8;
        }
        Rgb(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use yunzhao_domain::campaign::Preset;

    fn face(l: (f32, f32), r: (f32, f32), width: f32) -> Face {
        let p = |x, y| Point { x, y };
        Face {
            x0: 0.0,
            y0: 0.0,
            x1: width,
            y1: width * 1.3,
            score: 0.99,
            landmarks: [p(l.0, l.1), p(r.0, r.1), p(0.0, 0.0), p(0.0, 0.0), p(0.0, 0.0)],
        }
    }

    #[test]
    fn level_eyes_land_on_the_spec_eye_line_centred_at_the_spec_face_width() {
        let spec = PhotoSpec::preset(Preset::Chsi);
        let f = Frame::plan(&face((900.0, 1000.0), (1100.0, 1000.0), 480.0), &spec);
        assert_eq!(f.scale, 0.5);
        assert_eq!(f.roll_deg, 0.0);
        let eye = f.to_output(Point { x: 1000.0, y: 1000.0 });
        assert_eq!((eye.x, eye.y), (240.0, 250.0));
        let back = f.to_source(240.0, 250.0);
        assert_eq!((back.x, back.y), (1000.0, 1000.0));
    }

    #[test]
    fn a_rolled_head_is_levelled() {
        let spec = PhotoSpec::preset(Preset::Chsi);
        let f = Frame::plan(&face((900.0, 950.0), (1100.0, 1050.0), 480.0), &spec);
        assert!((f.roll_deg - 26.565).abs() < 0.01, "{}", f.roll_deg);
        let (l, r) = (f.to_output(Point { x: 900.0, y: 950.0 }), f.to_output(Point { x: 1100.0, y: 1050.0 }));
        assert!((l.y - r.y).abs() < 1e-3, "eyes level in the output: {l:?} {r:?}");
    }

    #[test]
    fn overflow_measures_the_frame_past_the_sides_and_bottom_only() {
        let spec = PhotoSpec::preset(Preset::Chsi);
        // Eyes near the top of a big photo: the frame reaches above it, which is fine.
        let f = Frame::plan(&face((900.0, 100.0), (1100.0, 100.0), 480.0), &spec);
        assert_eq!(f.overflow(2000, 3000), 0.0);
        // Eyes near the bottom: the body would be cut off.
        let f = Frame::plan(&face((900.0, 2900.0), (1100.0, 2900.0), 480.0), &spec);
        assert!(f.overflow(2000, 3000) > 0.3);
    }

    #[test]
    fn warp_of_a_uniform_image_is_uniform_at_the_output_size() {
        let spec = PhotoSpec::preset(Preset::Chsi);
        let src = RgbImage::from_pixel(2000, 3000, Rgb([10, 20, 30]));
        let f = Frame::plan(&face((900.0, 1000.0), (1100.0, 1000.0), 240.0), &spec);
        let out = warp(&src, &f);
        assert_eq!(out.dimensions(), (480, 640));
        assert!(out.pixels().all(|p| p.0 == [10, 20, 30]));
    }
}
