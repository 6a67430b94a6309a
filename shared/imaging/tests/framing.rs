//! Framing on photos made from the astronaut: tall hair keeps its top, a tight half-body shot
//! is placed within the bands without reaching past the photo, a frame that cannot fit is
//! reported and shows no smeared pixels, the bands are kept with a margin; a distant, blurred
//! face is background; and what the file's EXIF says about where it comes from.

mod common;

use common::*;
use image::{Rgb, RgbImage};
use yunzhao_domain::campaign::{PhotoSpec, Preset};
use yunzhao_domain::photo::Reason;
use yunzhao_imaging::detect::Point;
use yunzhao_imaging::pipeline::Output;
use yunzhao_imaging::{Options, run_pipeline_with};

/// Rows of plain wall added above the astronaut (her hair reaches the photo's top).
const PAD: u32 = 188;

/// The astronaut on a taller photo: a wall above her, blended into the original's top rows.
fn padded() -> RgbImage {
    let a = astronaut();
    let mut wall = [0f32; 3];
    for x in 0..a.width() {
        for y in 0..8 {
            (0..3).for_each(|c| wall[c] += a.get_pixel(x, y)[c] as f32 / (8 * a.width()) as f32);
        }
    }
    RgbImage::from_fn(a.width(), a.height() + PAD, |x, y| {
        if y < PAD {
            return Rgb(wall.map(|v| v as u8));
        }
        let p = a.get_pixel(x, y - PAD).0;
        let t = ((y - PAD) as f32 / 24.0).min(1.0);
        Rgb([0, 1, 2].map(|c| (p[c] as f32 * t + wall[c] * (1.0 - t)) as u8))
    })
}

/// The first row from the top where column `x` leaves the wall: the top of her hair.
fn hair_top(img: &RgbImage, x: u32) -> u32 {
    let wall = img.get_pixel(x, PAD + 5).0;
    (PAD + 5..img.height())
        .find(|&y| {
            img.get_pixel(x, y).0.iter().zip(wall).map(|(a, b)| (*a as f32 - b as f32).abs()).sum::<f32>() > 120.0
        })
        .expect("hair below the wall")
}

/// The student's eyes and face width, from the pipeline's own detector.
fn eyes_and_width(img: &RgbImage) -> (Point, f32) {
    let face = &models().detect(img).expect("detect")[0];
    let (l, r) = face.eyes();
    (Point { x: (l.x + r.x) / 2.0, y: (l.y + r.y) / 2.0 }, face.width())
}

fn placement(out: &Output) -> yunzhao_imaging::frame::Placement {
    out.report.placement.expect("a placement")
}

#[test]
fn a_tall_bun_keeps_its_top_and_the_face_shrinks_to_make_room() {
    let plain = padded();
    let (eyes, _) = eyes_and_width(&plain);
    let top = hair_top(&plain, eyes.x as u32);
    // A bun of her hair's colour and grain on the crown, reaching 24 px above it.
    let mut bun = plain.clone();
    let hair = mean_colour(&plain, eyes.x as u32 - 15, top + 8, eyes.x as u32 + 15, top + 20);
    paint_ellipse(&mut bun, (eyes.x, top as f32 - 4.0), (24.0, 28.0), hair);
    let inside =
        |x: u32, y: u32| ((x as f32 - eyes.x) / 22.0).powi(2) + ((y as f32 - top as f32 + 4.0) / 26.0).powi(2) < 1.0;
    for (x, y, p) in bun.enumerate_pixels_mut().filter(|(x, y, _)| inside(*x, *y)) {
        let grain = (((x * 7919 + y * 104_729).wrapping_mul(2_654_435_761) >> 27) as i32 - 16) as i16;
        p.0 = p.0.map(|v| (v as i16 + grain).clamp(0, 255) as u8);
    }
    let (before, after) = (run(&png(&plain)), run(&png(&bun)));
    assert!(after.report.passed, "{:?}", after.report.reasons);
    let (b, a) = (placement(&before), placement(&after));
    assert!(a.face_width_px < b.face_width_px, "a smaller face to fit the bun: {b:?} → {a:?}");
    assert!(a.head_top_margin_px > 0.0 && a.eyes_margin_px > 0.0 && a.face_width_margin_px > 0.0, "{a:?}");
    // The bun's top is in the standard photo, inside the band, and the photo shows hair there.
    let frame = after.report.frame.expect("frame");
    let bun_top = frame.to_output(Point { x: eyes.x, y: top as f32 - 32.0 });
    assert!(bun_top.y >= 50.0 - 3.0, "the bun's top lands at {bun_top:?}");
    let photo = image::load_from_memory(&after.photo.expect("photo").standard_jpeg).expect("jpeg").into_rgb8();
    let (x, y) = (bun_top.x as u32, bun_top.y as u32 + 8);
    let p = photo.get_pixel(x, y).0;
    let blue = [100u8, 197, 255];
    let off_blue: u32 = p.iter().zip(blue).map(|(a, b)| a.abs_diff(b) as u32).sum();
    assert!(off_blue > 90, "hair, not background, just under the bun's top: {p:?} at ({x},{y})");
    // No row of the upper band is cut flat: above the measured head top, background only.
    let head_top = after.report.measurements["head_top_px"];
    assert!(head_top <= bun_top.y + 10.0, "the head top is the bun's: {head_top} vs {bun_top:?}");
}

