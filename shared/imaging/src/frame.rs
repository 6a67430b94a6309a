//! Where the standard photo comes from in the original, decided in one place.
//!
//! A frame is one affine map (scale, roll correction, translation) from the photo to the
//! output. Framing takes two steps:
//! 1. [`Frame::analysis`]: a wider view of the same face, upright, holding every placement the
//!    spec's bands allow; the matte is made on it, so the person is known everywhere the final
//!    frame could show.
//! 2. [`fit`]: an explicit search over the bands (face width × eye line, the face centred) for
//!    the placement that keeps the largest margin inside every band (face width, eye line,
//!    head top) without showing a part of the person the photo does not have. A placement
//!    that cannot avoid it is still chosen (the least cut) and reported, never smeared.

use image::{GrayImage, RgbImage};
use serde::Serialize;
use yunzhao_domain::campaign::{Band, PhotoSpec};

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

/// p ↦ M·p + t, between a frame's output pixels and the photo's pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine {
    m: [f32; 4],
    t: [f32; 2],
}

impl Affine {
    /// The map with linear part `m` (row-major) that takes `from` to `to`.
    fn new(m: [f32; 4], from: Point, to: Point) -> Self {
        Self { m, t: [to.x - m[0] * from.x - m[1] * from.y, to.y - m[2] * from.x - m[3] * from.y] }
    }

    pub fn apply(&self, p: Point) -> Point {
        let m = &self.m;
        Point { x: m[0] * p.x + m[1] * p.y + self.t[0], y: m[2] * p.x + m[3] * p.y + self.t[1] }
    }

    /// `self` after `first`.
    pub fn after(&self, first: &Affine) -> Self {
        let (a, b) = (&self.m, &first.m);
        let m = [
            a[0] * b[0] + a[1] * b[2],
            a[0] * b[1] + a[1] * b[3],
            a[2] * b[0] + a[3] * b[2],
            a[2] * b[1] + a[3] * b[3],
        ];
        let t = self.apply(Point { x: first.t[0], y: first.t[1] });
        Self { m, t: [t.x, t.y] }
    }
}

/// The analysis view's size: the matting network's input (3:4) at 4/3, so the face detector
/// and the matte both see it well.
pub const ANALYSIS_W: u32 = 384;
pub const ANALYSIS_H: u32 = 512;

fn mid(b: Band) -> f32 {
    (b.min + b.max) as f32 / 2.0
}

fn roll_and_midpoint(face: &Face) -> (f32, Point) {
    let (l, r) = face.eyes();
    ((r.y - l.y).atan2(r.x - l.x).to_degrees(), Point { x: (l.x + r.x) / 2.0, y: (l.y + r.y) / 2.0 })
}

impl Frame {
    /// The frame at the centre of every band: eyes level at the middle of the eye band,
    /// centred, the face at the middle of the face-width band.
    pub fn plan(face: &Face, spec: &PhotoSpec) -> Self {
        let (roll_deg, eye_src) = roll_and_midpoint(face);
        let scale = mid(spec.face_width) / face.width().max(1.0);
        let eye_out = Point { x: spec.width_px as f32 / 2.0, y: mid(spec.eyes_from_top) };
        Self { out_w: spec.width_px, out_h: spec.height_px, scale, roll_deg, eye_src, eye_out }
    }

