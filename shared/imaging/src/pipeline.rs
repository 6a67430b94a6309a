//! `run_pipeline`: bytes + spec → standard photo, preview, cut-out and a report of every
//! measurement and check. A file that is not a photo, or has no usable face, ends with a
//! report and no photo; only a broken model is an error.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::time::Instant;

use image::{ImageFormat, RgbaImage};
use serde::Serialize;
use yunzhao_domain::campaign::PhotoSpec;
use yunzhao_domain::photo::Reason;

use crate::checks::{self, Check, Rect, check, limits};
use crate::detect::{Face, Point};
use crate::frame::{self, Frame};
use crate::mesh::{self, FaceMesh};
use crate::models::{InferenceError, Models};
use crate::{decode, encode, matte};

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Inference(#[from] InferenceError),
}

#[derive(Debug, Clone, Serialize)]
pub struct InputInfo {
    pub bytes: usize,
    pub format: Option<&'static str>,
    pub width: u32,
    pub height: u32,
    pub exif_orientation: u8,
    pub lens_model: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutputInfo {
    pub width: u32,
    pub height: u32,
    pub bytes: usize,
    pub kb: f32,
    pub in_kb_range: bool,
    pub jpeg_quality: u8,
    pub dpi: u32,
    pub background: [u8; 3],
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub passed: bool,
    /// The codes of the failed checks.
    pub reasons: Vec<Reason>,
    pub input: InputInfo,
    pub faces: Vec<Face>,
    pub frame: Option<Frame>,
    pub mesh: Option<FaceMesh>,
    pub measurements: BTreeMap<&'static str, f32>,
    pub checks: Vec<Check>,
    pub output: Option<OutputInfo>,
    pub timings_ms: BTreeMap<&'static str, f64>,
}

pub struct Photos {
    pub standard_jpeg: Vec<u8>,
    pub preview_jpeg: Vec<u8>,
    /// The person on transparency (PNG), for reviewers.
    pub cutout_png: Vec<u8>,
}

pub struct Output {
    pub report: Report,
    pub photo: Option<Photos>,
}

struct Run {
    report: Report,
    started: Instant,
    stage: Instant,
}

impl Run {
    fn lap(&mut self, name: &'static str) {
        self.report.timings_ms.insert(name, self.stage.elapsed().as_secs_f64() * 1000.0);
        self.stage = Instant::now();
    }

    fn check(&mut self, code: Reason, passed: bool, value: f32, threshold: f32) {
        self.report.checks.push(check(code, passed, value, threshold));
    }

