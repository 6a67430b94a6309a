//! The appearance checks (guides' rules 3 and 4) on photos made from the astronaut: dark
//! sunglasses fail `tinted_glasses`; a grey lens, a fringe over the brows and hair over the
//! ears are shown to the reviewer with what was measured; the astronaut as she is passes.

mod common;

use common::*;
use image::RgbImage;
use yunzhao_domain::photo::Reason;
use yunzhao_imaging::checks::{Hint, limits};
use yunzhao_imaging::detect::Point;
use yunzhao_imaging::pipeline::Output;

/// Where the mesh found the astronaut's eyes, brows and ears, in the photo's own pixels (the
/// astronaut is small enough that the framing samples the photo itself).
struct Places {
    /// Each eye's centre and the mean eye width.
    eyes: [Point; 2],
    eye_w: f32,
    /// The brows' upper edge: lowest y of it, and the x span of both brows.
    brow_y: f32,
    brows_x: (f32, f32),
    /// The face's contour at the ears' height (image left, image right).
    contour: [Point; 2],
}

fn places(out: &Output) -> Places {
    let frame = out.report.frame.expect("a frame");
    let p = out.report.mesh.expect("the mesh finds the astronaut").points;
    let src = |q: Point| frame.to_source(q.x, q.y);
    let eyes = p.eye_corners.map(|(a, b)| src(Point { x: (a.x + b.x) / 2.0, y: (a.y + b.y) / 2.0 }));
    let eye_w = p.eye_corners.iter().map(|&(a, b)| ((a.x - b.x).powi(2) + (a.y - b.y).powi(2)).sqrt()).sum::<f32>()
        / 2.0
        / frame.scale;
    let brows: Vec<Point> = p.brows.iter().flatten().map(|&q| src(q)).collect();
    let brow_y = brows.iter().map(|q| q.y).fold(f32::MAX, f32::min);
    let xs = brows.iter().map(|q| q.x);
    let brows_x = (xs.clone().fold(f32::MAX, f32::min), xs.fold(f32::MIN, f32::max));
    Places { eyes, eye_w, brow_y, brows_x, contour: p.contour.map(src) }
}

/// Dark brown hair, strands running down: each column a little lighter or darker.
fn hair(x: u32, y: u32) -> [u8; 3] {
    let strand = ((x.wrapping_mul(2_654_435_761) >> 24) % 37) as i32 - 18;
    let grain = ((x ^ y).wrapping_mul(40_503) >> 12) as i32 % 7 - 3;
    let v = |base: i32| (base + strand + grain).clamp(0, 255) as u8;
    [v(45), v(33), v(26)]
}

/// Paints `paint` over the rectangle, blended in over its outer two pixels.
fn paint_rect(img: &mut RgbImage, (x0, y0): (f32, f32), (x1, y1): (f32, f32), paint: impl Fn(u32, u32) -> [u8; 3]) {
    for (x, y, p) in img.enumerate_pixels_mut() {
        let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
        let inside = (fx - x0).min(x1 - fx).min(fy - y0).min(y1 - fy);
        let a = (inside / 2.0).clamp(0.0, 1.0);
        for (v, f) in p.0.iter_mut().zip(paint(x, y)) {
            *v = (*v as f32 * (1.0 - a) + f as f32 * a).round() as u8;
        }
    }
}

fn hinted(out: &Output, code: Hint) -> Option<f32> {
    out.report.hints.iter().find(|h| h.code == code).map(|h| h.value)
}

fn lens_check(out: &Output) -> (bool, f32) {
    let c = out.report.checks.iter().find(|c| c.code == Reason::TintedGlasses).expect("the lenses are checked");
    (c.passed, c.value)
}

/// Lenses over both eyes of the colour `fill`, letting `through` of what is behind them show.
fn with_lenses(img: &RgbImage, at: &Places, fill: [u8; 3], through: f32) -> RgbImage {
    let mut out = img.clone();
    for e in at.eyes {
        let (rx, ry) = (0.8 * at.eye_w, 0.6 * at.eye_w);
        for (x, y, p) in out.enumerate_pixels_mut() {
            let d = ((x as f32 + 0.5 - e.x) / rx).powi(2) + ((y as f32 + 0.5 - e.y) / ry).powi(2);
            if d <= 1.0 {
                for (v, f) in p.0.iter_mut().zip(fill) {
                    *v = (*v as f32 * through + f as f32 * (1.0 - through)).round() as u8;
                }
            }
        }
    }
    out
}