    /// The upright view around the face that holds every frame [`fit`] may choose: from the
    /// highest top (eyes lowest, face smallest) to the lowest bottom, at ANALYSIS_W×ANALYSIS_H.
    pub fn analysis(face: &Face, spec: &PhotoSpec) -> Self {
        let (roll_deg, eye_src) = roll_and_midpoint(face);
        let smallest = spec.face_width.min.max(1) as f32 / face.width().max(1.0);
        // Source pixels the widest frames reach above, below and beside the eyes.
        let above = spec.eyes_from_top.max as f32 / smallest;
        let below = (spec.height_px as f32 - spec.eyes_from_top.min as f32) / smallest;
        let beside = spec.width_px as f32 / 2.0 / smallest;
        let (w, h) = (ANALYSIS_W as f32, ANALYSIS_H as f32);
        let scale = (h / (above + below)).min(w / (2.0 * beside));
        // Vertically: the reach above and below, centred in any height left over.
        let spare = h - (above + below) * scale;
        let eye_out = Point { x: w / 2.0, y: above * scale + spare / 2.0 };
        Self { out_w: ANALYSIS_W, out_h: ANALYSIS_H, scale, roll_deg, eye_src, eye_out }
    }

    /// The same view turned by a further `degrees` of roll correction about the eyes, and
    /// centred on `eyes` (a source point) instead.
    pub fn refined(&self, degrees: f32, eyes: Point) -> Self {
        Self { roll_deg: self.roll_deg + degrees, eye_src: eyes, ..*self }
    }

    /// A frame of the spec's size with the same roll: the eyes (`eyes`, source) centred at
    /// `eye_line` from the top, `scale` output pixels per source pixel.
    fn placed(&self, spec: &PhotoSpec, eyes: Point, scale: f32, eye_line: f32) -> Self {
        Self {
            out_w: spec.width_px,
            out_h: spec.height_px,
            scale,
            roll_deg: self.roll_deg,
            eye_src: eyes,
            eye_out: Point { x: spec.width_px as f32 / 2.0, y: eye_line },
        }
    }

    /// Output pixel → source pixel.
    pub fn to_source(&self, x: f32, y: f32) -> Point {
        self.source_map().apply(Point { x, y })
    }

    /// Source pixel → output pixel.
    pub fn to_output(&self, p: Point) -> Point {
        self.output_map().apply(p)
    }

    /// [`Frame::to_source`] as an affine map, for use per pixel (the trigonometry done once).
    pub fn source_map(&self) -> Affine {
        let (s, c) = self.roll_deg.to_radians().sin_cos();
        let k = 1.0 / self.scale;
        Affine::new([c * k, -s * k, s * k, c * k], self.eye_out, self.eye_src)
    }

    /// [`Frame::to_output`] as an affine map.
    pub fn output_map(&self) -> Affine {
        let (s, c) = self.roll_deg.to_radians().sin_cos();
        let k = self.scale;
        Affine::new([c * k, s * k, -s * k, c * k], self.eye_src, self.eye_out)
    }

    /// Where the eyes land (output pixels from the top).
    pub fn eye_line(&self) -> f32 {
        self.eye_out.y
    }

    /// Where the eye midpoint lands across (output pixels from the left).
    pub fn eye_line_x(&self) -> f32 {
        self.eye_out.x
    }

    /// The frame re-expressed on a copy of the photo resized by (`fx`, `fy`).
    pub fn on_resized(&self, fx: f32, fy: f32) -> Self {
        Self { scale: self.scale / fx, eye_src: Point { x: self.eye_src.x * fx, y: self.eye_src.y * fy }, ..*self }
    }

    /// How deep (output pixels) the frame reaches past the photo's edges where the person
    /// continues there: `is_person` is asked at the photo's edge nearest to each point of the
    /// frame's border that lies outside the photo. Background beyond the photo costs nothing:
    /// it is made anyway.
    pub fn body_cut(&self, src_w: u32, src_h: u32, is_person: &dyn Fn(Point) -> bool) -> f32 {
        let (w, h) = (self.out_w as f32, self.out_h as f32);
        let (sw, sh) = (src_w as f32, src_h as f32);
        let step = 4.0;
        let mut worst: f32 = 0.0;
        let map = self.source_map();
        let mut probe = |x: f32, y: f32| {
            let p = map.apply(Point { x, y });
            let q = Point { x: p.x.clamp(0.0, sw - 1.0), y: p.y.clamp(0.0, sh - 1.0) };
            let depth = ((p.x - q.x).powi(2) + (p.y - q.y).powi(2)).sqrt() * self.scale;
            if depth > worst && is_person(q) {
                worst = depth;
            }
        };
        let mut x = 0.5;
        while x < w {
            probe(x, 0.5);
            probe(x, h - 0.5);
            x += step;
        }
        let mut y = 0.5;
        while y < h {
            probe(0.5, y);
            probe(w - 0.5, y);
            y += step;
        }
        worst
    }
}