    fn finish(mut self, photo: Option<Photos>) -> Output {
        self.report.timings_ms.insert("total", self.started.elapsed().as_secs_f64() * 1000.0);
        for c in self.report.checks.iter().filter(|c| !c.passed) {
            if !self.report.reasons.contains(&c.code) {
                self.report.reasons.push(c.code);
            }
        }
        self.report.passed = self.report.reasons.is_empty() && photo.is_some();
        Output { report: self.report, photo }
    }
}

/// The face box in output pixels (x0, y0, x1, y1), unclamped.
fn face_box(frame: &Frame, face: &Face) -> (f32, f32, f32, f32) {
    let corners = [(face.x0, face.y0), (face.x1, face.y0), (face.x0, face.y1), (face.x1, face.y1)]
        .map(|(x, y)| frame.to_output(Point { x, y }));
    let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    for p in corners {
        (x0, y0, x1, y1) = (x0.min(p.x), y0.min(p.y), x1.max(p.x), y1.max(p.y));
    }
    (x0, y0, x1, y1)
}

fn face_rect(frame: &Frame, face: &Face) -> Rect {
    let clamp_x = |v: f32| v.clamp(0.0, frame.out_w as f32 - 1.0) as u32;
    let clamp_y = |v: f32| v.clamp(0.0, frame.out_h as f32 - 1.0) as u32;
    let (x0, y0, x1, y1) = face_box(frame, face);
    // The inner part of the box: skin, not hair or background.
    let (dx, dy) = ((x1 - x0) * 0.15, (y1 - y0) * 0.1);
    Rect {
        x0: clamp_x(x0 + dx),
        y0: clamp_y(y0 + dy),
        x1: clamp_x(x1 - dx).max(clamp_x(x0 + dx) + 1),
        y1: clamp_y(y1 - dy).max(clamp_y(y0 + dy) + 1),
    }
}

pub fn run_pipeline(bytes: &[u8], spec: &PhotoSpec, models: &Models) -> Result<Output, PipelineError> {
    let now = Instant::now();
    let mut run = Run {
        report: Report {
            passed: false,
            reasons: Vec::new(),
            input: InputInfo {
                bytes: bytes.len(),
                format: None,
                width: 0,
                height: 0,
                exif_orientation: 1,
                lens_model: None,
            },
            faces: Vec::new(),
            frame: None,
            mesh: None,
            measurements: BTreeMap::new(),
            checks: Vec::new(),
            output: None,
            timings_ms: BTreeMap::new(),
        },
        started: now,
        stage: now,
    };

    let decoded = match decode::decode(bytes) {
        Ok(d) => d,
        Err(_) => {
            run.check(Reason::NotAPhoto, false, 0.0, 0.0);
            return Ok(run.finish(None));
        }
    };
    let img = decoded.image;
    run.report.input = InputInfo {
        bytes: bytes.len(),
        format: Some(decoded.format),
        width: img.width(),
        height: img.height(),
        exif_orientation: decoded.orientation,
        lens_model: decoded.lens_model.clone(),
    };
    run.lap("decode");
    let short = img.width().min(img.height());
    run.check(
        Reason::LowResolution,
        short >= limits::MIN_SHORT_SIDE_PX,
        short as f32,
        limits::MIN_SHORT_SIDE_PX as f32,
    );

    let faces = models.detect(&img)?;
    run.lap("detect");
    let counted = checks::counted_faces(&faces);
    run.report.measurements.insert("faces", counted as f32);
    run.report.faces = faces.iter().take(counted).cloned().collect();
    if counted == 0 {
        run.check(Reason::NoFace, false, 0.0, 1.0);
        return Ok(run.finish(None));
    }
    run.check(Reason::MultipleFaces, counted == 1, counted as f32, 1.0);
    if counted > 1 {
        return Ok(run.finish(None));
    }
    let face = &faces[0];
    run.check(Reason::FaceTooSmall, face.width() >= limits::MIN_FACE_WIDTH_PX, face.width(), limits::MIN_FACE_WIDTH_PX);
    let share = face.width() / img.width() as f32;
    run.report.measurements.insert("face_share_of_width", share);
    let is_selfie = checks::selfie(decoded.lens_model.as_deref(), share);
    run.check(Reason::Selfie, !is_selfie, share, limits::MAX_SELFIE_FACE_SHARE);
    let turn = checks::nose_offset(face);
    run.check(Reason::HeadTurned, turn.abs() <= limits::MAX_NOSE_OFFSET, turn, limits::MAX_NOSE_OFFSET);

    let planned = Frame::plan(face, spec);
    // From here on, work on a copy reduced once to about twice the output's scale.
    let (work, mut frame, f) = frame::working_source(&img, &planned);
    let face = &face.scaled(f);
    let mut framed = frame::warp(&work, &frame);
    // Landmarks on a rolled face lean towards upright: measure the roll left in the frame
    // once more and correct it too.
    if let Some(again) = models.detect(&framed)?.first() {
        let (l, r) = again.eyes();
        let residual = (r.y - l.y).atan2(r.x - l.x).to_degrees();
        if residual.abs() > 0.5 {
            frame = frame.rolled(residual);
            framed = frame::warp(&work, &frame);
        }
        run.report.measurements.insert("residual_roll_deg", residual);
    }
    run.check(Reason::HeadTilted, frame.roll_deg.abs() <= limits::MAX_ROLL_DEG, frame.roll_deg, limits::MAX_ROLL_DEG);
    let overflow = frame.overflow(work.width(), work.height());
    run.check(Reason::CropOutOfFrame, overflow <= limits::MAX_OVERFLOW, overflow, limits::MAX_OVERFLOW);
    run.lap("frame");

    let (x0, y0, x1, y1) = face_box(&frame, face);
    if let Some(m) = models.mesh(&framed, mesh::Crop::around(x0, y0, x1, y1))? {
        run.check(Reason::HeadTurned, m.yaw_deg.abs() <= limits::MAX_YAW_DEG, m.yaw_deg, limits::MAX_YAW_DEG);
        run.check(Reason::HeadTurned, m.pitch_deg.abs() <= limits::MAX_PITCH_DEG, m.pitch_deg, limits::MAX_PITCH_DEG);
        let (eyes, mouth) = (m.eye_openness, m.mouth_openness);
        run.check(Reason::EyesClosed, eyes >= limits::MIN_EYE_OPENNESS, eyes, limits::MIN_EYE_OPENNESS);
        run.check(Reason::MouthOpen, mouth <= limits::MAX_MOUTH_OPENNESS, mouth, limits::MAX_MOUTH_OPENNESS);
        run.report.mesh = Some(m);
    }
    run.lap("mesh");

    let mut alpha = models.matte(&framed)?;
    run.lap("matte");
    // Hair varies: move the frame vertically so the top of the head lands in the spec's
    // band, as far as the eye band allows.
    if let Some(top) = matte::head_top(&alpha) {
        let (hair, eyes) = (spec.hairline_from_top, spec.eyes_from_top);
        let margin = (hair.max - hair.min) as f32 / 4.0;
        let want = (top as f32).clamp(hair.min as f32 + margin, hair.max as f32 - margin);
        let eye = frame.eye_line();
        let dy = (want - top as f32).clamp(eyes.min as f32 - eye, eyes.max as f32 - eye).round();
        if dy != 0.0 {
            frame = frame.shifted(dy);
            framed = frame::warp(&work, &frame);
            alpha = matte::shift(&alpha, dy as i32);
        }
        run.report.measurements.insert("frame_shift_px", dy);
    }
    run.report.frame = Some(frame);
    let bg = [spec.background.0, spec.background.1, spec.background.2];
    let standard = matte::composite(&framed, &alpha, bg);
    run.lap("composite");

    let head_top = matte::head_top(&alpha).unwrap_or(0) as f32;
    run.report.measurements.insert("head_top_px", head_top);
    let band = spec.hairline_from_top;
    run.check(
        Reason::CropOutOfFrame,
        (band.min as f32..=band.max as f32).contains(&head_top),
        head_top,
        band.min as f32,
    );
    run.report.measurements.insert("eyes_from_top_px", frame.eye_line());
    run.report.measurements.insert("face_width_px", face.width() * frame.scale);

    let rect = face_rect(&frame, face);
    let (mean, left, right) = checks::face_lighting(&framed, rect);
    run.report.measurements.insert("face_luma", mean);
    run.check(Reason::Underexposed, mean >= limits::MIN_FACE_LUMA, mean, limits::MIN_FACE_LUMA);
    run.check(Reason::Overexposed, mean <= limits::MAX_FACE_LUMA, mean, limits::MAX_FACE_LUMA);
    let ratio = left.max(right) / left.min(right).max(1.0);
    run.check(Reason::UnevenLighting, ratio <= limits::MAX_LIGHTING_RATIO, ratio, limits::MAX_LIGHTING_RATIO);
    let sharp = checks::face_sharpness(&work, face);
    run.check(Reason::Blurry, sharp >= limits::MIN_SHARPNESS, sharp, limits::MIN_SHARPNESS);
    let chin = frame.to_output(Point { x: (face.x0 + face.x1) / 2.0, y: face.y1 }).y;
    let below = (chin + face.height() * frame.scale * 0.25).max(0.0) as u32;
    match checks::clothing_colour(&framed, &alpha, below) {
        Some(c) => {
            let d = checks::colour_distance(c, bg);
            run.check(
                Reason::ClothingMatchesBackground,
                d >= limits::MIN_CLOTHING_DISTANCE,
                d,
                limits::MIN_CLOTHING_DISTANCE,
            );
        }
        None => {
            run.report.measurements.insert("clothing_visible", 0.0);
        }
    }
    let mouth = frame.to_output(face.landmarks[3]).y.max(frame.to_output(face.landmarks[4]).y);
    // Shown to reviewers, not judged automatically: the outline's slope also follows
    // clothing and the body's turn (the astronaut, shoulders square, measures 18°), so the
    // shoulders_not_level decision stays with people.
    let (fx0, _, fx1, _) = face_box(&frame, face);
    if let Some(t) = checks::shoulder_tilt(&alpha, (fx0 + fx1) / 2.0, fx1 - fx0, mouth.max(0.0) as u32) {
        run.report.measurements.insert("shoulder_slope_deg", t);
    }
    run.lap("checks");

    let dpi = u16::try_from(spec.dpi).unwrap_or(300);
    let encoded = encode::to_kb_range(&standard, spec.min_kb, spec.max_kb, dpi);
    let preview = crate::resize::rgb(&standard, spec.width_px / 2, spec.height_px / 2);
    let mut cutout = RgbaImage::new(framed.width(), framed.height());
    for (x, y, p) in cutout.enumerate_pixels_mut() {
        let c = framed.get_pixel(x, y).0;
        *p = image::Rgba([c[0], c[1], c[2], alpha.get_pixel(x, y)[0]]);
    }
    let mut cutout_png = Vec::new();
    // Writing a PNG into memory does not fail.
    let _ = cutout.write_to(&mut Cursor::new(&mut cutout_png), ImageFormat::Png);
    run.report.output = Some(OutputInfo {
        width: standard.width(),
        height: standard.height(),
        bytes: encoded.bytes.len(),
        kb: encoded.bytes.len() as f32 / 1024.0,
        in_kb_range: encoded.in_range,
        jpeg_quality: encoded.quality,
        dpi: spec.dpi,
        background: bg,
    });
    run.lap("encode");
    let photos = Photos { standard_jpeg: encoded.bytes, preview_jpeg: encode::jpeg(&preview, 80, dpi), cutout_png };
    Ok(run.finish(Some(photos)))
}
