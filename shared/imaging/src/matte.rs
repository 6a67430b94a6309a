//! Portrait matting with MODNet on the output frame (3:4 at 288×384: the network's cost grows
//! with its input and dominates the pipeline; the matte is upsampled to the frame), and the
//! composite onto the spec's background colour.

use image::{GrayImage, Luma, RgbImage};

/// The network file, rewritten for this input size by the models build (see models/).
pub const MODEL_FILE: &str = "modnet_384x288.onnx";
pub const INPUT_W: usize = 288;
pub const INPUT_H: usize = 384;

/// RGB scaled to [−1, 1], NCHW, at the network's size.
pub fn preprocess(frame: &RgbImage) -> Vec<f32> {
    let small = crate::resize::rgb(frame, INPUT_W as u32, INPUT_H as u32);
    let plane = INPUT_W * INPUT_H;
    let mut data = vec![0f32; 3 * plane];
    for (x, y, p) in small.enumerate_pixels() {
        let i = y as usize * INPUT_W + x as usize;
        for c in 0..3 {
            data[c * plane + i] = (p[c] as f32 / 255.0 - 0.5) / 0.5;
        }
    }
    data
}

/// The network's alpha [0, 1] as an 8-bit matte at `w`×`h`.
pub fn postprocess(alpha: &[f32], w: u32, h: u32) -> GrayImage {
    let small = GrayImage::from_fn(INPUT_W as u32, INPUT_H as u32, |x, y| {
        let a = alpha.get(y as usize * INPUT_W + x as usize).copied().unwrap_or(0.0);
        Luma([(a.clamp(0.0, 1.0) * 255.0 + 0.5) as u8])
    });
    crate::resize::gray(&small, w, h)
}

/// The person over a plain background.
pub fn composite(frame: &RgbImage, alpha: &GrayImage, bg: [u8; 3]) -> RgbImage {
    let mut out = frame.clone();
    for (p, a) in out.pixels_mut().zip(alpha.pixels()) {
        let a = f32::from(a[0]) / 255.0;
        for c in 0..3 {
            // A mean of bytes: within 0..=255, so `as` rounds without clamping.
            p[c] = (f32::from(p[c]) * a + f32::from(bg[c]) * (1.0 - a) + 0.5) as u8;
        }
    }
    out
}

/// The first row from the top where the person (alpha > ½) covers more than a twelfth of
/// columns `x0..x1` (the face's): the top of the head, hair and a bun included.
pub fn head_top_over(alpha: &GrayImage, x0: u32, x1: u32) -> Option<u32> {
    let (w, h) = alpha.dimensions();
    let (x0, x1) = (x0.min(w), x1.min(w));
    let need = ((x1.saturating_sub(x0)) / 12).max(1);
    (0..h).find(|&y| (x0..x1).filter(|&x| alpha.get_pixel(x, y)[0] > 127).count() as u32 >= need)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composite_replaces_where_alpha_is_zero_and_keeps_where_one() {
        let frame = RgbImage::from_pixel(4, 2, image::Rgb([10, 20, 30]));
        let alpha = GrayImage::from_fn(4, 2, |x, _| Luma([if x < 2 { 0 } else { 255 }]));
        let out = composite(&frame, &alpha, [100, 197, 255]);
        assert_eq!(out.get_pixel(0, 0).0, [100, 197, 255]);
        assert_eq!(out.get_pixel(3, 1).0, [10, 20, 30]);
    }

    #[test]
    fn head_top_is_the_first_row_with_the_person_over_the_face_columns() {
        // A head from row 40, and a narrow bun (a tenth of the face's columns) from row 20.
        let alpha = GrayImage::from_fn(90, 120, |x, y| {
            let head = y >= 40 && (30..60).contains(&x);
            let bun = y >= 20 && (43..47).contains(&x);
            Luma([if head || bun { 255 } else { 0 }])
        });
        assert_eq!(head_top_over(&alpha, 30, 60), Some(20));
        // A shoulder-high object beside the face's columns is not the head.
        let beside = GrayImage::from_fn(90, 120, |x, y| Luma([if y >= 10 && x < 20 { 255 } else { 0 }]));
        assert_eq!(head_top_over(&beside, 30, 60), None);
        assert_eq!(head_top_over(&GrayImage::new(90, 120), 30, 60), None);
    }

    #[test]
    fn preprocessing_scales_to_minus_one_one() {
        let d = preprocess(&RgbImage::from_pixel(48, 64, image::Rgb([0, 255, 0])));
        assert_eq!((d[0], d[INPUT_W * INPUT_H]), (-1.0, 1.0));
    }
}
