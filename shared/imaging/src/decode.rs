//! Decoding untrusted uploads: the format is sniffed from the bytes (JPEG, PNG, WebP only),
//! sizes are capped before any pixel is decoded, and the EXIF orientation is applied.
//!
//! A phone's 12 MP JPEG holds four times the pixels a certificate photo can use: it may be
//! decoded reduced in the DCT (½, ¼, ⅛: the inverse transform of the low frequencies only,
//! with `jpeg-decoder`), which costs less than decoding it whole and leaves nothing to resize.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};

/// An upload larger than this is refused unread (S3's policy already caps at 15 MB).
pub const MAX_BYTES: usize = 20 * 1024 * 1024;
/// Phones make 12–50 MP; more is a decompression bomb or not a photo.
pub const MAX_PIXELS: u64 = 60_000_000;
/// Neither side may exceed this.
pub const MAX_SIDE: u32 = 12_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is larger than {MAX_BYTES} bytes")]
    TooManyBytes,
    #[error("not a JPEG, PNG or WebP image")]
    UnsupportedFormat,
    #[error("the image is {0}×{1} pixels, more than allowed")]
    TooManyPixels(u32, u32),
    #[error("the image data is corrupt or truncated")]
    Corrupt,
}

#[derive(Debug, Clone)]
pub struct Decoded {
    pub image: RgbImage,
    pub format: &'static str,
    /// Width and height as stored, before orientation.
    pub stored_size: (u32, u32),
    /// EXIF orientation applied (1 = none).
    pub orientation: u8,
    /// Decoded pixels per stored pixel: 1, or ½, ¼, ⅛ for a JPEG decoded reduced.
    pub scale: f32,
    /// EXIF LensModel, where the phone wrote one (e.g. "iPhone 13 front camera 2.71mm f/2.2").
    pub lens_model: Option<String>,
    /// What else the EXIF says about where the file comes from.
    pub camera: Camera,
}

/// The EXIF fields that tell a live capture from an edited or forwarded picture.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Camera {
    pub make: Option<String>,
    pub model: Option<String>,
    /// EXIF Software: the phone's system version, or the app that last wrote the file.
    pub software: Option<String>,
    /// DateTimeOriginal as written ("YYYY:MM:DD HH:MM:SS", the camera's local time).
    pub taken: Option<String>,
}

impl Camera {
    /// Whether any camera data is present at all.
    pub fn any(&self) -> bool {
        self.make.is_some() || self.model.is_some() || self.taken.is_some()
    }

    /// The capture time as a calendar date and time (no zone), where readable.
    pub fn taken_at(&self) -> Option<(i32, u8, u8, u8, u8, u8)> {
        let t = self.taken.as_deref()?;
        let n = |a: usize, b: usize| t.get(a..b)?.parse::<u16>().ok();
        let (y, mo, d) = (n(0, 4)?, n(5, 7)?, n(8, 10)?);
        let (h, mi, s) = (n(11, 13).unwrap_or(0), n(14, 16).unwrap_or(0), n(17, 19).unwrap_or(0));
        ((1..=12).contains(&mo) && (1..=31).contains(&d) && h < 24 && mi < 60 && s < 61).then_some((
            i32::from(y),
            mo as u8,
            d as u8,
            h as u8,
            mi as u8,
            s as u8,
        ))
    }
}

pub fn decode(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    decode_reduced(bytes, u32::MAX)
}

impl Decoded {
    /// The upright size of the photo as stored, in its own pixels.
    pub fn full_size(&self) -> (u32, u32) {
        let (w, h) = self.stored_size;
        if (5..=8).contains(&self.orientation) { (h, w) } else { (w, h) }
    }
}

