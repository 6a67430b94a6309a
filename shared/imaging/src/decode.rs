//! Decoding untrusted uploads: the format is sniffed from the bytes (JPEG, PNG, WebP only),
//! sizes are capped before any pixel is decoded, and the EXIF orientation is applied.

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
    let mut img = DynamicImage::from_decoder(decoder).map_err(|_| DecodeError::Corrupt)?;
    img.apply_orientation(orientation);
    Ok(Decoded {
        image: img.into_rgb8(),
        format: format.0,
        stored_size: (w, h),
        orientation: orientation_number(orientation),
        lens_model,
        camera,
    })
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
