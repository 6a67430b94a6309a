//! `run_pipeline`: bytes + spec → standard photo, preview, cut-out and a report of every
//! measurement and check. A file that is not a photo, or has no usable face, ends with a
//! report and no photo; only a broken model (or a passed deadline) is an error.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::time::Instant;

use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{GrayImage, RgbImage, RgbaImage};
use serde::Serialize;
use yunzhao_domain::campaign::PhotoSpec;
use yunzhao_domain::photo::Reason;

use crate::checks::{self, Check, Hint, HintNote, Rect, check, limits};
use crate::detect::{Face, Point};
use crate::frame::{self, Frame, Placement};
use crate::mesh::{self, FaceMesh};
use crate::models::{InferenceError, Models};
use crate::{appearance, decode, encode, matte};

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Inference(#[from] InferenceError),
    /// The deadline passed after this stage; nothing was written.
    #[error("the deadline passed after the {0} stage")]
    Deadline(&'static str),
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
    /// Where the frame put the person and the margin kept inside each band.
    pub placement: Option<Placement>,
    pub mesh: Option<FaceMesh>,
    pub measurements: BTreeMap<&'static str, f32>,
    pub checks: Vec<Check>,
    /// What reviewers should look at: measured, not judged automatically.
    pub hints: Vec<HintNote>,
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
    deadline: Option<Instant>,
}

impl Run {
    fn new(bytes: usize, deadline: Option<Instant>) -> Self {
        let now = Instant::now();
        let input = InputInfo { bytes, format: None, width: 0, height: 0, exif_orientation: 1, lens_model: None };
        let report = Report {
            passed: false,
            reasons: Vec::new(),
            input,
            faces: Vec::new(),
            frame: None,
            placement: None,
            mesh: None,
            measurements: BTreeMap::new(),
            checks: Vec::new(),
            hints: Vec::new(),
            output: None,
            timings_ms: BTreeMap::new(),
        };
        Self { report, started: now, stage: now, deadline }
    }

    /// Ends a stage: its time goes into the report; past the deadline, the run stops here.
    fn lap(&mut self, name: &'static str) -> Result<(), PipelineError> {
        self.report.timings_ms.insert(name, self.stage.elapsed().as_secs_f64() * 1000.0);
        self.stage = Instant::now();
        match self.deadline {
            Some(d) if self.stage >= d => Err(PipelineError::Deadline(name)),
            _ => Ok(()),
        }
    }

    fn hint(&mut self, hint: Hint, value: f32) {
        self.report.hints.push(checks::hint(hint, value));
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
    run_pipeline_with(bytes, spec, models, &Options::default())
}

/// What the caller knows beyond the bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Past this, checked between stages, the run stops with [`PipelineError::Deadline`].
    pub deadline: Option<Instant>,
    /// When the photo was uploaded: a capture long before it is shown to the reviewer.
    pub uploaded_at: Option<time::OffsetDateTime>,
}

/// The pipeline as a chain of stages (decode → one face → framing → face mesh → composite →
/// checks → outputs), each recording its own checks.
pub fn run_pipeline_with(
    bytes: &[u8],
    spec: &PhotoSpec,
    models: &Models,
    options: &Options,
) -> Result<Output, PipelineError> {
    let mut run = Run::new(bytes.len(), options.deadline);
    let Some(decoded) = decode_stage(&mut run, bytes) else { return Ok(run.finish(None)) };
    provenance_checks(&mut run, &decoded.camera, options.uploaded_at);
    run.lap("decode")?;
    let Some(face) = face_stage(&mut run, models, &decoded)? else { return Ok(run.finish(None)) };
    run.lap("detect")?;
    let framed = framing_stage(&mut run, models, (bytes, &decoded), &face, spec)?;
    run.lap("frame")?;
    mesh_stage(&mut run, models, &framed)?;
    run.lap("mesh")?;
    let bg = [spec.background.0, spec.background.1, spec.background.2];
    let standard = matte::composite(&framed.image, &framed.alpha, bg);
    run.lap("composite")?;
    check_stage(&mut run, &framed, bg);
    run.lap("checks")?;
    let photos = output_stage(&mut run, &framed, &standard, spec);
    run.lap("encode")?;
    Ok(run.finish(Some(photos)))
}

/// A large JPEG is decoded reduced in the DCT while its short side keeps this many pixels
/// (12 MP → ½, 1512 px; 48 MP → ¼): enough for the face of an ordinary portrait, and the
/// framing decodes again, finer, where the chosen frame would enlarge the reduced copy.
const DECODE_SHORT_SIDE: u32 = 1400;

fn decode_stage(run: &mut Run, bytes: &[u8]) -> Option<decode::Decoded> {
    let Ok(decoded) = decode::decode_reduced(bytes, DECODE_SHORT_SIDE) else {
        run.check(Reason::NotAPhoto, false, 0.0, 0.0);
        return None;
    };
    let (width, height) = decoded.full_size();
    run.report.input = InputInfo {
        bytes: bytes.len(),
        format: Some(decoded.format),
        width,
        height,
        exif_orientation: decoded.orientation,
        lens_model: decoded.lens_model.clone(),
    };
    if decoded.scale < 1.0 {
        run.report.measurements.insert("decode_scale", decoded.scale);
    }
    let short = width.min(height);
    run.check(
        Reason::LowResolution,
        short >= limits::MIN_SHORT_SIDE_PX,
        short as f32,
        limits::MIN_SHORT_SIDE_PX as f32,
    );
    Some(decoded)
}

/// Where the file comes from, as its EXIF says: a known beauty or editing app fails the
/// make-up-or-filter rule; no camera data, other software or an old capture are hints (chat
/// apps strip EXIF, so its absence alone proves nothing).
fn provenance_checks(run: &mut Run, camera: &decode::Camera, uploaded_at: Option<time::OffsetDateTime>) {
    match camera.software.as_deref().map(checks::software_verdict) {
        Some(checks::SoftwareVerdict::BeautyOrEditing) => run.check(Reason::MakeUpOrFilter, false, 1.0, 0.0),
        Some(checks::SoftwareVerdict::Unknown) => run.hint(Hint::UnknownSoftware, 1.0),
        _ => {}
    }
    if !camera.any() {
        run.hint(Hint::NoCameraData, 1.0);
    }
    let taken = camera.taken_at().and_then(|(y, mo, d, h, mi, s)| {
        let date = time::Date::from_calendar_date(y, time::Month::try_from(mo).ok()?, d).ok()?;
        Some(time::PrimitiveDateTime::new(date, time::Time::from_hms(h, mi, s).ok()?))
    });
    if let (Some(taken), Some(up)) = (taken, uploaded_at) {
        // Phones write local time; the students are in China.
        let local = up.to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC));
        let days = (time::PrimitiveDateTime::new(local.date(), local.time()) - taken).as_seconds_f32() / 86_400.0;
        run.report.measurements.insert("days_since_capture", days);
        if days > limits::MAX_CAPTURE_AGE_DAYS {
            run.hint(Hint::TakenLongAgo, days.floor());
        }
    }
}

