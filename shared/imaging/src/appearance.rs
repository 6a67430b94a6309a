//! What the face shows beyond its pose, for the guides' rules 3 and 4 ("不得佩戴有色眼镜",
//! "头发不得遮挡眉毛和耳朵"): dark lenses over the eyes, hair over the brows, hair over the
//! ears. Each region is placed by the face mesh and compared with the student's own skin (the
//! cheeks' brightness, the nose ridge's), so skin tone and the light's strength cancel out. Sizes are in eye widths (the distance
//! between an eye's corners), so a region means the same at every face size.

use image::{GrayImage, RgbImage};
use serde::Serialize;

use crate::checks::luma;
use crate::detect::Point;
use crate::mesh::Landmarks;

/// A cheek patch is this many eye widths square: the reference for how bright skin is here.
const CHEEK_PATCH: f32 = 0.5;
/// The nose ridge's patch: the reference skin for the brows and ears, which hair covers; it
/// lies between the eyes' level and the nose tip, where neither hair nor lenses reach.
const RIDGE_PATCH: f32 = 0.3;
/// The lens region: the eye's corners across, from this far above the eye's centre line to
/// this far below (eye widths): the lids, the eye and the skin a lens covers.
const LENS_ABOVE: f32 = 0.45;
const LENS_BELOW: f32 = 0.3;
/// The lens region's 75th percentile luma is measured, so a dark iris, lashes and eyeliner do
/// not darken it: the lids' skin decides, unless a lens covers it.
const LENS_PERCENTILE: f32 = 0.75;
/// The band about each brow's upper edge as the mesh places it, from this far below it to this
/// far above (eye widths): skin when nothing covers the brow. The mesh's brow line often lies a
/// little above the brow hairs (a quarter of an eye width on the astronaut), so the band
/// straddles it.
const BROW_BAND: (f32, f32) = (-0.1, 0.1);
/// Where an ear shows beside the face's contour: from the mesh's contour point at the ear's
/// height (which lies where the ear meets the face) this far out, and this far above and below
/// it (eye widths).
const EAR_OUT: (f32, f32) = (0.0, 0.3);
const EAR_SPAN: (f32, f32) = (0.3, 0.5);
/// A pixel looks like the nose ridge's skin when its luma is within this factor range of the
/// ridge's. Luma alone, because colour is not steady across one face: on the dev photos the
/// forehead's highlights are up to 0.1 less red (r over r + g + b) than the ridge, and blush
/// moves the cheeks as far. Dark hair is under half the skin's luma; fair hair on fair skin is
/// not told apart (reviewers judge it).
const SKIN_LUMA: (f32, f32) = (0.5, 1.7);
/// A side of the head where fewer than this share of the ear region is the person (not
/// background) shows no ear to judge: nothing covers it there.
const EAR_MIN_PERSON: f32 = 0.2;

/// The appearance measurements, each the less favourable of the face's two sides.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Appearance {
    /// The lens region's 75th percentile luma over the cheeks' median luma: about 1 for eyes
    /// with nothing in front of them, far lower behind dark lenses.
    pub lens_luma: f32,
    /// The share of the band above the brows that looks like the nose ridge's skin, the less
    /// of the two brows.
    pub brow_skin: f32,
    /// The share of the person's pixels beside the face's contour that look like skin (an ear,
    /// not hair over it), the less of the two sides; 1 where neither side shows the person.
    pub ear_skin: f32,
}

/// The pixels of the box (frame pixels, clipped to the image), row by row.
fn pixels(
    img: &RgbImage,
    (x0, y0): (f32, f32),
    (x1, y1): (f32, f32),
) -> impl Iterator<Item = (u32, u32, &image::Rgb<u8>)> + '_ {
    let (w, h) = img.dimensions();
    let clip = |v: f32, n: u32| v.clamp(0.0, n as f32) as u32;
    let (x0, x1, y0, y1) = (clip(x0, w), clip(x1, w), clip(y0, h), clip(y1, h));
    (y0..y1).flat_map(move |y| (x0..x1).map(move |x| (x, y, img.get_pixel(x, y))))
}

