//! The pipeline on a real photo (scikit-image's astronaut, fetched by `make models`) and on
//! photos the tests make from it, one per photo rule; and on files that are not photos.

mod common;

use std::io::Cursor;

use common::*;
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use yunzhao_domain::photo::Reason;
use yunzhao_imaging::encode::jfif_density;

#[test]
fn the_astronaut_becomes_a_chsi_photo_within_every_band() {
    let out = run(&png(&astronaut()));
    assert!(out.report.passed, "{:?}", out.report.reasons);
    let mesh = out.report.mesh.expect("the face mesh finds the face");
    assert!(mesh.yaw_deg.abs() < 5.0 && mesh.pitch_deg.abs() < 15.0, "facing the camera: {mesh:?}");
    assert!(mesh.eye_openness > 0.25, "eyes open: {mesh:?}");
    let photo = out.photo.expect("photo");
    let jpeg = &photo.standard_jpeg;
    assert!((20 * 1024..=40 * 1024).contains(&jpeg.len()), "{} bytes", jpeg.len());
    assert_eq!(jfif_density(jpeg), Some((1, 300, 300)), "300 DPI in the JFIF header");
    let decoded = image::load_from_memory(jpeg).expect("decodes").into_rgb8();
    assert_eq!(decoded.dimensions(), (480, 640));
    // The background is the spec colour: the corners, within JPEG's ±2 rounding.
    for (x, y) in [(2, 2), (477, 2)] {
        let p = decoded.get_pixel(x, y).0;
        for (c, want) in p.iter().zip([100u8, 197, 255]) {
            assert!(c.abs_diff(want) <= 2, "corner ({x},{y}) is {p:?}");
        }
    }
    // Measured again on the output itself: eyes, face width, top of the head.
    let faces = models().detect(&decoded).expect("detect");
    assert_eq!(faces.len(), 1);
    let (l, r) = faces[0].eyes();
    for eye in [l, r] {
        assert!((200.0..=300.0).contains(&eye.y), "eye at {}", eye.y);
    }
    assert!((l.y - r.y).abs() < 4.0, "eyes level: {l:?} {r:?}");
    assert!((180.0..=300.0).contains(&faces[0].width()), "face width {}", faces[0].width());
    let top = out.report.measurements["head_top_px"];
    assert!((50.0..=110.0).contains(&top), "head top {top}");
    assert!(!photo.preview_jpeg.is_empty() && !photo.cutout_png.is_empty());
}

#[test]
fn two_faces_are_refused() {
    let a = astronaut();
    let mut two = RgbImage::new(1024, 512);
    image::imageops::replace(&mut two, &a, 0, 0);
    image::imageops::replace(&mut two, &a, 512, 0);
    assert_eq!(failed(&run(&png(&two))), vec![Reason::MultipleFaces]);
}

#[test]
fn no_face_is_refused() {
    let wall = RgbImage::from_fn(600, 800, |x, y| Rgb([(x / 3) as u8, (y / 4) as u8, 120]));
    let out = run(&png(&wall));
    assert_eq!(failed(&out), vec![Reason::NoFace]);
    assert!(out.photo.is_none());
}

#[test]
fn heavy_blur_is_blurry() {
    let blurred = image::imageops::blur(&astronaut(), 4.0);
    assert!(failed(&run(&png(&blurred))).contains(&Reason::Blurry));
}

#[test]
fn a_dark_photo_is_underexposed() {
    let mut dark = astronaut();
    dark.pixels_mut().for_each(|p| p.0 = p.0.map(|c| c / 4));
    assert!(failed(&run(&png(&dark))).contains(&Reason::Underexposed));
}

#[test]
fn half_the_face_darkened_is_uneven_lighting() {
    let mut img = astronaut();
    // The face spans x ≈ 180–270; darken everything left of its middle.
    for (x, _, p) in img.enumerate_pixels_mut() {
        if x < 225 {
            p.0 = p.0.map(|c| (c as f32 * 0.35) as u8);
        }
    }
    assert!(failed(&run(&png(&img))).contains(&Reason::UnevenLighting));
}