/// The person as the analysis view shows them, in source pixels: what [`fit`] places.
#[derive(Debug, Clone, Copy)]
pub struct Subject {
    /// Eye midpoint (source pixels).
    pub eyes: Point,
    /// Face width (source pixels, roll-corrected).
    pub face_width: f32,
    /// Height of the top of the head (hair included) above the eyes, along the upright axis
    /// (source pixels).
    pub top_above_eyes: f32,
}

/// Where the chosen frame puts the person, and how far inside each band.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Placement {
    pub face_width_px: f32,
    pub eyes_from_top_px: f32,
    pub head_top_px: f32,
    /// Distance to the nearer edge of each band, output pixels (negative: outside).
    pub face_width_margin_px: f32,
    pub eyes_margin_px: f32,
    pub head_top_margin_px: f32,
    /// How deep the frame reaches past the photo where the person continues (output pixels).
    pub body_cut_px: f32,
    /// Frames tried.
    pub candidates: u32,
}

impl Placement {
    /// The smallest margin as a share of its band's width: the placement's safety.
    pub fn safety(&self, spec: &PhotoSpec) -> f32 {
        let share = |m: f32, b: Band| m / (b.max - b.min).max(1) as f32;
        share(self.face_width_margin_px, spec.face_width)
            .min(share(self.eyes_margin_px, spec.eyes_from_top))
            .min(share(self.head_top_margin_px, spec.hairline_from_top))
    }

    /// How far outside the bands (as band shares) and past the photo (as frame shares) it is.
    fn badness(&self, spec: &PhotoSpec) -> f32 {
        let out = |m: f32, b: Band| (-m).max(0.0) / (b.max - b.min).max(1) as f32;
        let cut = (self.body_cut_px - MAX_BODY_CUT_PX).max(0.0) / spec.height_px as f32;
        out(self.face_width_margin_px, spec.face_width)
            + out(self.eyes_margin_px, spec.eyes_from_top)
            + out(self.head_top_margin_px, spec.hairline_from_top)
            + 10.0 * cut
    }
}

/// Up to this many output pixels past the photo's edge is interpolation, not a cut.
pub const MAX_BODY_CUT_PX: f32 = 1.0;
/// Steps of the search over each of face width and eye line.
const STEPS: u32 = 41;

fn margin(v: f32, b: Band) -> f32 {
    (v - b.min as f32).min(b.max as f32 - v)
}

