//! Run records made up for tests of the sweep's results folder and the report: no GPU, and
//! every number chosen, so a test can say what each figure and table row must show.

use shatter::{EpochRecord, FitEpochs, RunRecord, TrainConfig};

/// How a made-up run ended.
#[derive(Clone, Copy, Debug)]
pub enum Ending {
    /// Fitted after this many epochs.
    FittedAt(usize),
    /// Ran out of its epoch budget.
    NotFitted,
    Diverged,
}

/// A run record of `model` on `corrupt` with `steps_per_epoch` steps an epoch of 128
/// images, whose loss falls linearly from 2.3, ending as `ending`, with `test_accuracy`.
pub fn run_record(
    model: &str,
    corrupt: &str,
    seed: u64,
    ending: Ending,
    test_accuracy: f64,
) -> RunRecord {
    let config = TrainConfig {
        model: model.into(),
        corrupt: corrupt.into(),
        seed,
        data_seed: seed,
        epochs: 20,
        ..TrainConfig::default()
    };
    let steps_per_epoch = 4;
    let images_per_epoch = (steps_per_epoch * config.batch_size) as u64;
    let epochs_run = match ending {
        Ending::FittedAt(e) => e,
        Ending::NotFitted => config.epochs,
        Ending::Diverged => 3,
    };
    let total_steps = epochs_run * steps_per_epoch;
    let step_losses: Vec<f64> = (0..total_steps)
        .map(|s| match ending {
            Ending::Diverged if s + 1 == total_steps => f64::NAN,
            _ => 2.3 * (1.0 - s as f64 / total_steps as f64),
        })
        .collect();
    let train_accuracy = match ending {
        Ending::FittedAt(_) => 1.0,
        Ending::NotFitted => 0.9,
        Ending::Diverged => 0.1,
    };
    let epochs: Vec<EpochRecord> = (1..=epochs_run)
        .map(|e| EpochRecord {
            epoch: e,
            images_seen: e as u64 * images_per_epoch,
            lr: config.lr,
            running_train_loss: 1.0,
            running_train_accuracy: 0.5,
            train_loss: 1.0,
            train_accuracy: if e == epochs_run { train_accuracy } else { 0.5 },
            test_loss: 2.0,
            test_accuracy,
            train_top5_accuracy: 1.0,
            test_top5_accuracy: 0.5,
            evaluated: true,
            test_evaluated: true,
            seconds: 1.0,
        })
        .collect();
    let converged_epoch = match ending {
        Ending::FittedAt(e) => Some(e),
        _ => None,
    };
    RunRecord {
        shatter_version: "0.1.0".into(),
        git_commit: "0123456789ab".into(),
        seed,
        adapter: shatter::AdapterRecord {
            name: "fixture adapter".into(),
            backend: "vulkan".into(),
            device_type: "Cpu".into(),
            driver: "fixture".into(),
            driver_info: "1.0".into(),
            gemm_variant: "vec4".into(),
            conv_variant: String::new(),
        },
        dataset: "fashion-mnist-mini".into(),
        train_images: 512,
        test_images: 1000,
        input_shape: [1, 28, 28],
        classes: 10,
        parameters: 1000,
        batch_norm_parameters: 0,
        corruption: shatter::CorruptionRecord {
            mode: corrupt.into(),
            data_seed: seed,
            labels_changed: 0,
            fraction_labels_changed: 0.0,
            pixel_permutations: 0,
            gaussian_mean: Vec::new(),
            gaussian_variance: Vec::new(),
        },
        converged_step: converged_epoch.map(|e| e * steps_per_epoch),
        converged_images: converged_epoch.map(|e| e as u64 * images_per_epoch),
        converged_epoch,
        fit_epochs: FitEpochs {
            at_100: converged_epoch,
            ..FitEpochs::default()
        },
        final_train_accuracy: train_accuracy,
        final_test_accuracy: test_accuracy,
        final_test_top5_accuracy: 0.5,
        epochs,
        step_losses,
        diverged: matches!(ending, Ending::Diverged),
        wall_seconds: 10.0,
        finished_unix: Some(1_800_000_000),
        images_per_second: 100.0,
        evaluation_seconds: 1.0,
        gpu_buffer_bytes: 1 << 20,
        resident_pixels: "u8".into(),
        streamed: false,
        resumed: Vec::new(),
        checkpoints: Default::default(),
        config,
    }
}

/// Write `record` into `<out>/runs/` under its run id, as a sweep would.
pub fn write_record(out: &std::path::Path, record: &RunRecord) -> String {
    let id = shatter::sweep::run_id(&record.config);
    shatter::write_json_atomic(&shatter::sweep::record_path(out, &id), record).unwrap();
    id
}
