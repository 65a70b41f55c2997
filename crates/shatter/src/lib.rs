//! shatter: one training run of the paper's randomization tests, from a config to a run
//! record. The dataset is uploaded once and stays on the GPU; each epoch the host uploads
//! one permutation, records the steps, and reads the metrics back once.
//!
//! How the crates fit together, a training step's data flow and where each kernel lives:
//! docs/architecture.md in the repository.

mod atomic_file;
pub mod autotune;
mod batch;
mod config;
pub mod rademacher;
mod record;
pub mod report;
mod resident;
mod show_data;
pub mod sweep;
mod trainer;

pub use atomic_file::write_atomic;
pub use batch::{BatchShape, crop_origin, gather_batch, reference_batch};
pub use config::{ConfigError, TrainConfig};
pub use record::{
    AdapterRecord, CorruptionRecord, EpochRecord, FitEpochs, RunRecord, write_json_atomic,
};
pub use resident::ResidentSplit;
pub use show_data::{CHANGED, KEPT, sample_grid};
pub use trainer::{InputCrop, Progress, Trainer, load_run_data, run_training, train_prepared};