/// The frame for `subject` on a photo of `src_w`×`src_h`: of every placement with the face at
/// a width in its band and the eyes in theirs (centred), the one that shows no part of the
/// person beyond the photo and keeps the largest margin inside all three bands; if none is
/// clean, the least bad. `view` supplies the roll; `is_person` answers for source points.
pub fn fit(
    view: &Frame,
    subject: &Subject,
    spec: &PhotoSpec,
    (src_w, src_h): (u32, u32),
    is_person: &dyn Fn(Point) -> bool,
) -> (Frame, Placement) {
    let (fw, eb) = (spec.face_width, spec.eyes_from_top);
    let face = subject.face_width.max(1.0);
    let mut tried = Vec::with_capacity((STEPS * STEPS) as usize);
    for i in 0..STEPS {
        let width = fw.min as f32 + (fw.max - fw.min) as f32 * i as f32 / (STEPS - 1) as f32;
        let scale = width / face;
        for j in 0..STEPS {
            let eye_line = eb.min as f32 + (eb.max - eb.min) as f32 * j as f32 / (STEPS - 1) as f32;
            let head_top = eye_line - subject.top_above_eyes * scale;
            let p = Placement {
                face_width_px: width,
                eyes_from_top_px: eye_line,
                head_top_px: head_top,
                face_width_margin_px: margin(width, fw),
                eyes_margin_px: margin(eye_line, eb),
                head_top_margin_px: margin(head_top, spec.hairline_from_top),
                body_cut_px: 0.0,
                candidates: STEPS * STEPS,
            };
            tried.push((view.placed(spec, subject.eyes, scale, eye_line), p));
        }
    }
    // Safest first; the first that cuts nothing wins.
    tried.sort_by(|a, b| b.1.safety(spec).total_cmp(&a.1.safety(spec)));
    let mut best: Option<(Frame, Placement)> = None;
    for (frame, mut p) in tried {
        p.body_cut_px = frame.body_cut(src_w, src_h, is_person);
        if p.body_cut_px <= MAX_BODY_CUT_PX && p.safety(spec) >= 0.0 {
            return (frame, p);
        }
        let better = match &best {
            None => true,
            Some((_, b)) => p.badness(spec) < b.badness(spec),
        };
        if better {
            best = Some((frame, p));
        }
    }
    // STEPS > 0, so something was tried; the fallback is never reached.
    best.unwrap_or_else(|| (view.placed(spec, subject.eyes, mid(fw) / face, mid(eb)), Placement::default()))
}

/// The photo reduced once so that no output pixel of `frames`, nor of a frame at scale
/// `finest`, skips more than two source pixels, and the frames re-expressed on it; every warp of one photo samples the small copy.
pub fn working_source<const N: usize>(src: &RgbImage, finest: f32, frames: [&Frame; N]) -> (RgbImage, [Frame; N], f32) {
    let finest = frames.iter().map(|f| f.scale).fold(finest, f32::max);
    if finest >= 0.5 {
        return (src.clone(), frames.map(|f| *f), 1.0);
    }
    let f = finest * 2.0;
    let (w, h) = (((src.width() as f32 * f).round() as u32).max(1), ((src.height() as f32 * f).round() as u32).max(1));
    let small = crate::resize::rgb(src, w, h);
    let (fx, fy) = (w as f32 / src.width() as f32, h as f32 / src.height() as f32);
    (small, frames.map(|fr| fr.on_resized(fx, fy)), fx)
}

/// Bilinear sampling at `p` (pixel centres at +0.5) of a `w`×`h` image, edges repeated: the
/// indices of the four neighbours (row-major) and the weights towards x + 1 and y + 1.
fn bilinear(p: Point, w: i64, h: i64) -> ([usize; 4], f32, f32) {
    let (fx, fy) = (p.x - 0.5, p.y - 0.5);
    let (x0, y0) = (fx.floor() as i64, fy.floor() as i64);
    let at = |x: i64, y: i64| (y.clamp(0, h - 1) * w + x.clamp(0, w - 1)) as usize;
    ([at(x0, y0), at(x0 + 1, y0), at(x0, y0 + 1), at(x0 + 1, y0 + 1)], fx - x0 as f32, fy - y0 as f32)
}