#[test]
fn a_tight_half_body_photo_is_framed_within_the_bands_without_overflow() {
    let plain = padded();
    let (eyes, width) = eyes_and_width(&plain);
    // The photo ends 1.45 face widths below the eyes: the bands' middle reaches 1.6 below.
    let tight = image::imageops::crop_imm(&plain, 0, 0, plain.width(), (eyes.y + 1.45 * width) as u32).to_image();
    let out = run(&png(&tight));
    assert!(out.report.passed, "{:?} {:?}", out.report.reasons, out.report.placement);
    let p = placement(&out);
    assert!(p.body_cut_px <= 1.0, "{p:?}");
    assert!(p.eyes_margin_px > 0.0 && p.head_top_margin_px > 0.0 && p.face_width_margin_px > 0.0, "{p:?}");
}

#[test]
fn a_frame_that_cannot_fit_fails_and_shows_background_not_smeared_rows() {
    let plain = padded();
    let (eyes, width) = eyes_and_width(&plain);
    // The photo ends just under the chin.
    let short = image::imageops::crop_imm(&plain, 0, 0, plain.width(), (eyes.y + 0.9 * width) as u32).to_image();
    let out = run(&png(&short));
    assert!(out.report.reasons.contains(&Reason::CropOutOfFrame), "{:?}", out.report.reasons);
    assert!(placement(&out).body_cut_px > 20.0, "{:?}", out.report.placement);
    // The rows beyond the photo are the background colour, not the last row repeated.
    let photo = image::load_from_memory(&out.photo.expect("a photo to show the student").standard_jpeg)
        .expect("jpeg")
        .into_rgb8();
    let (w, h) = photo.dimensions();
    for x in (0..w).step_by(16) {
        let p = photo.get_pixel(x, h - 3).0;
        let off: u32 = p.iter().zip([100u8, 197, 255]).map(|(a, b)| a.abs_diff(b) as u32).sum();
        assert!(off <= 12, "bottom row at x={x} is {p:?}, not the background");
    }
}

#[test]
fn the_astronaut_sits_inside_every_band_by_a_margin() {
    let spec = PhotoSpec::preset(Preset::Chsi);
    let p = placement(&run(&png(&padded())));
    let share = |m: f32, b: yunzhao_domain::campaign::Band| m / (b.max - b.min) as f32;
    assert!(share(p.face_width_margin_px, spec.face_width) >= 0.15, "{p:?}");
    assert!(share(p.eyes_margin_px, spec.eyes_from_top) >= 0.15, "{p:?}");
    assert!(share(p.head_top_margin_px, spec.hairline_from_top) >= 0.15, "{p:?}");
}

/// `img` made `k` times smaller and blurred by a box of `blur` pixels.
fn small_copy(img: &RgbImage, k: f32, blur: f32) -> RgbImage {
    let (w, h) = ((img.width() as f32 / k) as u32, (img.height() as f32 / k) as u32);
    let small = image::imageops::resize(img, w, h, image::imageops::FilterType::Triangle);
    if blur > 0.0 { image::imageops::blur(&small, blur) } else { small }
}