#[test]
fn eyes_painted_shut_are_eyes_closed() {
    let mut img = astronaut();
    // Where the detector puts the eyes on the untouched photo.
    let eyes = run(&png(&img)).report.faces[0].eyes();
    for e in [eyes.0, eyes.1] {
        let (x, y) = (e.x.round() as u32, e.y.round() as u32);
        // Lid-coloured skin over the eye, from just below it, and a line of lashes.
        let skin = mean_colour(&img, x - 8, y + 9, x + 8, y + 12);
        paint_ellipse(&mut img, (e.x, e.y), (12.0, 7.0), skin);
        // Closed lids curve down: lashes along the lower arc of a 22×12 ellipse.
        for t in (20..=160).step_by(5) {
            let (sin, cos) = (t as f32).to_radians().sin_cos();
            paint_ellipse(&mut img, (e.x + 11.0 * cos, e.y - 2.0 + 6.0 * sin), (1.2, 1.2), [70, 45, 35]);
        }
    }
    let out = run(&png(&img));
    assert!(failed(&out).contains(&Reason::EyesClosed), "{:?} {:?}", out.report.reasons, out.report.mesh);
}

#[test]
fn a_wide_open_mouth_is_mouth_open_and_a_smile_is_not() {
    let img = astronaut();
    let before = run(&png(&img));
    let smile = before.report.mesh.expect("mesh on the astronaut");
    assert!(!failed(&before).contains(&Reason::MouthOpen), "a smile: {}", smile.mouth_openness);
    // A dark opening between the mouth corners, as tall as it is wide.
    let f = &before.report.faces[0];
    let (l, r) = (f.landmarks[3], f.landmarks[4]);
    let mut open = img.clone();
    let half = (r.x - l.x) / 2.0 - 3.0;
    paint_ellipse(&mut open, ((l.x + r.x) / 2.0, (l.y + r.y) / 2.0 + 4.0), (half, half * 1.2), [45, 15, 15]);
    let out = run(&png(&open));
    assert!(failed(&out).contains(&Reason::MouthOpen), "{:?} {:?}", out.report.reasons, out.report.mesh);
}

fn rotate(img: &RgbImage, degrees: f32) -> RgbImage {
    let (s, c) = degrees.to_radians().sin_cos();
    let (cx, cy) = (img.width() as f32 / 2.0, img.height() as f32 / 2.0);
    RgbImage::from_fn(img.width(), img.height(), |x, y| {
        let (dx, dy) = (x as f32 - cx, y as f32 - cy);
        let (sx, sy) = (cx + c * dx + s * dy, cy - s * dx + c * dy);
        let (sx, sy) =
            (sx.clamp(0.0, img.width() as f32 - 1.0) as u32, sy.clamp(0.0, img.height() as f32 - 1.0) as u32);
        *img.get_pixel(sx, sy)
    })
}

#[test]
fn a_head_rotated_25_degrees_is_refused_as_tilted_and_a_small_roll_is_levelled() {
    let tilted = run(&png(&rotate(&astronaut(), 25.0)));
    assert!(failed(&tilted).contains(&Reason::HeadTilted), "{:?}", tilted.report.reasons);
    let roll = tilted.report.frame.expect("frame").roll_deg;
    assert!(roll.abs() > 20.0, "measured roll {roll}");

    let slight = run(&png(&rotate(&astronaut(), 8.0)));
    assert!(!failed(&slight).contains(&Reason::HeadTilted));
    let out = image::load_from_memory(&slight.photo.expect("photo").standard_jpeg).expect("jpeg").into_rgb8();
    let (l, r) = models().detect(&out).expect("detect")[0].eyes();
    assert!((l.y - r.y).abs() < 5.0, "eyes levelled: {l:?} {r:?}");
}

#[test]
fn a_tiny_image_is_low_resolution() {
    let tiny = image::imageops::resize(&astronaut(), 120, 120, image::imageops::FilterType::Triangle);
    assert!(failed(&run(&png(&tiny))).contains(&Reason::LowResolution));
}