/// Samples `src` through the frame (bilinear). Beyond the photo's edges the nearest edge pixel
/// is repeated: [`matte_into`] gives those pixels no alpha, so it never shows.
pub fn warp(src: &RgbImage, frame: &Frame) -> RgbImage {
    let (w, h) = (src.width() as i64, src.height() as i64);
    let (data, map) = (src.as_raw(), frame.source_map());
    let mut out = vec![0u8; frame.out_w as usize * frame.out_h as usize * 3];
    for (y, row) in out.chunks_exact_mut(frame.out_w as usize * 3).enumerate() {
        for (x, px) in row.chunks_exact_mut(3).enumerate() {
            let ([a, b, c, d], ax, ay) = bilinear(map.apply(Point { x: x as f32 + 0.5, y: y as f32 + 0.5 }), w, h);
            let (a, b, c, d) = (a * 3, b * 3, c * 3, d * 3);
            for k in 0..3 {
                let top = f32::from(data[a + k]) * (1.0 - ax) + f32::from(data[b + k]) * ax;
                let bottom = f32::from(data[c + k]) * (1.0 - ax) + f32::from(data[d + k]) * ax;
                // A mean of bytes: within 0..=255, so `as` rounds without clamping.
                px[k] = (top * (1.0 - ay) + bottom * ay + 0.5) as u8;
            }
        }
    }
    RgbImage::from_raw(frame.out_w, frame.out_h, out).unwrap_or_else(|| RgbImage::new(frame.out_w, frame.out_h))
}

/// Whether output pixel (x, y) of a frame (its source map and scale) shows the photo, within
/// half a pixel of it.
fn shows_photo(source: &Affine, scale: f32, (src_w, src_h): (u32, u32), x: u32, y: u32) -> bool {
    let p = source.apply(Point { x: x as f32 + 0.5, y: y as f32 + 0.5 });
    let slack = 0.5 / scale.max(1e-6);
    p.x >= -slack && p.y >= -slack && p.x <= src_w as f32 + slack && p.y <= src_h as f32 + slack
}