/// Like [`decode`], but a JPEG is decoded at the smallest of ⅛, ¼, ½ and 1 that keeps its
/// short side at least `short_side` pixels (other formats, and any JPEG the reducing decoder
/// refuses, whole).
pub fn decode_reduced(bytes: &[u8], short_side: u32) -> Result<Decoded, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    if bytes.len() > MAX_BYTES {
        return Err(DecodeError::TooManyBytes);
    }
    let format = match image::guess_format(bytes) {
        Ok(ImageFormat::Jpeg) => ("jpeg", ImageFormat::Jpeg),
        Ok(ImageFormat::Png) => ("png", ImageFormat::Png),
        Ok(ImageFormat::WebP) => ("webp", ImageFormat::WebP),
        _ => return Err(DecodeError::UnsupportedFormat),
    };
    // Decoders fill a truncated JPEG with grey; a JPEG must end its scan with EOI.
    if format.1 == ImageFormat::Jpeg && !has_end_of_image(bytes) {
        return Err(DecodeError::Corrupt);
    }
    let reader = ImageReader::with_format(Cursor::new(bytes), format.1);
    let mut decoder = reader.into_decoder().map_err(|_| DecodeError::Corrupt)?;
    let (w, h) = decoder.dimensions();
    if w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE || u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(DecodeError::TooManyPixels(w, h));
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_PIXELS * 4 + 64 * 1024 * 1024);
    decoder.set_limits(limits).map_err(|_| DecodeError::TooManyPixels(w, h))?;
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let exif = decoder.exif_metadata().ok().flatten().and_then(|raw| exif::Reader::new().read_raw(raw).ok());
    let text = |tag| exif.as_ref().and_then(|e| ascii(e, tag));
    let lens_model = text(exif::Tag::LensModel);
    let camera = Camera {
        make: text(exif::Tag::Make),
        model: text(exif::Tag::Model),
        software: text(exif::Tag::Software),
        taken: text(exif::Tag::DateTimeOriginal),
    };
    let short = w.min(h) as f32;
    let reduction = [0.125f32, 0.25, 0.5].into_iter().find(|&r| short * r >= short_side as f32);
    let reduced = match reduction {
        // A decoder bug on a crafted file must not take the process down: the whole decode
        // (which already read the headers) answers instead.
        Some(r) if format.1 == ImageFormat::Jpeg => {
            std::panic::catch_unwind(|| jpeg_reduced(bytes, (w, h), r)).ok().flatten()
        }
        _ => None,
    };
    let (mut img, scale) = match reduced {
        Some((img, got_w)) => (DynamicImage::ImageRgb8(img), got_w as f32 / w as f32),
        None => (DynamicImage::from_decoder(decoder).map_err(|_| DecodeError::Corrupt)?, 1.0),
    };
    img.apply_orientation(orientation);
    Ok(Decoded {
        image: img.into_rgb8(),
        format: format.0,
        stored_size: (w, h),
        orientation: orientation_number(orientation),
        scale,
        lens_model,
        camera,
    })
}

/// The JPEG decoded at `reduction` of its stored size (`size`) in the DCT, with the decoded
/// width; None where the reducing decoder cannot (then the whole decode answers).
fn jpeg_reduced(bytes: &[u8], (w, h): (u32, u32), reduction: f32) -> Option<(RgbImage, u32)> {
    let mut d = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    d.read_info().ok()?;
    let want = |side: u32| u16::try_from((side as f32 * reduction).ceil() as u32).ok();
    let (dw, dh) = d.scale(want(w)?, want(h)?).ok()?;
    let pixels = d.decode().ok()?;
    let (dw, dh) = (u32::from(dw), u32::from(dh));
    let img = match d.info()?.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => RgbImage::from_raw(dw, dh, pixels)?,
        jpeg_decoder::PixelFormat::L8 => {
            DynamicImage::ImageLuma8(image::GrayImage::from_raw(dw, dh, pixels)?).into_rgb8()
        }
        _ => return None,
    };
    Some((img, dw))
}

/// An ASCII field of the primary image, trimmed and bounded; anything unreadable is absent.
fn ascii(exif: &exif::Exif, tag: exif::Tag) -> Option<String> {
    let field = exif.get_field(tag, exif::In::PRIMARY)?;
    match &field.value {
        exif::Value::Ascii(parts) => {
            let text: String = parts.iter().map(|p| String::from_utf8_lossy(p).into_owned()).collect();
            let text = text.trim_matches(char::from(0)).trim().chars().take(120).collect::<String>();
            (!text.is_empty()).then_some(text)
        }
        _ => None,
    }
}

/// Whether an end-of-image marker follows the last start-of-scan (phones may append trailers
/// after EOI, so it need not be the last two bytes).
fn has_end_of_image(jpeg: &[u8]) -> bool {
    let last_sos = jpeg.windows(2).rposition(|w| w == [0xFF, 0xDA]).unwrap_or(0);
    jpeg[last_sos..].windows(2).any(|w| w == [0xFF, 0xD9])
}