/// A JPEG whose pixels are stored rotated, with EXIF orientation 6 saying "turn 90° clockwise".
fn exif_rotated_jpeg(upright: &RgbImage) -> Vec<u8> {
    let tiff: &[u8] =
        &[b'M', b'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0];
    jpeg_with_exif(&image::imageops::rotate270(upright), tiff)
}

#[test]
fn a_photo_from_the_front_camera_is_a_selfie() {
    let lens = |model: &str| exif_jpeg(&astronaut(), &[(exif::Tag::LensModel, model)]);
    let front = run(&lens("iPhone 13 front camera 2.71mm f/2.2"));
    assert_eq!(front.report.input.lens_model.as_deref(), Some("iPhone 13 front camera 2.71mm f/2.2"));
    assert!(failed(&front).contains(&Reason::Selfie), "{:?}", front.report.reasons);
    let back = run(&lens("iPhone 13 back dual wide camera 5.1mm f/1.6"));
    assert!(!failed(&back).contains(&Reason::Selfie), "{:?}", back.report.reasons);
}

#[test]
fn an_exif_rotated_photo_comes_out_upright() {
    let out = run(&exif_rotated_jpeg(&astronaut()));
    assert_eq!(out.report.input.exif_orientation, 6);
    assert!(out.report.passed, "{:?}", out.report.reasons);
    assert!(out.report.frame.expect("frame").roll_deg.abs() < 10.0, "upright after orientation");
}

#[test]
fn clothing_in_the_background_colour_is_refused() {
    let mut img = astronaut();
    // Recolour the suit below the chin to the CHSI blue, keeping its shading.
    for (_, y, p) in img.enumerate_pixels_mut() {
        if y > 200 {
            let l = (p[0] as f32 * 0.3 + p[1] as f32 * 0.59 + p[2] as f32 * 0.11) / 255.0;
            let shade = 0.85 + 0.3 * l;
            p.0 = [100.0 * shade, 197.0 * shade, 255.0f32.min(255.0 * shade)].map(|c| c.min(255.0) as u8);
        }
    }
    let out = run(&png(&img));
    assert!(failed(&out).contains(&Reason::ClothingMatchesBackground), "{:?}", out.report.checks);
}

#[test]
fn png_and_webp_named_anything_are_processed_normally() {
    let mut webp = Vec::new();
    DynamicImage::ImageRgb8(astronaut()).write_to(&mut Cursor::new(&mut webp), ImageFormat::WebP).expect("webp");
    let out = run(&webp);
    assert_eq!(out.report.input.format, Some("webp"));
    assert!(out.report.passed, "{:?}", out.report.reasons);
}

#[test]
fn files_that_are_not_photos_end_as_not_a_photo_without_crashing() {
    let mut truncated = Vec::new();
    astronaut().write_to(&mut Cursor::new(&mut truncated), ImageFormat::Jpeg).expect("jpeg");
    truncated.truncate(truncated.len() / 2);
    let random: Vec<u8> = (0..50_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    // A 12000×12000 PNG of zeros compresses to little: a decompression bomb.
    let bomb = png(&RgbImage::new(1, 1));
    let mut header = bomb.clone();
    header[16..20].copy_from_slice(&20_000u32.to_be_bytes());
    header[20..24].copy_from_slice(&20_000u32.to_be_bytes());
    for (name, bytes) in [("truncated", truncated), ("random", random), ("empty", Vec::new()), ("20000x20000", header)]
    {
        let out = run(&bytes);
        assert!(out.photo.is_none(), "{name} produced a photo");
        assert!(
            out.report.reasons.contains(&Reason::NotAPhoto) || out.report.reasons.contains(&Reason::NoFace),
            "{name}: {:?}",
            out.report.reasons
        );
    }
}

fn jpeg(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), ImageFormat::Jpeg).expect("jpeg");
    out
}

#[test]
fn a_large_jpeg_is_decoded_reduced_and_again_whole_where_the_face_is_too_small_for_that() {
    // 12 MP, wall above, the astronaut below: once as large as a phone portrait's, once
    // smaller (its face 250 px: at half size it would have to be enlarged to fill the band).
    let a = astronaut();
    let wall = *a.get_pixel(4, 4);
    let photo = |side: u32| {
        let big = image::imageops::resize(&a, side, side, image::imageops::FilterType::CatmullRom);
        let mut canvas = RgbImage::from_pixel(3024, 4032, wall);
        image::imageops::replace(&mut canvas, &big, i64::from((3024 - side) / 2), i64::from(4032 - side));
        canvas
    };
    let portrait = run(&jpeg(&photo(3024)));
    assert_eq!(portrait.report.measurements.get("decode_scale"), Some(&0.5), "{:?}", portrait.report.measurements);
    assert_eq!((portrait.report.input.width, portrait.report.input.height), (3024, 4032));
    assert!(portrait.photo.is_some() && failed(&portrait).is_empty(), "{:?}", failed(&portrait));

    let distant = photo(1408);
    let bytes = jpeg(&distant);
    let out = run(&bytes);
    assert_eq!(out.report.measurements.get("decode_scale"), Some(&1.0), "decoded again, whole");
    // Framed as the same pixels decoded whole from the start (a PNG is never reduced).
    let whole = yunzhao_imaging::decode::decode(&bytes).expect("decodes").image;
    let reference = run(&png(&whole));
    assert_eq!(failed(&out), failed(&reference));
    for m in ["face_width_px", "eyes_from_top_px", "head_top_px"] {
        let (got, want) = (out.report.measurements[m], reference.report.measurements[m]);
        assert!((got - want).abs() <= 3.0, "{m}: {got} against {want}");
    }
}