/// The matte of the analysis `view` carried into `frame` (both on the same photo): bilinear,
/// and zero wherever the frame shows no photo, so what lies beyond the photo is background.
pub fn matte_into(view: &Frame, matte: &GrayImage, frame: &Frame, src_w: u32, src_h: u32) -> GrayImage {
    let (mw, mh) = (matte.width() as i64, matte.height() as i64);
    let (kx, ky) = (mw as f32 / view.out_w as f32, mh as f32 / view.out_h as f32);
    let data = matte.as_raw();
    let source = frame.source_map();
    // Frame output pixel → view output pixel → matte pixel, as one map.
    let to_matte = Affine { m: [kx, 0.0, 0.0, ky], t: [0.0, 0.0] }.after(&view.output_map().after(&source));
    GrayImage::from_fn(frame.out_w, frame.out_h, |x, y| {
        if !shows_photo(&source, frame.scale, (src_w, src_h), x, y) {
            return image::Luma([0]);
        }
        let ([a, b, c, d], ax, ay) = bilinear(to_matte.apply(Point { x: x as f32 + 0.5, y: y as f32 + 0.5 }), mw, mh);
        let v = |i: usize| f32::from(data[i]);
        let top = v(a) * (1.0 - ax) + v(b) * ax;
        let bottom = v(c) * (1.0 - ax) + v(d) * ax;
        // A mean of bytes: within 0..=255, so `as` rounds without clamping.
        image::Luma([(top * (1.0 - ay) + bottom * ay + 0.5) as u8])
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

    fn chsi() -> PhotoSpec {
        PhotoSpec::preset(Preset::Chsi)
    }

    /// A person in a photo of `w`×`h`: eyes at (1000, eye_y), a face 400 px wide, the head's
    /// top `top` above the eyes, the body below the chin as wide as the photo.
    fn subject(eye_y: f32, top: f32) -> Subject {
        Subject { eyes: Point { x: 1000.0, y: eye_y }, face_width: 400.0, top_above_eyes: top }
    }

    fn person(eye_y: f32, top: f32) -> impl Fn(Point) -> bool {
        move |q: Point| {
            let head = (q.x - 1000.0).abs() < 220.0 && q.y >= eye_y - top;
            let body = q.y >= eye_y + 300.0;
            head || body
        }
    }

    #[test]
    fn level_eyes_land_on_the_spec_eye_line_centred_at_the_spec_face_width() {
        let f = Frame::plan(&face((900.0, 1000.0), (1100.0, 1000.0), 480.0), &chsi());
        assert_eq!(f.scale, 0.5);
        assert_eq!(f.roll_deg, 0.0);
        let eye = f.to_output(Point { x: 1000.0, y: 1000.0 });
        assert_eq!((eye.x, eye.y), (240.0, 250.0));
        let back = f.to_source(240.0, 250.0);
        assert_eq!((back.x, back.y), (1000.0, 1000.0));
    }

    #[test]
    fn a_rolled_head_is_levelled() {
        let f = Frame::plan(&face((900.0, 950.0), (1100.0, 1050.0), 480.0), &chsi());
        assert!((f.roll_deg - 26.565).abs() < 0.01, "{}", f.roll_deg);
        let (l, r) = (f.to_output(Point { x: 900.0, y: 950.0 }), f.to_output(Point { x: 1100.0, y: 1050.0 }));
        assert!((l.y - r.y).abs() < 1e-3, "eyes level in the output: {l:?} {r:?}");
    }

    #[test]
    fn the_analysis_view_holds_every_frame_the_search_may_choose() {
        for preset in [Preset::Chsi, Preset::Degree, Preset::ResidentIdCard] {
            let spec = PhotoSpec::preset(preset);
            let f = face((900.0, 950.0), (1100.0, 1000.0), 400.0);
            let view = Frame::analysis(&f, &spec);
            let eyes = view.to_source(view.eye_line_x(), view.eye_line());
            for width in [spec.face_width.min, spec.face_width.max] {
                for eye_line in [spec.eyes_from_top.min, spec.eyes_from_top.max] {
                    let frame = view.placed(&spec, eyes, width as f32 / 400.0, eye_line as f32);
                    for (x, y) in [(0.0, 0.0), (spec.width_px as f32, 0.0), (0.0, spec.height_px as f32)] {
                        let p = view.to_output(frame.to_source(x, y));
                        let (w, h) = (ANALYSIS_W as f32, ANALYSIS_H as f32);
                        assert!(
                            (-0.5..=w + 0.5).contains(&p.x) && (-0.5..=h + 0.5).contains(&p.y),
                            "{preset:?}: corner ({x}, {y}) of a {width}-px face at {eye_line} lands at {p:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn with_room_everywhere_the_frame_sits_at_the_middle_of_every_band() {
        let spec = chsi();
        // Head top 0.55 face widths above the eyes: at a 240-px face it lands at 118.
        let s = subject(1500.0, 220.0);
        let view = Frame::analysis(&face((900.0, 1500.0), (1100.0, 1500.0), 400.0), &spec);
        let (_, p) = fit(&view, &s, &spec, (3000, 4000), &person(1500.0, 220.0));
        assert_eq!(p.body_cut_px, 0.0);
        for (m, name) in [(p.face_width_margin_px, "face"), (p.eyes_margin_px, "eyes"), (p.head_top_margin_px, "top")] {
            assert!(m >= 10.0, "{name} margin {m}: {p:?}");
        }
        assert!((spec.hairline_from_top.min as f32..=spec.hairline_from_top.max as f32).contains(&p.head_top_px));
    }

    #[test]
    fn tall_hair_makes_the_face_smaller_rather_than_leaving_the_band() {
        let spec = chsi();
        // A bun: the head's top 1.1 face widths above the eyes.
        let (eye_y, top) = (1500.0, 440.0);
        let view = Frame::analysis(&face((900.0, eye_y), (1100.0, eye_y), 400.0), &spec);
        let (_, p) = fit(&view, &subject(eye_y, top), &spec, (3000, 4000), &person(eye_y, top));
        assert!(p.head_top_margin_px > 0.0, "the top inside its band: {p:?}");
        assert!(p.face_width_px < 240.0, "a smaller face than the band's middle: {p:?}");
        assert!(p.eyes_margin_px > 0.0 && p.face_width_margin_px > 0.0, "{p:?}");
    }

    #[test]
    fn a_tight_half_body_photo_is_framed_without_reaching_past_its_bottom() {
        let spec = chsi();
        // The photo ends 1.4 face widths below the eyes (560 px): the middle of the bands
        // would reach 1.6 face widths below (390 px of output at a 240-px face).
        let (eye_y, top) = (500.0, 220.0);
        let view = Frame::analysis(&face((900.0, eye_y), (1100.0, eye_y), 400.0), &spec);
        let centred = view.placed(&spec, Point { x: 1000.0, y: eye_y }, 240.0 / 400.0, 250.0);
        assert!(centred.body_cut(2000, 1060, &person(eye_y, top)) > 30.0, "the middle would cut the body");
        let (frame, p) = fit(&view, &subject(eye_y, top), &spec, (2000, 1060), &person(eye_y, top));
        assert!(p.body_cut_px <= MAX_BODY_CUT_PX, "{p:?}");
        assert_eq!(frame.body_cut(2000, 1060, &person(eye_y, top)), p.body_cut_px);
        assert!(p.eyes_margin_px > 0.0 && p.head_top_margin_px > 0.0 && p.face_width_margin_px > 0.0, "{p:?}");
    }

    #[test]
    fn a_photo_that_cannot_hold_the_frame_is_reported_as_cut() {
        let spec = chsi();
        // The photo ends at the chin.
        let (eye_y, top) = (500.0, 220.0);
        let view = Frame::analysis(&face((900.0, eye_y), (1100.0, eye_y), 400.0), &spec);
        let (_, p) = fit(&view, &subject(eye_y, top), &spec, (2000, 760), &person(eye_y, top));
        assert!(p.body_cut_px > 20.0, "{p:?}");
    }

    #[test]
    fn background_beyond_the_photo_is_no_cut() {
        let spec = chsi();
        // The frame reaches far past the photo's top and sides, but only where there is
        // background; the person ends inside.
        let eye_y = 300.0;
        let view = Frame::analysis(&face((900.0, eye_y), (1100.0, eye_y), 400.0), &spec);
        let frame = view.placed(&spec, Point { x: 1000.0, y: eye_y }, 0.5, 280.0);
        let nobody = |_: Point| false;
        assert_eq!(frame.body_cut(1300, 2000, &nobody), 0.0);
        assert!(frame.body_cut(1300, 2000, &|_: Point| true) > 100.0);
    }

    #[test]
    fn the_matte_beyond_the_photo_is_background_and_inside_it_is_carried_over() {
        let spec = chsi();
        let view = Frame::analysis(&face((900.0, 300.0), (1100.0, 300.0), 400.0), &spec);
        let all = GrayImage::from_pixel(ANALYSIS_W, ANALYSIS_H, image::Luma([255]));
        let frame = view.placed(&spec, Point { x: 1000.0, y: 300.0 }, 0.6, 250.0);
        // The photo begins 100 px above the eyes: the frame's top rows show none of it.
        let alpha = matte_into(&view, &all, &frame, 2000, 3000);
        let above = frame.to_output(Point { x: 1000.0, y: 0.0 }).y;
        assert!(above > 10.0, "{above}");
        assert_eq!(alpha.get_pixel(240, (above - 5.0) as u32)[0], 0);
        assert_eq!(alpha.get_pixel(240, (above + 5.0) as u32)[0], 255);
    }

    #[test]
    fn warp_of_a_uniform_image_is_uniform_at_the_output_size() {
        let src = RgbImage::from_pixel(2000, 3000, image::Rgb([10, 20, 30]));
        let f = Frame::plan(&face((900.0, 1000.0), (1100.0, 1000.0), 240.0), &chsi());
        let out = warp(&src, &f);
        assert_eq!(out.dimensions(), (480, 640));
        assert!(out.pixels().all(|p| p.0 == [10, 20, 30]));
    }
}