#[test]
fn a_blurred_face_far_behind_is_background_and_a_sharp_one_beside_is_a_second_person() {
    let a = astronaut();
    // The astronaut on a wider photo, with another person's face (a copy of hers, half the
    // size) in the background to the right.
    let photo = |other: &RgbImage, k: f32, at: (i64, i64)| {
        // Widened by mirroring her right-hand 200 columns (no face among them).
        let mut wide = RgbImage::from_fn(a.width() + 200, a.height(), |x, y| {
            if x < a.width() { *a.get_pixel(x, y) } else { *a.get_pixel(2 * a.width() - 1 - x, y) }
        });
        // Her head (170..280 × 10..190 in the original) with a margin, at the copy's scale.
        let (x0, y0, w, h) = ((150.0 / k) as u32, (0.0 / k) as u32, (150.0 / k) as u32, (210.0 / k) as u32);
        let face = image::imageops::crop_imm(other, x0, y0, w, h).to_image();
        image::imageops::overlay(&mut wide, &face, at.0, at.1);
        wide
    };
    let blurred = photo(&small_copy(&a, 1.6, 3.0), 1.6, (600, 60));
    let out = run(&png(&blurred));
    assert!(
        !out.report.reasons.contains(&Reason::MultipleFaces),
        "{:?} {:?}",
        out.report.reasons,
        out.report.measurements
    );
    assert!(
        out.report.hints.iter().any(|h| h.code == yunzhao_imaging::checks::Hint::BackgroundFaces),
        "told to the reviewer"
    );
    let sharp = photo(&small_copy(&a, 1.2, 0.0), 1.2, (340, 40));
    assert!(run(&png(&sharp)).report.reasons.contains(&Reason::MultipleFaces));
}

fn run_at(bytes: &[u8], uploaded: time::OffsetDateTime) -> Output {
    let options = Options { uploaded_at: Some(uploaded), ..Options::default() };
    run_pipeline_with(bytes, &PhotoSpec::preset(Preset::Chsi), models(), &options).expect("pipeline")
}

/// The hints about where the file came from (the astronaut also gets one for her hair over
/// her ears, which these tests are not about).
fn provenance_hints(out: &Output) -> Vec<yunzhao_imaging::checks::Hint> {
    use yunzhao_imaging::checks::Hint;
    let about_the_file = [Hint::NoCameraData, Hint::TakenLongAgo, Hint::UnknownSoftware];
    out.report.hints.iter().map(|h| h.code).filter(|c| about_the_file.contains(c)).collect()
}

#[test]
fn a_beauty_app_fails_make_up_or_filter_a_phone_does_not() {
    for app in ["Meitu", "BeautyCam 11.2.0", "美图秀秀"] {
        let out = run(&exif_jpeg(&astronaut(), &[(exif::Tag::Software, app), (exif::Tag::Make, "Xiaomi")]));
        assert!(out.report.reasons.contains(&Reason::MakeUpOrFilter), "{app}: {:?}", out.report.reasons);
    }
    let phone = run(&exif_jpeg(&astronaut(), &[(exif::Tag::Software, "iOS 17.1"), (exif::Tag::Make, "Apple")]));
    assert!(phone.report.passed, "{:?}", phone.report.reasons);
    assert!(provenance_hints(&phone).is_empty(), "{:?}", phone.report.hints);
}

#[test]
fn no_camera_data_and_an_old_capture_are_hints_for_the_reviewer_not_rejections() {
    use yunzhao_imaging::checks::Hint;
    let uploaded = time::macros::datetime!(2026-12-01 12:00 UTC);
    let bare = run_at(&png(&astronaut()), uploaded);
    assert!(bare.report.passed, "{:?}", bare.report.reasons);
    assert_eq!(provenance_hints(&bare), [Hint::NoCameraData]);
    let taken = |t: &str| exif_jpeg(&astronaut(), &[(exif::Tag::Make, "HUAWEI"), (exif::Tag::DateTimeOriginal, t)]);
    let old = run_at(&taken("2026:08:01 09:30:00"), uploaded);
    assert!(old.report.passed, "{:?}", old.report.reasons);
    let hint = old.report.hints.iter().find(|h| h.code == Hint::TakenLongAgo).expect("an old-photo hint");
    assert_eq!(hint.value, 122.0, "days between capture and upload");
    let fresh = run_at(&taken("2026:12:01 19:40:00"), uploaded);
    assert!(provenance_hints(&fresh).is_empty(), "taken 20 minutes before (Beijing time): {:?}", fresh.report.hints);
}
