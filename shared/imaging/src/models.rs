//! The networks, loaded and optimised once per process (a Lambda container's init), each for
//! the one input size the pipeline feeds it.

use std::path::Path;

use tract_onnx::prelude::*;
use tract_onnx::tract_core::tract_data::knobs::KnobScope;

use crate::detect::{self, Face};
use crate::matte;
use crate::mesh::{self, FaceMesh};

type Plan = std::sync::Arc<TypedRunnableModel>;

pub struct Models {
    detector: Plan,
    anchors: Vec<[f32; 4]>,
    matter: Plan,
    mesher: Plan,
    iris: Plan,
}

#[derive(Debug, thiserror::Error)]
#[error("model {file}: {source}")]
pub struct ModelError {
    file: &'static str,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync>,
}

/// How a network is compiled for this CPU.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Compile {
    /// tract's defaults.
    Default,
    /// Convolutions in NHWC through im2col + matrix products rather than tract's "direct
    /// spatial" kernels: on MODNet that is 2× faster on x86 (profiled with `tract dump
    /// --profile`; alpha identical to 1e-6).
    Im2col,
}

/// The networks, each at the one input size the pipeline feeds it.
const NETWORKS: [(&str, [usize; 4], Compile); 4] = [
    ("retinaface_mnet025.onnx", [1, 3, detect::INPUT, detect::INPUT], Compile::Default),
    (matte::MODEL_FILE, [1, 3, matte::INPUT_H, matte::INPUT_W], Compile::Im2col),
    ("face_landmark_468.onnx", [1, 3, mesh::INPUT, mesh::INPUT], Compile::Default),
    ("iris_landmark.onnx", [1, 3, mesh::IRIS_INPUT, mesh::IRIS_INPUT], Compile::Default),
];