/// The one face the photo is of, or None (with the check that says why).
fn face_stage(run: &mut Run, models: &Models, decoded: &decode::Decoded) -> Result<Option<Face>, PipelineError> {
    let img = &decoded.image;
    let faces = models.detect(img)?;
    let sharpness: Vec<f32> = faces.iter().map(|f| checks::face_sharpness(img, f)).collect();
    let people = checks::people(&faces, &sharpness);
    if let Some(sharpest) = sharpness.iter().skip(1).copied().reduce(f32::max) {
        run.report.measurements.insert("other_face_sharpness_ratio", sharpest / sharpness[0].max(1e-3));
    }
    run.report.measurements.insert("faces", people.counted as f32);
    // Reported in the photo's own pixels, whatever the decode's reduction.
    let in_photo = |f: &Face| f.scaled(1.0 / decoded.scale);
    run.report.faces = faces.iter().take(1).map(in_photo).collect();
    if people.counted == 0 {
        run.check(Reason::NoFace, false, 0.0, 1.0);
        return Ok(None);
    }
    if people.background > 0 {
        run.hint(Hint::BackgroundFaces, people.background as f32);
    }
    run.check(Reason::MultipleFaces, people.counted == 1, people.counted as f32, 1.0);
    if people.counted > 1 {
        run.report.faces = faces.iter().map(in_photo).collect();
        return Ok(None);
    }
    let face = faces[0].clone();
    let width = face.width() / decoded.scale;
    run.check(Reason::FaceTooSmall, width >= limits::MIN_FACE_WIDTH_PX, width, limits::MIN_FACE_WIDTH_PX);
    let share = face.width() / img.width() as f32;
    run.report.measurements.insert("face_share_of_width", share);
    let is_selfie = checks::selfie(decoded.lens_model.as_deref(), share);
    run.check(Reason::Selfie, !is_selfie, share, limits::MAX_SELFIE_FACE_SHARE);
    let turn = checks::nose_offset(&face);
    run.check(Reason::HeadTurned, turn.abs() <= limits::MAX_NOSE_OFFSET, turn, limits::MAX_NOSE_OFFSET);
    Ok(Some(face))
}