#[test]
fn the_astronaut_wears_no_tinted_glasses_and_her_short_hair_is_shown_as_it_is() {
    let out = run(&png(&astronaut()));
    assert!(out.report.passed, "{:?}", out.report.reasons);
    let (passed, lens) = lens_check(&out);
    assert!(passed && lens > 0.8, "nothing before her eyes: {lens}");
    assert_eq!(hinted(&out, Hint::LensesMayBeTinted), None);
    assert_eq!(hinted(&out, Hint::FaceDetailsUnmeasured), None);
    // Her hair does come over her ears: that is shown, not failed.
    let ears = hinted(&out, Hint::EarsCovered).expect("her hair covers her ears");
    assert!(ears < limits::MIN_EAR_SKIN, "{ears}");
}

#[test]
fn dark_sunglasses_fail_tinted_glasses_and_a_grey_lens_is_shown_to_the_reviewer() {
    let img = astronaut();
    let at = places(&run(&png(&img)));
    let dark = run(&png(&with_lenses(&img, &at, [25, 25, 30], 0.0)));
    let (passed, lens) = lens_check(&dark);
    assert!(!passed && lens < limits::MIN_LENS_LUMA, "sunglasses measure {lens}");
    assert!(failed(&dark).contains(&Reason::TintedGlasses));

    // A lens letting a fifth through (30 % measures 0.40 here, at the hint's edge).
    let grey = run(&png(&with_lenses(&img, &at, [30, 30, 30], 0.2)));
    let (passed, lens) = lens_check(&grey);
    assert!(passed, "a grey lens letting 20 % through is not failed: {lens}");
    assert_eq!(hinted(&grey, Hint::LensesMayBeTinted), Some(lens), "but shown: {lens}");
}

#[test]
fn a_fringe_down_over_the_brows_is_shown_to_the_reviewer() {
    let img = astronaut();
    let before = run(&png(&img));
    let at = places(&before);
    let brows = before.report.measurements["brow_skin"];
    let mut fringe = img.clone();
    let w = at.eye_w;
    paint_rect(
        &mut fringe,
        (at.brows_x.0 - 0.4 * w, at.brow_y - 2.0 * w),
        (at.brows_x.1 + 0.4 * w, at.brow_y + 0.2 * w),
        hair,
    );
    let out = run(&png(&fringe));
    let covered = hinted(&out, Hint::BrowsCovered).expect("a fringe over the brows is shown");
    assert!(covered < 0.1 && covered < brows, "skin above the brows: {covered}, before {brows}");
    assert!(!failed(&out).contains(&Reason::TintedGlasses), "a fringe is not glasses: {:?}", out.report.reasons);
}

#[test]
fn ears_are_judged_by_what_lies_beside_the_face_at_their_height() {
    let img = astronaut();
    let at = places(&run(&png(&img)));
    let w = at.eye_w;
    // Skin where her hair lies over the ears: ears showing.
    let mut ears = img.clone();
    let skin = mean_colour(
        &img,
        at.eyes[0].x as u32,
        (at.eyes[0].y + w) as u32,
        (at.eyes[0].x + 8.0) as u32,
        (at.eyes[0].y + w) as u32 + 8,
    );
    for (c, side) in at.contour.iter().zip([-1.0f32, 1.0]) {
        let (near, far) = (c.x - side * 0.05 * w, c.x + side * 0.35 * w);
        paint_ellipse(&mut ears, ((near + far) / 2.0, c.y + 0.1 * w), ((far - near).abs() / 2.0 + 2.0, 0.7 * w), skin);
    }
    let shown = run(&png(&ears));
    assert_eq!(hinted(&shown, Hint::EarsCovered), None, "{:?}", shown.report.measurements.get("ear_skin"));
    // The same ears under hair.
    let mut covered = ears.clone();
    for (c, side) in at.contour.iter().zip([-1.0f32, 1.0]) {
        let (a, b) = (c.x - side * 0.1 * w, c.x + side * 0.7 * w);
        paint_rect(&mut covered, (a.min(b), c.y - 1.6 * w), (a.max(b), c.y + 1.4 * w), hair);
    }
    let hidden = run(&png(&covered));
    let value = hinted(&hidden, Hint::EarsCovered).expect("hair over the ears is shown");
    assert!(value < limits::MIN_EAR_SKIN, "{value}");
}
