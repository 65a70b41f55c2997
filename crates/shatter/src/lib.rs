//! shatter: one training run of the paper's randomization tests, from a config to a run
//! record. The dataset is uploaded once and stays on the GPU; each epoch the host uploads
//! one permutation, records the steps, and reads the metrics back once.

mod batch;
mod config;
mod record;
mod resident;
mod show_data;
mod trainer;

pub use batch::{BatchShape, crop_origin, gather_batch, reference_batch};
pub use config::{ConfigError, TrainConfig};
pub use record::{EpochRecord, FitEpochs, RunRecord, write_json_atomic};
pub use resident::ResidentSplit;
pub use show_data::{CHANGED, KEPT, sample_grid};
pub use trainer::{InputCrop, Progress, Trainer, run_training};
