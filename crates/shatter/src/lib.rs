//! shatter: one training run of the paper's randomization tests, from a config to a run
//! record. The dataset is uploaded once and stays on the GPU (an image folder too large for
//! that streams from disk instead: crate::stream_feed); each epoch the host uploads one
//! permutation, records the steps, and reads the metrics back once.
//!
//! How the crates fit together, a training step's data flow and where each kernel lives:
//! docs/architecture.md in the repository.

mod atomic_file;
pub mod autotune;
mod batch;
pub mod checkpoint;
mod config;
pub mod evaluation;
pub mod git;
pub mod rademacher;
mod record;
// Reports draw with plotters' native font support, and sweeps run workers on threads that
// share a device: neither exists in a browser (crates/web trains there).
#[cfg(not(target_arch = "wasm32"))]
pub mod report;
mod resident;
mod run;
mod saver;
mod show_data;
mod stream_feed;
#[cfg(not(target_arch = "wasm32"))]
pub mod sweep;
mod trainer;

pub use atomic_file::write_atomic;
pub use batch::{BatchShape, crop_origin, flipped, gather_batch, reference_batch};
pub use checkpoint::CheckpointPlan;
pub use config::{ConfigError, DEFAULT_EVAL_EVERY, TrainConfig};
pub use record::{
    AdapterRecord, CheckpointStats, CorruptionRecord, EpochRecord, FitEpochs, ResumePoint,
    RunRecord, write_json_atomic,
};
pub use resident::{PixelFormat, ResidentSplit};
pub use run::{
    Interrupted, Progress, RunOptions, epoch_order_stream, load_run_data, load_run_source,
    run_training, train_prepared,
};
pub use show_data::{CHANGED, KEPT, sample_grid};
pub use trainer::{EpochMetrics, EvalSets, InputCrop, SetMetrics, Trainer, TrainingData};
