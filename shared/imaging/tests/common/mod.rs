//! What the pipeline's tests share: the models (loaded once), the astronaut, and ways to
//! make photos from it.
#![allow(dead_code)]

use std::io::Cursor;
use std::sync::OnceLock;

use image::{ImageFormat, RgbImage};
use yunzhao_domain::campaign::{PhotoSpec, Preset};
use yunzhao_domain::photo::Reason;
use yunzhao_imaging::pipeline::Output;
use yunzhao_imaging::{Models, run_pipeline};

pub fn models_dir() -> std::path::PathBuf {
    std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../models")).to_path_buf()
}

pub fn models() -> &'static Models {
    static M: OnceLock<Models> = OnceLock::new();
    M.get_or_init(|| Models::load(&models_dir()).expect("models (run `make models`)"))
}

pub fn astronaut() -> RgbImage {
    image::open(models_dir().join("astronaut.png")).expect("models/astronaut.png (run `make models`)").into_rgb8()
}

pub fn png(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png).expect("png");
    out
}

pub fn run(bytes: &[u8]) -> Output {
    run_pipeline(bytes, &PhotoSpec::preset(Preset::Chsi), models()).expect("pipeline")
}

pub fn failed(out: &Output) -> Vec<Reason> {
    out.report.reasons.clone()
}

/// Fills an ellipse (centre, radii) with `fill`, feathered over its outer 20 %.
pub fn paint_ellipse(img: &mut RgbImage, (cx, cy): (f32, f32), (rx, ry): (f32, f32), fill: [u8; 3]) {
    for (x, y, p) in img.enumerate_pixels_mut() {
        let d = ((x as f32 + 0.5 - cx) / rx).powi(2) + ((y as f32 + 0.5 - cy) / ry).powi(2);
        let a = ((1.0 - d.sqrt()) / 0.2).clamp(0.0, 1.0);
        for (v, f) in p.0.iter_mut().zip(fill) {
            *v = (*v as f32 * (1.0 - a) + f as f32 * a).round() as u8;
        }
    }
}

/// A JPEG of `img` with an EXIF block (TIFF bytes) as phones write it, right after SOI.
pub fn jpeg_with_exif(img: &RgbImage, tiff: &[u8]) -> Vec<u8> {
    let mut jpeg = Vec::new();
    img.write_to(&mut Cursor::new(&mut jpeg), ImageFormat::Jpeg).expect("jpeg");
    let mut app1 = vec![0xFF, 0xE1];
    app1.extend_from_slice(&((tiff.len() + 8) as u16).to_be_bytes());
    app1.extend_from_slice(b"Exif\0\0");
    app1.extend_from_slice(tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// A JPEG of `img` carrying the given EXIF text fields of the primary image.
pub fn exif_jpeg(img: &RgbImage, fields: &[(exif::Tag, &str)]) -> Vec<u8> {
    let fields: Vec<exif::Field> = fields
        .iter()
        .map(|(tag, text)| exif::Field {
            tag: *tag,
            ifd_num: exif::In::PRIMARY,
            value: exif::Value::Ascii(vec![text.as_bytes().to_vec()]),
        })
        .collect();
    let mut writer = exif::experimental::Writer::new();
    for f in &fields {
        writer.push_field(f);
    }
    let mut tiff = Cursor::new(Vec::new());
    writer.write(&mut tiff, false).expect("exif");
    jpeg_with_exif(img, &tiff.into_inner())
}

/// The mean colour of a rectangle.
pub fn mean_colour(img: &RgbImage, x0: u32, y0: u32, x1: u32, y1: u32) -> [u8; 3] {
    let mut sum = [0u32; 3];
    for y in y0..y1 {
        for x in x0..x1 {
            (0..3).for_each(|c| sum[c] += img.get_pixel(x, y).0[c] as u32);
        }
    }
    sum.map(|v| (v / ((x1 - x0) * (y1 - y0))) as u8)
}
