//! What the face shows beyond its pose, for the guides' rules 3 and 4 ("不得佩戴有色眼镜",
//! "头发不得遮挡眉毛和耳朵"): dark lenses over the eyes, hair over the brows, hair over the
//! ears. Each region is placed by the face mesh and compared with the student's own skin (the
//! cheeks' brightness, the nose ridge's), so skin tone and the light's strength cancel out. Sizes are in eye widths (the distance
//! between an eye's corners), so a region means the same at every face size.

use image::{GrayImage, RgbImage};
use serde::Serialize;

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

fn luma(p: [u8; 3]) -> f32 {
    0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32
}

/// The pixels of the box (frame pixels, clipped to the image), row by row.
fn pixels(
    img: &RgbImage,
    (x0, y0): (f32, f32),
    (x1, y1): (f32, f32),
) -> impl Iterator<Item = (u32, u32, [u8; 3])> + '_ {
    let (w, h) = img.dimensions();
    let clip = |v: f32, n: u32| v.clamp(0.0, n as f32) as u32;
    let (x0, x1, y0, y1) = (clip(x0, w), clip(x1, w), clip(y0, h), clip(y1, h));
    (y0..y1).flat_map(move |y| (x0..x1).map(move |x| (x, y, img.get_pixel(x, y).0)))
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
    let skin = |p: [u8; 3]| (SKIN_LUMA.0 * ridge..=SKIN_LUMA.1 * ridge).contains(&luma(p));

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