fn orientation_number(o: image::metadata::Orientation) -> u8 {
    use image::metadata::Orientation::*;
    match o {
        NoTransforms => 1,
        FlipHorizontal => 2,
        Rotate180 => 3,
        FlipVertical => 4,
        Rotate90FlipH => 5,
        Rotate90 => 6,
        Rotate270FlipH => 7,
        Rotate270 => 8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut out = Vec::new();
        RgbImage::new(w, h).write_to(&mut Cursor::new(&mut out), ImageFormat::Png).expect("png");
        out
    }

    #[test]
    fn capture_times_are_read_as_written_and_nonsense_is_absent() {
        let at = |t: &str| Camera { taken: Some(t.into()), ..Camera::default() }.taken_at();
        assert_eq!(at("2026:11:30 18:05:09"), Some((2026, 11, 30, 18, 5, 9)));
        assert_eq!(at("2026:13:30 18:05:09"), None);
        assert_eq!(at("    :  :     :  :  "), None);
        assert!(!Camera::default().any());
    }

    #[test]
    fn png_named_anything_decodes_by_its_bytes() {
        let d = decode(&png(40, 30)).expect("decodes");
        assert_eq!((d.format, d.image.dimensions()), ("png", (40, 30)));
    }

    #[test]
    fn a_jpeg_is_decoded_reduced_in_the_dct_and_other_formats_whole() {
        let photo = RgbImage::from_fn(1600, 1200, |x, y| image::Rgb([(x / 8) as u8, (y / 6) as u8, 90]));
        let mut jpeg = Vec::new();
        photo.write_to(&mut Cursor::new(&mut jpeg), ImageFormat::Jpeg).expect("jpeg");
        let half = decode_reduced(&jpeg, 500).expect("decodes");
        assert_eq!((half.image.dimensions(), half.scale, half.full_size()), ((800, 600), 0.5, (1600, 1200)));
        // The same picture: a gradient, to within JPEG's error.
        let p = half.image.get_pixel(400, 300).0;
        assert!(p[0].abs_diff(100) <= 3 && p[1].abs_diff(100) <= 3 && p[2].abs_diff(90) <= 3, "{p:?}");
        assert_eq!(decode_reduced(&jpeg, 1).expect("decodes").image.dimensions(), (200, 150));
        assert_eq!(decode_reduced(&jpeg, 601).expect("decodes").scale, 1.0);
        let png = decode_reduced(&png(40, 30), 1).expect("decodes");
        assert_eq!((png.image.dimensions(), png.scale), ((40, 30), 1.0));
    }

    #[test]
    fn empty_random_and_truncated_files_are_refused() {
        assert_eq!(decode(&[]).err(), Some(DecodeError::Empty));
        assert_eq!(
            decode(b"definitely not an image, just text named .jpg").err(),
            Some(DecodeError::UnsupportedFormat)
        );
        let mut jpeg = Vec::new();
        RgbImage::from_pixel(64, 64, image::Rgb([200, 10, 10]))
            .write_to(&mut Cursor::new(&mut jpeg), ImageFormat::Jpeg)
            .expect("jpeg");
        jpeg.truncate(jpeg.len() / 3);
        assert!(matches!(decode(&jpeg), Err(DecodeError::Corrupt)), "truncated JPEG");
    }

    #[test]
    fn a_decompression_bomb_is_refused_before_its_pixels_are_decoded() {
        // 8000×8000 of one grey: a few hundred KB of PNG that would inflate to 64 MP.
        let mut bomb = Vec::new();
        image::GrayImage::new(8000, 8000).write_to(&mut Cursor::new(&mut bomb), ImageFormat::Png).expect("png");
        assert!(bomb.len() < 512 * 1024, "a real bomb is small: {} bytes", bomb.len());
        assert_eq!(decode(&bomb).err(), Some(DecodeError::TooManyPixels(8000, 8000)));
    }

    #[test]
    fn a_huge_declared_size_is_refused_before_decoding() {
        // A PNG header claiming 20000×20000 followed by nothing useful.
        let mut bytes = png(1, 1);
        bytes[16..20].copy_from_slice(&20_000u32.to_be_bytes());
        bytes[20..24].copy_from_slice(&20_000u32.to_be_bytes());
        assert!(matches!(decode(&bytes), Err(DecodeError::TooManyPixels(20_000, 20_000)) | Err(DecodeError::Corrupt)));
    }
}
