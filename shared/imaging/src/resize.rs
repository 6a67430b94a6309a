//! Resampling with SIMD kernels (`fast_image_resize`): the photo is reduced once from
//! phone size, and the networks' inputs and outputs are resized per photo, so this is on the
//! hot path. A convolution filter widens with the reduction, so large reductions do not alias.

use fast_image_resize::images::Image;
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::{GrayImage, RgbImage};

fn resample(src: &[u8], sw: u32, sh: u32, dw: u32, dh: u32, pixel: PixelType) -> Vec<u8> {
    let (sw, sh, dw, dh) = (sw.max(1), sh.max(1), dw.max(1), dh.max(1));
    let channels = if pixel == PixelType::U8 { 1 } else { 3 };
    let mut dst = Image::new(dw, dh, pixel);
    // Buffers of the right length (guaranteed by the image types) never fail to resize.
    if let Ok(view) = fast_image_resize::images::ImageRef::new(sw, sh, src, pixel) {
        let opts = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear));
        if Resizer::new().resize(&view, &mut dst, &opts).is_ok() {
            return dst.into_vec();
        }
    }
    vec![0; (dw * dh) as usize * channels]
}

pub fn rgb(src: &RgbImage, w: u32, h: u32) -> RgbImage {
    let (w, h) = (w.max(1), h.max(1));
    if src.dimensions() == (w, h) {
        return src.clone();
    }
    let data = resample(src.as_raw(), src.width(), src.height(), w, h, PixelType::U8x3);
    RgbImage::from_raw(w, h, data).unwrap_or_else(|| RgbImage::new(w, h))
}

pub fn gray(src: &GrayImage, w: u32, h: u32) -> GrayImage {
    let (w, h) = (w.max(1), h.max(1));
    if src.dimensions() == (w, h) {
        return src.clone();
    }
    let data = resample(src.as_raw(), src.width(), src.height(), w, h, PixelType::U8);
    GrayImage::from_raw(w, h, data).unwrap_or_else(|| GrayImage::new(w, h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_uniform_image_stays_uniform_at_the_new_size() {
        let out = rgb(&RgbImage::from_pixel(3024, 4032, image::Rgb([10, 200, 30])), 480, 640);
        assert_eq!(out.dimensions(), (480, 640));
        assert!(out.pixels().all(|p| p.0 == [10, 200, 30]));
        let g = gray(&GrayImage::from_pixel(288, 384, image::Luma([77])), 480, 640);
        assert!(g.pixels().all(|p| p.0 == [77]));
    }

    #[test]
    fn a_reduction_averages_fine_detail_instead_of_aliasing() {
        // One-pixel stripes reduced 8×: every output pixel is near the mean grey.
        let stripes = GrayImage::from_fn(800, 800, |x, _| image::Luma([if x % 2 == 0 { 0 } else { 255 }]));
        let out = gray(&stripes, 100, 100);
        assert!(out.pixels().all(|p| (110..=145).contains(&p.0[0])), "{:?}", out.get_pixel(50, 50));
    }
}
