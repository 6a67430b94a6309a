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
#[derive(Clone, Copy, PartialEq)]
enum Compile {
    /// tract's defaults.
    Default,
    /// Convolutions in NHWC through im2col + matrix products rather than tract's "direct
    /// spatial" kernels: on MODNet that is 2× faster on x86 (profiled with `tract dump
    /// --profile`; alpha identical to 1e-6).
    Im2col,
}

fn load(dir: &Path, file: &'static str, shape: [usize; 4], how: Compile) -> Result<Plan, ModelError> {
    let wrap = |e: TractError| ModelError { file, source: e.into() };
    // The input size is fixed before optimising, so every shape is known to the compiler.
    let mut model = tract_onnx::onnx()
        .model_for_path(dir.join(file))
        .and_then(|m| m.with_input_fact(0, f32::fact(shape).into()))
        .and_then(|m| m.into_typed())
        .and_then(|m| m.into_decluttered())
        .map_err(wrap)?;
    if how == Compile::Im2col {
        let nhwc = tract_onnx::tract_core::transform::get_transform("conv_nhwc")
            .map_err(wrap)?
            .ok_or_else(|| wrap(TractError::msg("tract has no conv_nhwc transform")))?;
        model.transform(nhwc.as_ref()).map_err(wrap)?;
        let scope = KnobScope::new([("TRACT_DISABLE_DIRECT_SPATIAL", "true")]).map_err(wrap)?;
        scope.enter(|| model.optimize()).map_err(wrap)?;
    } else {
        model.optimize().map_err(wrap)?;
    }
    model.into_runnable().map_err(wrap)
}

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

/// Runs the networks' matrix products on `threads` threads from now on (1 = the calling
/// thread only), for every model of the process.
pub fn use_threads(threads: usize) {
    use tract_linalg::multithread::{Executor, set_default_executor};
    set_default_executor(if threads > 1 { Executor::multithread(threads) } else { Executor::SingleThread });
}

impl Models {
    /// Loads the detector, the face mesh and the matting network from `dir` (see models/).
    pub fn load(dir: &Path) -> Result<Self, ModelError> {
        Ok(Self {
            detector: load(dir, "retinaface_mnet025.onnx", [1, 3, detect::INPUT, detect::INPUT], Compile::Default)?,
            anchors: detect::anchors(),
            matter: load(dir, matte::MODEL_FILE, [1, 3, matte::INPUT_H, matte::INPUT_W], Compile::Im2col)?,
            mesher: load(dir, "face_landmark_468.onnx", [1, 3, mesh::INPUT, mesh::INPUT], Compile::Default)?,
            iris: load(dir, "iris_landmark.onnx", [1, 3, mesh::IRIS_INPUT, mesh::IRIS_INPUT], Compile::Default)?,
        })
    }

    pub fn detect(&self, img: &image::RgbImage) -> Result<Vec<Face>, InferenceError> {
        let (data, lb) = detect::preprocess(img);
        let out = run(&self.detector, data, [1, 3, detect::INPUT, detect::INPUT])?;
        Ok(detect::postprocess(&as_vec(&out[0])?, &as_vec(&out[1])?, &as_vec(&out[2])?, &self.anchors, lb))
    }

    /// The face mesh of the face in `crop` of `frame`, if the network finds a face there.
    pub fn mesh(&self, frame: &image::RgbImage, crop: mesh::Crop) -> Result<Option<FaceMesh>, InferenceError> {
        let data = mesh::preprocess(frame, crop, mesh::INPUT, false);
        let out = run(&self.mesher, data, [1, 3, mesh::INPUT, mesh::INPUT])?;
        let presence = as_vec(&out[1])?.first().copied().unwrap_or(f32::MIN);
        let Some(mut m) = mesh::postprocess(&as_vec(&out[0])?, presence, crop) else { return Ok(None) };
        if m.presence < mesh::MIN_PRESENCE {
            return Ok(None);
        }
        // The iris model was trained on the person's right eye; the left one is mirrored.
        let shape = [1, 3, mesh::IRIS_INPUT, mesh::IRIS_INPUT];
        let mut eyes = Vec::new();
        for (i, (a, b)) in m.eye_corners.into_iter().enumerate() {
            let (eye, mirrored) = (mesh::Crop::eye(a, b), i == 1);
            let out = run(&self.iris, mesh::preprocess(frame, eye, mesh::IRIS_INPUT, mirrored), shape)?;
            eyes.extend(mesh::iris_eye_openness(&as_vec(&out[0])?, eye, mirrored));
        }
        if let Some(open) = eyes.into_iter().reduce(f32::min) {
            m.eye_openness = open;
        }
        Ok(Some(m))
    }

    /// Alpha of the person in `frame`, at the frame's size.
    pub fn matte(&self, frame: &image::RgbImage) -> Result<image::GrayImage, InferenceError> {
        let data = matte::preprocess(frame);
        let out = run(&self.matter, data, [1, 3, matte::INPUT_H, matte::INPUT_W])?;
        Ok(matte::postprocess(&as_vec(&out[0])?, frame.width(), frame.height()))
    }
}