/// The photo framed to the spec, with its matte, and what framing measured.
struct Framed {
    frame: Frame,
    /// The face on the working copy of the photo that `frame` samples.
    face: Face,
    image: RgbImage,
    alpha: GrayImage,
    /// The working copy (for measurements at the photo's own resolution).
    work: RgbImage,
}

/// Framing: the upright analysis view around the face (its roll measured once more there),
/// the matte on that view, the head's top from the matte, the search over the bands
/// (`frame::fit`), then one warp of the final frame, the matte carried into it.
fn framing_stage(
    run: &mut Run,
    models: &Models,
    (bytes, decoded): (&[u8], &decode::Decoded),
    face: &Face,
    spec: &PhotoSpec,
) -> Result<Framed, PipelineError> {
    let first = Frame::analysis(face, spec);
    let finest = spec.face_width.max as f32 / face.width().max(1.0);
    let (work, [mut view], f) = frame::working_source(&decoded.image, finest, [&first]);
    let src = work.dimensions();
    let mut face = face.scaled(f);
    let mut seen = frame::warp(&work, &view);
    // Landmarks on a rolled face lean towards upright: measure the roll left in the upright
    // view and correct it too; the face found there also gives the width and the eyes.
    let mut face_width = face.width();
    if let Some(again) = models.detect(&seen)?.into_iter().min_by(|a, b| {
        let d = |f: &Face| {
            let (l, r) = f.eyes();
            ((l.x + r.x) / 2.0 - view.eye_line_x()).abs() + ((l.y + r.y) / 2.0 - view.eye_line()).abs()
        };
        d(a).total_cmp(&d(b))
    }) {
        let (l, r) = again.eyes();
        let residual = (r.y - l.y).atan2(r.x - l.x).to_degrees();
        run.report.measurements.insert("residual_roll_deg", residual);
        let eyes = view.to_source((l.x + r.x) / 2.0, (l.y + r.y) / 2.0);
        face_width = again.width() / view.scale;
        view = view.refined(if residual.abs() > 0.5 { residual } else { 0.0 }, eyes);
        seen = frame::warp(&work, &view);
    }
    let roll = view.roll_deg;
    run.check(Reason::HeadTilted, roll.abs() <= limits::MAX_ROLL_DEG, roll, limits::MAX_ROLL_DEG);
    let seen_alpha = models.matte(&seen)?;
    run.lap("matte")?;

    // The top of the head (hair included) over the face's columns in the upright view.
    let half = face_width * view.scale / 2.0;
    let cx = view.eye_line_x();
    let top = matte::head_top_over(&seen_alpha, (cx - half).max(0.0) as u32, (cx + half) as u32);
    let top_row = top.map_or(view.eye_line() - 0.8 * face_width * view.scale, |t| t as f32);
    run.report.measurements.insert("hair_reaches_view_top", f32::from(top == Some(0)));
    let subject = frame::Subject {
        eyes: view.to_source(cx, view.eye_line()),
        face_width,
        top_above_eyes: (view.eye_line() - top_row) / view.scale,
    };
    let to_view = view.output_map();
    let is_person = |q: Point| {
        let p = to_view.apply(q);
        let (x, y) = (p.x.clamp(0.0, view.out_w as f32 - 1.0) as u32, p.y.clamp(0.0, view.out_h as f32 - 1.0) as u32);
        seen_alpha.get_pixel(x, y)[0] > 127
    };
    let (mut frame, placement) = frame::fit(&view, &subject, spec, src, &is_person);
    // A decode reduced further than this frame can use: the photo again, as fine as it needs.
    let mut work = work;
    if frame.scale > 1.0 && decoded.scale < 1.0 {
        let (w, h) = decoded.full_size();
        let wanted = decoded.scale * f * frame.scale;
        if let Ok(finer) = decode::decode_reduced(bytes, (w.min(h) as f32 * wanted).ceil() as u32) {
            let k = finer.image.width() as f32 / work.width() as f32;
            (view, frame, face, work) = (view.on_resized(k, k), frame.on_resized(k, k), face.scaled(k), finer.image);
            run.report.measurements.insert("decode_scale", finer.scale);
        }
    }
    let src = work.dimensions();
    let image = frame::warp(&work, &frame);
    let alpha = frame::matte_into(&view, &seen_alpha, &frame, src.0, src.1);

    let m = &mut run.report.measurements;
    m.insert("eyes_from_top_px", placement.eyes_from_top_px);
    m.insert("face_width_px", placement.face_width_px);
    m.insert("head_top_px", placement.head_top_px);
    m.insert("eyes_margin_px", placement.eyes_margin_px);
    m.insert("face_width_margin_px", placement.face_width_margin_px);
    m.insert("head_top_margin_px", placement.head_top_margin_px);
    m.insert("body_cut_px", placement.body_cut_px);
    let cut = placement.body_cut_px;
    run.check(Reason::CropOutOfFrame, cut <= frame::MAX_BODY_CUT_PX, cut, frame::MAX_BODY_CUT_PX);
    let band = spec.hairline_from_top;
    let head_top = placement.head_top_px;
    run.check(
        Reason::CropOutOfFrame,
        (band.min as f32..=band.max as f32).contains(&head_top) && top != Some(0),
        head_top,
        band.min as f32,
    );
    if placement.safety(spec) < limits::NEAR_BAND_EDGE && cut <= frame::MAX_BODY_CUT_PX {
        let smallest = placement.face_width_margin_px.min(placement.eyes_margin_px).min(placement.head_top_margin_px);
        run.hint(Hint::NearBandEdge, smallest);
    }
    run.report.frame = Some(frame);
    run.report.placement = Some(placement);
    Ok(Framed { frame, face, image, alpha, work })
}