fn load(dir: &Path, (file, shape, how): (&'static str, [usize; 4], Compile)) -> Result<Plan, ModelError> {
    let wrap = |e: TractError| ModelError { file, source: e.into() };
    let mut model = match imported::read(dir, file, shape) {
        Some(model) => model,
        None => import(dir, file, shape).map_err(wrap)?,
    };
    if how == Compile::Im2col {
        let nhwc = tract_onnx::tract_core::transform::get_transform("conv_nhwc")
            .map_err(wrap)?
            .ok_or_else(|| wrap(TractError::msg("tract has no conv_nhwc transform")))?;
        model.transform(nhwc.as_ref()).map_err(wrap)?;
        // The transform wraps every convolution in NCHW↔NHWC moves; decluttering again
        // cancels the pairs between neighbouring layers (78 moves, 46 ms of MODNet, become 13
        // and 4 ms: `yunzhao bench --profile`).
        model.declutter().map_err(wrap)?;
        let scope = KnobScope::new([("TRACT_DISABLE_DIRECT_SPATIAL", "true")]).map_err(wrap)?;
        scope.enter(|| model.optimize()).map_err(wrap)?;
    } else {
        model.optimize().map_err(wrap)?;
    }
    model.into_runnable().map_err(wrap)
}

/// The network as tract reads it from ONNX, before anything specific to this CPU: typed at
/// its input size (fixed first, so every shape is known to the compiler) and decluttered.
fn import(dir: &Path, file: &str, shape: [usize; 4]) -> TractResult<TypedModel> {
    tract_onnx::onnx()
        .model_for_path(dir.join(file))?
        .with_input_fact(0, f32::fact(shape).into())?
        .into_typed()?
        .into_decluttered()
}

/// The imported networks kept as tract NNEF beside the ONNX files (`yunzhao import-models`,
/// run by `make models`): parsing, typing and decluttering are about two thirds of loading
/// and the same on every CPU, so a new process reads the NNEF and only compiles it for its
/// CPU. Each copy is keyed by its ONNX file's pinned hash (models/SHA256SUMS) and input size;
/// a missing, stale or unreadable copy is ignored and the ONNX imported instead.
mod imported {
    use std::path::{Path, PathBuf};

    use tract_onnx::prelude::*;

    use super::{ModelError, NETWORKS};

    fn path(dir: &Path, file: &str) -> PathBuf {
        dir.join(format!("{}.nnef.tar", file.trim_end_matches(".onnx")))
    }

    fn key_path(dir: &Path, file: &str) -> PathBuf {
        dir.join(format!("{}.nnef.key", file.trim_end_matches(".onnx")))
    }

    /// What the copy must have been made from: None when the ONNX file is not pinned. (The
    /// copy precedes every CPU- or mode-specific step, so the compile mode is not part of it.)
    fn key(dir: &Path, file: &str, shape: [usize; 4]) -> Option<String> {
        let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).ok()?;
        let hash = sums.lines().find_map(|l| l.strip_suffix(file)?.strip_suffix("  "))?;
        Some(format!("{hash} {shape:?}\n"))
    }

    /// Whether every network has a current imported copy in `dir`.
    pub fn current(dir: &Path) -> bool {
        NETWORKS.iter().all(|&(file, shape, _)| {
            std::fs::read_to_string(key_path(dir, file)).ok() == key(dir, file, shape) && path(dir, file).is_file()
        })
    }

    pub(super) fn read(dir: &Path, file: &str, shape: [usize; 4]) -> Option<TypedModel> {
        let written = std::fs::read_to_string(key_path(dir, file)).ok()?;
        if Some(written) != key(dir, file, shape) {
            return None;
        }
        tract_nnef::nnef().with_onnx().model_for_path(path(dir, file)).ok()
    }

    /// Imports every network from its ONNX file and writes its NNEF copy and key; returns the
    /// files written.
    pub fn write_all(dir: &Path) -> Result<Vec<PathBuf>, ModelError> {
        let mut written = Vec::new();
        for (file, shape, _) in NETWORKS {
            let wrap = |e: TractError| ModelError { file, source: e.into() };
            let key = key(dir, file, shape)
                .ok_or_else(|| wrap(TractError::msg("not listed in SHA256SUMS (run `make models`)")))?;
            let model = super::import(dir, file, shape).map_err(wrap)?;
            let out = std::fs::File::create(path(dir, file)).map_err(|e| wrap(e.into()))?;
            tract_nnef::nnef().with_onnx().write_to_tar(&model, out).map_err(wrap)?;
            std::fs::write(key_path(dir, file), key).map_err(|e| wrap(e.into()))?;
            written.extend([path(dir, file), key_path(dir, file)]);
        }
        Ok(written)
    }
}

pub use imported::{current as imported_copies_current, write_all as import_all};

#[derive(Debug, thiserror::Error)]
#[error("inference failed: {0}")]
pub struct InferenceError(String);

fn run(plan: &Plan, data: Vec<f32>, shape: [usize; 4]) -> Result<TVec<TValue>, InferenceError> {
    let input = Tensor::from_shape(&shape, &data).map_err(|e| InferenceError(e.to_string()))?;
    plan.run(tvec!(input.into())).map_err(|e| InferenceError(e.to_string()))
}

fn as_vec(v: &TValue) -> Result<Vec<f32>, InferenceError> {
    let view = v.to_plain_array_view::<f32>().map_err(|e| InferenceError(e.to_string()))?;
    Ok(view.iter().copied().collect())
}

/// The small networks (detector, face mesh, iris: a few milliseconds each) on the calling
/// thread only, whatever [`use_threads`] says: handing their small matrix products to a second
/// thread costs more than it saves (the mesh stage took 27 ms on two threads, 19 on one).
fn on_this_thread<R>(f: impl FnOnce() -> R) -> R {
    use tract_linalg::multithread::{Executor, multithread_tract_scope};
    multithread_tract_scope(Executor::SingleThread, f)
}

/// Runs the networks' matrix products on `threads` threads from now on (1 = the calling
/// thread only), for every model of the process.
pub fn use_threads(threads: usize) {
    use tract_linalg::multithread::{Executor, set_default_executor};
    set_default_executor(if threads > 1 { Executor::multithread(threads) } else { Executor::SingleThread });
}

