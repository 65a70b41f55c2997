//! The run record written as run.json: everything needed to plot, tabulate and reproduce a run.

use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::config::TrainConfig;

/// JSON has no NaN: serde_json writes a non-finite float as `null`. A diverged run's losses
/// are NaN, so these read `null` back as NaN, and its record stays readable.
mod null_as_nan {
    use serde::{Deserialize, Deserializer};

    pub fn one<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }

    pub fn many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        let values = Vec::<Option<f64>>::deserialize(d)?;
        Ok(values.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    pub epoch: usize,
    /// Training images seen by the end of this epoch.
    pub images_seen: u64,
    /// Learning rate at the last step of the epoch.
    pub lr: f64,
    /// Mean loss and accuracy over the epoch's training steps (the weights moved meanwhile).
    #[serde(deserialize_with = "null_as_nan::one")]
    pub running_train_loss: f64,
    #[serde(deserialize_with = "null_as_nan::one")]
    pub running_train_accuracy: f64,
    /// Loss and accuracy on the whole training set at the end of the epoch.
    #[serde(deserialize_with = "null_as_nan::one")]
    pub train_loss: f64,
    #[serde(deserialize_with = "null_as_nan::one")]
    pub train_accuracy: f64,
    #[serde(deserialize_with = "null_as_nan::one")]
    pub test_loss: f64,
    #[serde(deserialize_with = "null_as_nan::one")]
    pub test_accuracy: f64,
    /// Top-5 accuracy (the label among the five highest logits) on the whole training set
    /// and on the test set, where they were evaluated; NaN in older records.
    #[serde(default = "not_measured", deserialize_with = "null_as_nan::one")]
    pub train_top5_accuracy: f64,
    #[serde(default = "not_measured", deserialize_with = "null_as_nan::one")]
    pub test_top5_accuracy: f64,
    /// Whether the whole training set was evaluated after this epoch (see `--eval-every`);
    /// where not, `train_loss` and `train_accuracy` are NaN (`null` in run.json).
    #[serde(default = "evaluated_by_default")]
    pub evaluated: bool,
    /// Whether the test set was too: with the training set at every scheduled evaluation
    /// and at a fit, not when the running accuracy alone called for a look; where not,
    /// `test_loss` and `test_accuracy` are NaN.
    #[serde(default = "evaluated_by_default")]
    pub test_evaluated: bool,
    pub seconds: f64,
}

/// What a record written before a metric existed holds for it.
fn not_measured() -> f64 {
    f64::NAN
}

/// Records written before evaluation could be skipped evaluated every epoch.
fn evaluated_by_default() -> bool {
    true
}

/// Where an interrupted run was continued from its checkpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResumePoint {
    /// Epochs finished, and steps of the next one trained, when the checkpoint was saved.
    pub epoch: usize,
    pub step: usize,
    pub images_seen: u64,
    /// The adapter that continued the run.
    pub adapter: String,
}

/// The checkpoints a run saved (over all its sittings).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CheckpointStats {
    pub saves: usize,
    /// Size of the last checkpoint file.
    pub bytes: u64,
    /// Seconds the GPU waited for the state to be read back, over all saves.
    pub readback_seconds: f64,
    /// Seconds spent encoding and writing files, over all saves (on a thread of their own
    /// while training goes on).
    pub write_seconds: f64,
}

/// First epoch at which the training accuracy reached each level (None: never).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FitEpochs {
    pub at_99: Option<usize>,
    pub at_99_9: Option<usize>,
    pub at_100: Option<usize>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdapterRecord {
    pub name: String,
    pub backend: String,
    pub device_type: String,
    pub driver: String,
    pub driver_info: String,
    pub gemm_variant: String,
    /// The convolution kernels and how many convolutions were tuned (empty for models
    /// without convolutions, and in records written before kernels were tuned).
    #[serde(default)]
    pub conv_variant: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CorruptionRecord {
    pub mode: String,
    pub data_seed: u64,
    pub labels_changed: usize,
    pub fraction_labels_changed: f64,
    /// Permutations of pixel positions drawn (1 for shuffled pixels, one per image for random pixels).
    pub pixel_permutations: usize,
    /// Gaussian mode: per-channel mean and variance drawn from (u8 / 255 scale); empty otherwise.
    pub gaussian_mean: Vec<f64>,
    pub gaussian_variance: Vec<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub shatter_version: String,
    pub git_commit: String,
    pub config: TrainConfig,
    pub seed: u64,
    pub adapter: AdapterRecord,
    pub dataset: String,
    pub train_images: usize,
    pub test_images: usize,
    pub input_shape: [usize; 3],
    /// Classes of the dataset (chance accuracy is 1 / classes).
    #[serde(default = "ten_classes")]
    pub classes: usize,
    /// Conv and dense weights and biases (the paper's count).
    pub parameters: usize,
    /// Batch-norm scales and shifts, trained on top of `parameters`.
    #[serde(default)]
    pub batch_norm_parameters: usize,
    pub corruption: CorruptionRecord,
    pub epochs: Vec<EpochRecord>,
    /// Mean training loss of every step, in order.
    #[serde(deserialize_with = "null_as_nan::many")]
    pub step_losses: Vec<f64>,
    /// First epoch (1-based) and step at which training accuracy reached the fit threshold.
    pub converged_epoch: Option<usize>,
    pub converged_step: Option<usize>,
    /// Training images seen until then.
    pub converged_images: Option<u64>,
    pub fit_epochs: FitEpochs,
    #[serde(deserialize_with = "null_as_nan::one")]
    pub final_train_accuracy: f64,
    #[serde(deserialize_with = "null_as_nan::one")]
    pub final_test_accuracy: f64,
    /// The test set's top-5 accuracy at the same evaluation (NaN in older records).
    #[serde(default = "not_measured", deserialize_with = "null_as_nan::one")]
    pub final_test_top5_accuracy: f64,
    pub diverged: bool,
    pub wall_seconds: f64,
    /// When the run finished, in seconds since the Unix epoch (None in older records).
    #[serde(default)]
    pub finished_unix: Option<u64>,
    /// Training throughput (evaluation passes excluded).
    pub images_per_second: f64,
    /// Seconds spent evaluating the whole training and test sets.
    #[serde(default)]
    pub evaluation_seconds: f64,
    /// Bytes of the GPU buffers and textures the run made (the resident data, the network,
    /// its optimizer state): all of them, since nothing is allocated after the start.
    #[serde(default)]
    pub gpu_buffer_bytes: u64,
    /// How the images are held on the GPU: "u8", or after the Gaussian randomization "f32",
    /// or "f16" where f32 would not fit the batch kernel's bindings (empty in older records).
    #[serde(default)]
    pub resident_pixels: String,
    /// Whether the images streamed from disk (an image folder larger than the GPU's
    /// bindings, or `--stream`) rather than staying on the GPU whole.
    #[serde(default)]
    pub streamed: bool,
    /// Each time the run was continued from a checkpoint (empty for a run in one sitting).
    #[serde(default)]
    pub resumed: Vec<ResumePoint>,
    #[serde(default)]
    pub checkpoints: CheckpointStats,
}

fn ten_classes() -> usize {
    10
}

/// Write `value` as pretty JSON to `path` through a temporary file and a rename, so a
/// crash never leaves a half-written record where a finished one is expected.
pub fn write_json_atomic<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value).context("serializing the run record")?;
    text.push('\n');
    crate::atomic_file::write_atomic(path, text.as_bytes())
}