fn mesh_stage(run: &mut Run, models: &Models, framed: &Framed) -> Result<(), PipelineError> {
    let (x0, y0, x1, y1) = face_box(&framed.frame, &framed.face);
    if let Some(m) = models.mesh(&framed.image, mesh::Crop::around(x0, y0, x1, y1))? {
        run.check(Reason::HeadTurned, m.yaw_deg.abs() <= limits::MAX_YAW_DEG, m.yaw_deg, limits::MAX_YAW_DEG);
        run.check(Reason::HeadTurned, m.pitch_deg.abs() <= limits::MAX_PITCH_DEG, m.pitch_deg, limits::MAX_PITCH_DEG);
        let (eyes, mouth) = (m.eye_openness, m.mouth_openness);
        run.check(Reason::EyesClosed, eyes >= limits::MIN_EYE_OPENNESS, eyes, limits::MIN_EYE_OPENNESS);
        let (face_luma, _, _) = checks::face_lighting(&framed.image, face_rect(&framed.frame, &framed.face));
        let inside = checks::mouth_inside_luma(&framed.image, m.inner_lips.0, m.inner_lips.1, m.mouth_width, face_luma);
        if let Some(l) = inside {
            run.report.measurements.insert("mouth_inside_luma", l);
        }
        let open = checks::mouth_open(mouth, inside);
        run.check(Reason::MouthOpen, !open, mouth, checks::mouth_gap_limit(inside));
        appearance_checks(run, framed, &m.points);
        run.report.mesh = Some(m);
    } else {
        run.hint(Hint::FaceDetailsUnmeasured, 0.0);
    }
    Ok(())
}

/// Lenses, brows and ears (the guides' rules 3 and 4): dark sunglasses fail, the rest is shown
/// to the reviewer with its measured value.
fn appearance_checks(run: &mut Run, framed: &Framed, points: &mesh::Landmarks) {
    let Some(a) = appearance::measure(&framed.image, &framed.alpha, points) else {
        run.hint(Hint::FaceDetailsUnmeasured, 1.0);
        return;
    };
    let m = &mut run.report.measurements;
    m.insert("brow_skin", a.brow_skin);
    m.insert("ear_skin", a.ear_skin);
    let lens = a.lens_luma;
    run.check(Reason::TintedGlasses, lens >= limits::MIN_LENS_LUMA, lens, limits::MIN_LENS_LUMA);
    if (limits::MIN_LENS_LUMA..limits::TINTED_LENS_LUMA).contains(&lens) {
        run.hint(Hint::LensesMayBeTinted, lens);
    }
    if a.brow_skin < limits::MIN_BROW_SKIN {
        run.hint(Hint::BrowsCovered, a.brow_skin);
    }
    if a.ear_skin < limits::MIN_EAR_SKIN {
        run.hint(Hint::EarsCovered, a.ear_skin);
    }
}