impl Models {
    /// Loads the detector, the face mesh and the matting network from `dir` (see models/).
    pub fn load(dir: &Path) -> Result<Self, ModelError> {
        let [detector, matter, mesher, iris] = NETWORKS;
        Ok(Self {
            detector: load(dir, detector)?,
            anchors: detect::anchors(),
            matter: load(dir, matter)?,
            mesher: load(dir, mesher)?,
            iris: load(dir, iris)?,
        })
    }

    pub fn detect(&self, img: &image::RgbImage) -> Result<Vec<Face>, InferenceError> {
        let (data, lb) = detect::preprocess(img);
        let out = on_this_thread(|| run(&self.detector, data, [1, 3, detect::INPUT, detect::INPUT]))?;
        Ok(detect::postprocess(&as_vec(&out[0])?, &as_vec(&out[1])?, &as_vec(&out[2])?, &self.anchors, lb))
    }

    /// The face mesh of the face in `crop` of `frame`, if the network finds a face there.
    pub fn mesh(&self, frame: &image::RgbImage, crop: mesh::Crop) -> Result<Option<FaceMesh>, InferenceError> {
        let data = mesh::preprocess(frame, crop, mesh::INPUT, false);
        let out = on_this_thread(|| run(&self.mesher, data, [1, 3, mesh::INPUT, mesh::INPUT]))?;
        let presence = as_vec(&out[1])?.first().copied().unwrap_or(f32::MIN);
        let Some(mut m) = mesh::postprocess(&as_vec(&out[0])?, presence, crop) else { return Ok(None) };
        if m.presence < mesh::MIN_PRESENCE {
            return Ok(None);
        }
        // The iris model was trained on the person's right eye; the left one is mirrored.
        let shape = [1, 3, mesh::IRIS_INPUT, mesh::IRIS_INPUT];
        let mut eyes = Vec::new();
        for (i, (a, b)) in m.points.eye_corners.into_iter().enumerate() {
            let (eye, mirrored) = (mesh::Crop::eye(a, b), i == 1);
            let input = mesh::preprocess(frame, eye, mesh::IRIS_INPUT, mirrored);
            let out = on_this_thread(|| run(&self.iris, input, shape))?;
            eyes.extend(mesh::iris_eye_openness(&as_vec(&out[0])?, eye, mirrored));
        }
        if let Some(open) = eyes.into_iter().reduce(f32::min) {
            m.eye_openness = open;
        }
        Ok(Some(m))
    }

    /// Where the matting network spends its time on `frame`: milliseconds and node count per
    /// kind of operation, most first (`yunzhao bench --profile`).
    pub fn profile_matte(&self, frame: &image::RgbImage) -> Result<Vec<(String, f64, usize)>, InferenceError> {
        let fail = |e: TractError| InferenceError(e.to_string());
        let input =
            Tensor::from_shape(&[1, 3, matte::INPUT_H, matte::INPUT_W], &matte::preprocess(frame)).map_err(fail)?;
        let mut state = TypedSimpleState::new(&self.matter).map_err(fail)?;
        let mut by_op: std::collections::HashMap<String, (f64, usize)> = Default::default();
        state
            .run_plan_with_eval(tvec!(input.into()), |ctx, op_state, node, inputs| {
                let started = std::time::Instant::now();
                let out = tract_onnx::tract_core::plan::eval(ctx, op_state, node, inputs);
                let spent = by_op.entry(node.op().name().to_string()).or_default();
                spent.0 += started.elapsed().as_secs_f64() * 1000.0;
                spent.1 += 1;
                out
            })
            .map_err(fail)?;
        let mut ops: Vec<_> = by_op.into_iter().map(|(name, (ms, n))| (name, ms, n)).collect();
        ops.sort_by(|a, b| b.1.total_cmp(&a.1));
        Ok(ops)
    }

    /// Alpha of the person in `frame`, at the frame's size.
    pub fn matte(&self, frame: &image::RgbImage) -> Result<image::GrayImage, InferenceError> {
        let data = matte::preprocess(frame);
        let out = run(&self.matter, data, [1, 3, matte::INPUT_H, matte::INPUT_W])?;
        Ok(matte::postprocess(&as_vec(&out[0])?, frame.width(), frame.height()))
    }
}