fn median(mut v: Vec<f32>) -> Option<f32> {
    quantile(&mut v, 0.5)
}

fn quantile(v: &mut [f32], q: f32) -> Option<f32> {
    if v.is_empty() {
        return None;
    }
    let i = ((v.len() - 1) as f32 * q).round() as usize;
    Some(*v.select_nth_unstable_by(i, f32::total_cmp).1)
}

fn distance(a: Point, b: Point) -> f32 {
    ((a.x - b.x).powi(2) + (a.y - b.y).powi(2)).sqrt()
}

/// The measurements on the levelled frame `img` (its matte `alpha`), or None where the mesh
/// gives no usable size or the cheeks fall outside the frame.
pub fn measure(img: &RgbImage, alpha: &GrayImage, points: &Landmarks) -> Option<Appearance> {
    let eye_w = points.eye_corners.map(|(a, b)| distance(a, b));
    let w = (eye_w[0] + eye_w[1]) / 2.0;
    if w < 4.0 {
        return None;
    }
    let patch = |c: Point, side: f32| {
        let half = side * w / 2.0;
        pixels(img, (c.x - half, c.y - half), (c.x + half, c.y + half)).map(|(_, _, p)| p)
    };
    let cheeks: Vec<f32> = points.cheeks.iter().flat_map(|&c| patch(c, CHEEK_PATCH)).map(luma).collect();
    let cheek_luma = median(cheeks)?.max(1.0);
    let ridge = median(patch(points.nose_ridge, RIDGE_PATCH).map(luma).collect())?.max(1.0);
    let skin = |p: &image::Rgb<u8>| (SKIN_LUMA.0 * ridge..=SKIN_LUMA.1 * ridge).contains(&luma(p));

    let lens_luma = points
        .eye_corners
        .iter()
        .filter_map(|&(a, b)| {
            let cy = (a.y + b.y) / 2.0;
            let mut l: Vec<f32> = pixels(img, (a.x.min(b.x), cy - LENS_ABOVE * w), (a.x.max(b.x), cy + LENS_BELOW * w))
                .map(|(_, _, p)| luma(p))
                .collect();
            quantile(&mut l, LENS_PERCENTILE)
        })
        .reduce(f32::min)?
        / cheek_luma;

    let share = |hits: usize, all: usize| if all == 0 { 0.0 } else { hits as f32 / all as f32 };
    let brow_skin = points
        .brows
        .iter()
        .map(|brow| {
            let (mut hits, mut all) = (0, 0);
            for pair in brow.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                let top = a.y.min(b.y);
                let region = pixels(img, (a.x.min(b.x), top - BROW_BAND.1 * w), (a.x.max(b.x), top - BROW_BAND.0 * w));
                for (_, _, p) in region {
                    all += 1;
                    hits += usize::from(skin(p));
                }
            }
            share(hits, all)
        })
        .reduce(f32::min)?;

    let person = |x: u32, y: u32| alpha.get_pixel(x.min(alpha.width() - 1), y.min(alpha.height() - 1))[0] > 127;
    // The image's left contour point is the person's right side: its ear lies further left.
    // A side showing no person there (the ear against the background) has nothing over it.
    let ear_skin = points
        .contour
        .iter()
        .zip([-1.0f32, 1.0])
        .filter_map(|(c, side)| {
            let (near, far) = (c.x + side * EAR_OUT.0 * w, c.x + side * EAR_OUT.1 * w);
            let (mut hits, mut people, mut all) = (0, 0, 0);
            for (x, y, p) in pixels(img, (near.min(far), c.y - EAR_SPAN.0 * w), (near.max(far), c.y + EAR_SPAN.1 * w)) {
                all += 1;
                if person(x, y) {
                    people += 1;
                    hits += usize::from(skin(p));
                }
            }
            (share(people, all) >= EAR_MIN_PERSON).then(|| share(hits, people))
        })
        .reduce(f32::min)
        .unwrap_or(1.0);

    Some(Appearance { lens_luma, brow_skin, ear_skin })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Luma, Rgb};

    const SKIN: [u8; 3] = [200, 160, 140];
    const HAIR: [u8; 3] = [40, 30, 25];

    /// A face 40 px per eye width: eyes at y 100, brows' upper edge at y 80, cheeks at y 140,
    /// the nose ridge at (150, 125), the contour at the ears' height at x 70 and 230.
    fn points() -> Landmarks {
        let p = |x, y| Point { x, y };
        Landmarks {
            eye_corners: [(p(90.0, 100.0), p(130.0, 100.0)), (p(210.0, 100.0), p(170.0, 100.0))],
            brows: [
                [p(85.0, 82.0), p(95.0, 80.0), p(105.0, 80.0), p(115.0, 80.0), p(130.0, 82.0)],
                [p(215.0, 82.0), p(205.0, 80.0), p(195.0, 80.0), p(185.0, 80.0), p(170.0, 82.0)],
            ],
            cheeks: [p(110.0, 140.0), p(190.0, 140.0)],
            nose_ridge: p(150.0, 125.0),
            contour: [p(70.0, 110.0), p(230.0, 110.0)],
        }
    }

    /// Skin everywhere, the person's matte covering x 40–260.
    fn face() -> (RgbImage, GrayImage) {
        let img = RgbImage::from_pixel(300, 300, Rgb(SKIN));
        let alpha = GrayImage::from_fn(300, 300, |x, _| Luma([if (40..260).contains(&x) { 255 } else { 0 }]));
        (img, alpha)
    }

    fn fill(img: &mut RgbImage, (x0, y0): (u32, u32), (x1, y1): (u32, u32), c: [u8; 3]) {
        for y in y0..y1 {
            for x in x0..x1 {
                img.put_pixel(x, y, Rgb(c));
            }
        }
    }

    #[test]
    fn bare_skin_shows_clear_eyes_brows_and_ears() {
        let (img, alpha) = face();
        let a = measure(&img, &alpha, &points()).expect("measured");
        assert!((a.lens_luma - 1.0).abs() < 1e-3 && a.brow_skin == 1.0 && a.ear_skin == 1.0, "{a:?}");
    }

    #[test]
    fn dark_lenses_darken_the_eyes_against_the_cheeks() {
        let (mut img, alpha) = face();
        fill(&mut img, (80, 80), (140, 116), [30, 30, 32]);
        fill(&mut img, (160, 80), (220, 116), [30, 30, 32]);
        let a = measure(&img, &alpha, &points()).expect("measured");
        assert!(a.lens_luma < 0.2, "{a:?}");
    }

    #[test]
    fn hair_along_one_brow_and_over_one_ear_counts_for_the_face() {
        let (mut img, alpha) = face();
        fill(&mut img, (80, 60), (135, 86), HAIR);
        fill(&mut img, (50, 90), (72, 140), HAIR);
        let a = measure(&img, &alpha, &points()).expect("measured");
        assert!(a.brow_skin < 0.05, "the less favourable brow: {a:?}");
        assert!(a.ear_skin < 0.05, "the less favourable ear: {a:?}");
    }

    #[test]
    fn an_ear_against_the_background_has_nothing_over_it() {
        let (mut img, _) = face();
        fill(&mut img, (50, 90), (72, 140), HAIR);
        // The matte ends at the contour: beside it is background, however dark.
        let alpha = GrayImage::from_fn(300, 300, |x, _| Luma([if (71..229).contains(&x) { 255 } else { 0 }]));
        assert_eq!(measure(&img, &alpha, &points()).expect("measured").ear_skin, 1.0);
    }

    #[test]
    fn a_face_too_small_to_place_the_regions_is_not_measured() {
        let (img, alpha) = face();
        let mut tiny = points();
        tiny.eye_corners = [(Point { x: 100.0, y: 100.0 }, Point { x: 102.0, y: 100.0 }); 2];
        assert_eq!(measure(&img, &alpha, &tiny), None);
    }
}