fn check_stage(run: &mut Run, framed: &Framed, bg: [u8; 3]) {
    let (frame, face) = (&framed.frame, &framed.face);
    let rect = face_rect(frame, face);
    let (mean, left, right) = checks::face_lighting(&framed.image, rect);
    run.report.measurements.insert("face_luma", mean);
    run.check(Reason::Underexposed, mean >= limits::MIN_FACE_LUMA, mean, limits::MIN_FACE_LUMA);
    run.check(Reason::Overexposed, mean <= limits::MAX_FACE_LUMA, mean, limits::MAX_FACE_LUMA);
    let ratio = left.max(right) / left.min(right).max(1.0);
    run.check(Reason::UnevenLighting, ratio <= limits::MAX_LIGHTING_RATIO, ratio, limits::MAX_LIGHTING_RATIO);
    let coverage = checks::matte_coverage(&framed.alpha, rect);
    run.report.measurements.insert("face_matte_coverage", coverage);
    if coverage < limits::MIN_FACE_MATTE_COVERAGE {
        run.hint(Hint::CutoutIncomplete, coverage);
    }
    let sharp = checks::face_sharpness(&framed.work, face);
    run.check(Reason::Blurry, sharp >= limits::MIN_SHARPNESS, sharp, limits::MIN_SHARPNESS);
    let chin = frame.to_output(Point { x: (face.x0 + face.x1) / 2.0, y: face.y1 }).y;
    let below = (chin + face.height() * frame.scale * 0.25).max(0.0) as u32;
    match checks::clothing_colour(&framed.image, &framed.alpha, below) {
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
    if let Some(share) = checks::clothing_near_background(&framed.image, &framed.alpha, below, bg) {
        let limit = limits::MAX_CLOTHING_NEAR_BACKGROUND;
        run.check(Reason::ClothingMatchesBackground, share < limit, share, limit);
    }
    let mouth = frame.to_output(face.landmarks[3]).y.max(frame.to_output(face.landmarks[4]).y);
    // Shown to reviewers, not judged automatically: the outline's slope also follows
    // clothing and the body's turn (the astronaut, shoulders square, measures 18°), so the
    // shoulders_not_level decision stays with people.
    let (fx0, _, fx1, _) = face_box(frame, face);
    let alpha = &framed.alpha;
    if let Some(t) = checks::shoulder_tilt(alpha, (fx0 + fx1) / 2.0, fx1 - fx0, mouth.max(0.0) as u32) {
        run.report.measurements.insert("shoulder_slope_deg", t);
    }
}

fn output_stage(run: &mut Run, framed: &Framed, standard: &RgbImage, spec: &PhotoSpec) -> Photos {
    let dpi = u16::try_from(spec.dpi).unwrap_or(300);
    let encoded = encode::to_kb_range(standard, spec.min_kb, spec.max_kb, dpi);
    let preview = crate::resize::rgb(standard, spec.width_px / 2, spec.height_px / 2);
    let (image, alpha) = (&framed.image, &framed.alpha);
    let mut cutout = RgbaImage::new(image.width(), image.height());
    for (x, y, p) in cutout.enumerate_pixels_mut() {
        let c = image.get_pixel(x, y).0;
        *p = image::Rgba([c[0], c[1], c[2], alpha.get_pixel(x, y)[0]]);
    }
    let mut cutout_png = Vec::new();
    // For reviewers' screens, not for keeping: the fast compression level. Writing a PNG
    // into memory does not fail.
    let png = PngEncoder::new_with_quality(Cursor::new(&mut cutout_png), CompressionType::Fast, FilterType::Adaptive);
    let _ = cutout.write_with_encoder(png);
    run.report.output = Some(OutputInfo {
        width: standard.width(),
        height: standard.height(),
        bytes: encoded.bytes.len(),
        kb: encoded.bytes.len() as f32 / 1024.0,
        in_kb_range: encoded.in_range,
        jpeg_quality: encoded.quality,
        dpi: spec.dpi,
        background: [spec.background.0, spec.background.1, spec.background.2],
    });
    Photos { standard_jpeg: encoded.bytes, preview_jpeg: encode::jpeg(&preview, 80, dpi), cutout_png }
}
