//! From a phone photo to a standard certificate photo, in pure stages (no AWS): decode with
//! limits → orientation → face detection on a small copy → frame from the spec's geometry →
//! one warp (roll correction, crop, scale) from the full-resolution image → matting on the
//! frame → composite onto the spec colour → JPEG searched into the KB range with the DPI set.
//! Checks measure along the way; every measurement goes into the report.

pub mod appearance;
pub mod checks;
pub mod decode;
pub mod detect;
pub mod encode;
pub mod frame;
pub mod matte;
pub mod mesh;
pub mod models;
pub mod pipeline;
pub mod resize;

pub use models::{Models, use_threads};
pub use pipeline::{Options, Output, PipelineError, Report, run_pipeline, run_pipeline_with};
