//! The networks, loaded and optimised once per process (a Lambda container's init), each for
//! the one input size the pipeline feeds it.

use std::path::Path;

use tract_onnx::prelude::*;

use crate::detect::{self, Face};
use crate::matte;

type Plan = std::sync::Arc<TypedRunnableModel>;

pub struct Models {
    detector: Plan,
    anchors: Vec<[f32; 4]>,
    matter: Plan,
}

#[derive(Debug, thiserror::Error)]
#[error("model {file}: {source}")]
pub struct ModelError {
    file: &'static str,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync>,
}

fn load(dir: &Path, file: &'static str, shape: [usize; 4]) -> Result<Plan, ModelError> {
    let wrap = |e: TractError| ModelError { file, source: e.into() };
    tract_onnx::onnx()
        .model_for_path(dir.join(file))
        .map_err(wrap)?
        .with_input_fact(0, f32::fact(shape).into())
        .map_err(wrap)?
        .into_optimized()
        .map_err(wrap)?
        .into_runnable()
        .map_err(wrap)
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

impl Models {
    /// Loads `retinaface_mnet025.onnx` and `modnet.onnx` from `dir` (see models/).
    pub fn load(dir: &Path) -> Result<Self, ModelError> {
        Ok(Self {
            detector: load(dir, "retinaface_mnet025.onnx", [1, 3, detect::INPUT, detect::INPUT])?,
            anchors: detect::anchors(),
            matter: load(dir, "modnet.onnx", [1, 3, matte::INPUT_H, matte::INPUT_W])?,
        })
    }

    pub fn detect(&self, img: &image::RgbImage) -> Result<Vec<Face>, InferenceError> {
        let (data, lb) = detect::preprocess(img);
        let out = run(&self.detector, data, [1, 3, detect::INPUT, detect::INPUT])?;
        Ok(detect::postprocess(&as_vec(&out[0])?, &as_vec(&out[1])?, &as_vec(&out[2])?, &self.anchors, lb))
    }

    /// Alpha of the person in `frame`, at the frame's size.
    pub fn matte(&self, frame: &image::RgbImage) -> Result<image::GrayImage, InferenceError> {
        let data = matte::preprocess(frame);
        let out = run(&self.matter, data, [1, 3, matte::INPUT_H, matte::INPUT_W])?;
        Ok(matte::postprocess(&as_vec(&out[0])?, frame.width(), frame.height()))
    }
}
