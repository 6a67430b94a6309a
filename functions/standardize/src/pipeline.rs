//! The photo pipeline (`yunzhao_imaging`) as the upload use case's [`Standardizer`]: run off
//! the async runtime, with the models loaded once per container.

use std::sync::Arc;

use time::OffsetDateTime;
use yunzhao_domain::campaign::PhotoSpec;
use yunzhao_domain::upload::{StandardPhoto, Standardized, Standardizer};

pub struct Pipeline(pub Arc<yunzhao_imaging::Models>);

impl Standardizer for Pipeline {
    async fn standardize(
        &self,
        original: Vec<u8>,
        spec: &PhotoSpec,
        uploaded_at: Option<OffsetDateTime>,
    ) -> Result<Standardized, String> {
        let (models, spec) = (self.0.clone(), spec.clone());
        let options = yunzhao_imaging::Options { uploaded_at, ..Default::default() };
        let run = move || yunzhao_imaging::run_pipeline_with(&original, &spec, &models, &options);
        let out = tokio::task::spawn_blocking(run).await.map_err(|e| e.to_string())?.map_err(|e| e.to_string())?;
        Ok(Standardized {
            passed: out.report.passed,
            reasons: out.report.reasons.clone(),
            report_json: serde_json::to_vec_pretty(&out.report).map_err(|e| e.to_string())?,
            photo: out.photo.map(|p| StandardPhoto {
                standard_jpeg: p.standard_jpeg,
                preview_jpeg: p.preview_jpeg,
                cutout_png: p.cutout_png,
            }),
        })
    }
}
