//! One training run, from its config to its record: the data loaded and randomized, the
//! epochs trained, evaluated when due (`crate::evaluation`), and the run's state saved
//! now and then (`crate::checkpoint`) so that an interrupted run continues where it stopped
//! and ends with the record an uninterrupted one would have written.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Instant;

use anyhow::{Context, Result};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use shatter_data::{
    Corruption, CorruptionReport, Dataset, DatasetSpec, apply_corruption, load_spec,
};
use shatter_gpu::Gpu;
use shatter_nn::{LrSchedule, ModelKind, SgdConfig, WeightInit};

use crate::checkpoint::{self, CheckpointPlan, Expected, PartEntry, RunProgress};
use crate::config::TrainConfig;
use crate::evaluation::{EvalPolicy, FIT_LEVELS, reached};
use crate::record::{
    AdapterRecord, CheckpointStats, CorruptionRecord, EpochRecord, ResumePoint, RunRecord,
};
use crate::trainer::{InputCrop, Trainer, totals};

/// What a run tells its caller while it runs.
pub enum Progress<'a> {
    Started {
        /// As the paper counts: conv and dense weights and biases.
        parameters: usize,
        /// Batch-norm scales and shifts, trained but not in `parameters`.
        batch_norm_parameters: usize,
        steps_per_epoch: usize,
        /// The GPU memory its buffers and textures take (see `RunRecord::gpu_buffer_bytes`).
        gpu_buffer_bytes: u64,
    },
    /// The run continues from its checkpoint, saved after `epoch` epochs and `step` steps
    /// of the next.
    Resumed {
        checkpoint: &'a Path,
        epoch: usize,
        step: usize,
    },
    /// A checkpoint was found but cannot be used; the run starts over.
    CheckpointRefused {
        checkpoint: &'a Path,
        reason: &'a str,
    },
    Steps {
        epoch: usize,
        done: usize,
        total: usize,
    },
    Epoch(&'a EpochRecord),
}

/// How a run is carried out, beyond its config: neither changes its record.
#[derive(Default)]
pub struct RunOptions<'a> {
    /// Where and how often to save the run's state; None: never.
    pub checkpoint: Option<CheckpointPlan>,
    /// Set (by a signal handler) to stop the run at the next group of steps, after saving
    /// a checkpoint where there is a plan.
    pub stop: Option<&'a AtomicBool>,
    /// Fail, rather than start over, where the plan's checkpoint is missing or unusable.
    pub require_checkpoint: bool,
}

/// A run stopped on request before it finished.
#[derive(Debug)]
pub struct Interrupted {
    /// The checkpoint it continues from when started again, if it saved one.
    pub checkpoint: Option<PathBuf>,
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.checkpoint {
            Some(path) => write!(
                f,
                "interrupted; saved {}, from which the run continues when started again",
                path.display()
            ),
            None => f.write_str("interrupted"),
        }
    }
}

impl std::error::Error for Interrupted {}

/// Load the data, apply the randomization, train, and return the run record.
pub fn run_training(
    gpu: &Gpu,
    config: &TrainConfig,
    data_dir: &Path,
    options: &RunOptions<'_>,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<RunRecord> {
    config.validate()?;
    let started = Instant::now();
    let (dataset, report) = load_run_data(config, data_dir)?;
    train_prepared(gpu, config, &dataset, &report, started, options, progress)
}

/// The run's data: the dataset, cut to the configured subsets, with the randomization applied.
pub fn load_run_data(config: &TrainConfig, data_dir: &Path) -> Result<(Dataset, CorruptionReport)> {
    let spec: DatasetSpec = config.dataset.parse()?;
    let corruption: Corruption = config.corrupt.parse()?;
    let mut dataset = load_spec(&spec, data_dir)?;
    if let Some(n) = config.subset {
        dataset.subset_train(n)?;
    }
    if let Some(n) = config.test_subset {
        dataset.subset_test(n)?;
    }
    let report = apply_corruption(&mut dataset, &corruption, config.data_seed);
    Ok((dataset, report))
}

/// The name under which a checkpoint keeps the epoch order.
const ORDER_PART: &str = "order";

/// Train `config`'s model on `dataset` as given (already cut and randomized; `report` says
/// how) and return the run record; its wall time counts from `started`.
pub fn train_prepared(
    gpu: &Gpu,
    config: &TrainConfig,
    dataset: &Dataset,
    report: &CorruptionReport,
    started: Instant,
    options: &RunOptions<'_>,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<RunRecord> {
    let model: ModelKind = config.model.parse().map_err(anyhow::Error::msg)?;
    let train_images = dataset.train.labels.len();
    let schedule = LrSchedule {
        lr0: config.lr,
        decay: config.lr_decay,
        decay_images: config.lr_decay_images.unwrap_or(train_images as u64) as f64,
        staircase: config.lr_staircase,
    };
    let sgd = SgdConfig {
        schedule,
        momentum: config.momentum,
        weight_decay: config.weight_decay,
    };
    let bytes_before = Gpu::thread_buffer_bytes();
    let trainer = Trainer::build(
        gpu,
        dataset,
        model,
        config.batch_size,
        WeightInit {
            seed: config.seed,
            conv: config.conv_init.parse().map_err(crate::ConfigError)?,
        },
        &sgd,
        InputCrop {
            size: config.crop,
            random: config.random_crop,
        },
    )?;
    let gpu_buffer_bytes = Gpu::thread_buffer_bytes() - bytes_before;
    progress(Progress::Started {
        parameters: trainer.network.parameter_count(),
        batch_norm_parameters: trainer.network.batch_norm_parameter_count(),
        steps_per_epoch: trainer.steps_per_epoch(),
        gpu_buffer_bytes,
    });
    let commit = git_commit();
    let adapter = gpu.adapter().name.clone();
    let steps = trainer.steps_per_epoch();
    let policy = EvalPolicy {
        every: config.eval_every,
        epochs: config.epochs,
        fit_threshold: config.fit_threshold,
    };

    // The epoch order has its own stream, so changing the data seed leaves it alone.
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed ^ 0x6f72_6465_7273);
    let mut order: Vec<u32> = (0..train_images as u32).collect();
    let mut state = RunProgress {
        epochs_done: 0,
        steps_done: 0,
        images_seen_at_epoch_start: 0,
        order_stream_position: "0".into(),
        epochs: Vec::new(),
        step_losses: Vec::new(),
        fit: Default::default(),
        training_seconds: 0.0,
        wall_seconds: 0.0,
        accuracy_gap: None,
        resumed: Vec::new(),
        checkpoints: CheckpointStats::default(),
    };
    let mut stats = CheckpointStats::default();
    let mut evaluation_seconds = 0.0;
    let mut saver = options.checkpoint.as_ref().map(Saver::new);
    if let Some(saver) = &saver {
        let expected_parts = state_entries(&trainer, train_images);
        let loaded = saver.load(config, &expected_parts);
        if options.require_checkpoint {
            let path = saver.plan.path.display();
            match &loaded {
                Load::None => {
                    return Err(
                        crate::ConfigError(format!("--resume: no checkpoint at {path}")).into(),
                    );
                }
                Load::Refused(reason) => {
                    return Err(crate::ConfigError(format!(
                        "--resume: checkpoint {path} cannot be used: {reason}"
                    ))
                    .into());
                }
                Load::Found(_) => {}
            }
        }
        match loaded {
            Load::None => {}
            Load::Refused(reason) => progress(Progress::CheckpointRefused {
                checkpoint: &saver.plan.path,
                reason: &reason,
            }),
            Load::Found(found) => {
                let (gpu_parts, order_part) = found.parts.split_at(found.parts.len() - 1);
                let values: Vec<Vec<f32>> = gpu_parts
                    .iter()
                    .map(|words| bytemuck::cast_slice(words).to_vec())
                    .collect();
                trainer.restore_state(&values)?;
                order = order_part[0].clone();
                rng.set_word_pos(
                    found
                        .progress
                        .order_stream_position
                        .parse()
                        .context("a checkpoint's order stream position")?,
                );
                state = found.progress;
                state.resumed.push(ResumePoint {
                    epoch: state.epochs_done,
                    step: state.steps_done,
                    images_seen: state.images_seen_at_epoch_start
                        + (state.steps_done * config.batch_size) as u64,
                    adapter: adapter.clone(),
                });
                stats = found.stats;
                progress(Progress::Resumed {
                    checkpoint: &saver.plan.path,
                    epoch: state.epochs_done,
                    step: state.steps_done,
                });
            }
        }
    }
    let wall_before = state.wall_seconds;
    let training_before = state.training_seconds;
    let mut training_seconds = 0.0;
    let mut diverged = false;
    let mut converged = None;
    let stop_requested = || options.stop.is_some_and(|s| s.load(Ordering::Relaxed));
    let snapshot = |state: &RunProgress, training_seconds: f64, rng: &ChaCha8Rng| RunProgress {
        training_seconds: training_before + training_seconds,
        wall_seconds: wall_before + started.elapsed().as_secs_f64(),
        order_stream_position: rng.get_word_pos().to_string(),
        ..state.clone()
    };

    while state.epochs_done < config.epochs {
        let epoch = state.epochs_done + 1;
        let epoch_start = Instant::now();
        if state.steps_done == 0 {
            order.shuffle(&mut rng);
        }
        // Train the epoch, pausing for a checkpoint where it is long and one is due, and
        // stopping where asked to.
        loop {
            let first_step = state.steps_done;
            let step_start = Instant::now();
            let done = trainer.train_steps(
                &order,
                state.images_seen_at_epoch_start,
                first_step,
                &mut |done| {
                    progress(Progress::Steps {
                        epoch,
                        done,
                        total: steps,
                    });
                    let per_step =
                        step_start.elapsed().as_secs_f64() / (done - first_step).max(1) as f64;
                    let remaining = per_step * (steps - done) as f64;
                    let save_within = saver
                        .as_ref()
                        .is_some_and(|s| s.due() && remaining > s.plan.every_seconds);
                    !(save_within || stop_requested())
                },
            )?;
            training_seconds += step_start.elapsed().as_secs_f64();
            state.steps_done = done;
            if done == steps {
                break;
            }
            let snapshot = snapshot(&state, training_seconds, &rng);
            if let Some(saver) = &mut saver {
                saver.save(
                    &trainer, config, &adapter, &commit, &snapshot, &order, &mut stats,
                )?;
            }
            if stop_requested() {
                return Err(interrupted(&mut saver, &mut stats));
            }
        }
        state.images_seen_at_epoch_start += train_images as u64;
        let images_seen = state.images_seen_at_epoch_start;
        state.steps_done = 0;
        state.epochs_done = epoch;

        // Where the evaluation is not scheduled, the running accuracy decides whether it is
        // due: read that first (a readback of a few numbers).
        let evaluate_now = |running_accuracy: f64, state: &RunProgress| {
            policy.due(epoch, running_accuracy, state.accuracy_gap, &state.fit)
        };
        let eval_start = Instant::now();
        let mut measured = trainer.epoch_metrics(policy.scheduled(epoch))?;
        let (loss_sum, correct, rows) = totals(&measured.train_steps);
        let (running_loss, running_accuracy) = (loss_sum / rows, correct / rows);
        if measured.evaluated.is_none() && evaluate_now(running_accuracy, &state) {
            measured = trainer.epoch_metrics(true)?;
        }
        if measured.evaluated.is_some() {
            evaluation_seconds += eval_start.elapsed().as_secs_f64();
        }
        state.step_losses.extend(
            measured
                .train_steps
                .iter()
                .map(|m| f64::from(m[0]) / f64::from(m[2]).max(1.0)),
        );
        let ((train_loss, train_accuracy), (test_loss, test_accuracy)) = measured
            .evaluated
            .unwrap_or(((f64::NAN, f64::NAN), (f64::NAN, f64::NAN)));
        let record = EpochRecord {
            epoch,
            images_seen,
            lr: schedule.at(images_seen - (train_images - (steps - 1) * config.batch_size) as u64),
            running_train_loss: running_loss,
            running_train_accuracy: running_accuracy,
            train_loss,
            train_accuracy,
            test_loss,
            test_accuracy,
            evaluated: measured.evaluated.is_some(),
            seconds: epoch_start.elapsed().as_secs_f64(),
        };
        progress(Progress::Epoch(&record));
        let finite = if record.evaluated {
            [running_loss, train_loss, test_loss]
                .iter()
                .all(|v| v.is_finite())
        } else {
            running_loss.is_finite()
        };
        state.epochs.push(record);
        if !finite {
            diverged = true;
            break;
        }
        if measured.evaluated.is_some() {
            state.accuracy_gap = Some(train_accuracy - running_accuracy);
            let fit = &mut state.fit;
            for (level, at) in
                FIT_LEVELS
                    .into_iter()
                    .zip([&mut fit.at_99, &mut fit.at_99_9, &mut fit.at_100])
            {
                if reached(train_accuracy, level) && at.is_none() {
                    *at = Some(epoch);
                }
            }
            if reached(train_accuracy, config.fit_threshold) {
                converged = Some((epoch, epoch * steps, images_seen));
                break;
            }
        }
        if epoch == config.epochs {
            break;
        }
        let stop = stop_requested();
        if let Some(saver) = &mut saver
            && (saver.due() || stop)
        {
            let snapshot = snapshot(&state, training_seconds, &rng);
            saver.save(
                &trainer, config, &adapter, &commit, &snapshot, &order, &mut stats,
            )?;
        }
        if stop {
            return Err(interrupted(&mut saver, &mut stats));
        }
    }

    // The caller removes the checkpoint once the record is safely written
    // (`CheckpointPlan::remove`): a kill in between costs a rerun, never the run.
    if let Some(saver) = &mut saver {
        saver.finish(&mut stats)?;
    }
    let last_evaluated = state.epochs.iter().rev().find(|e| e.evaluated);
    let adapter_summary = gpu.adapter();
    let images_seen = state.images_seen_at_epoch_start;
    let training_seconds = training_before + training_seconds;
    Ok(RunRecord {
        shatter_version: env!("CARGO_PKG_VERSION").into(),
        git_commit: commit,
        config: config.clone(),
        seed: config.seed,
        adapter: AdapterRecord {
            name: adapter_summary.name.clone(),
            backend: adapter_summary.backend.clone(),
            device_type: adapter_summary.device_type.clone(),
            driver: adapter_summary.driver.clone(),
            driver_info: adapter_summary.driver_info.clone(),
            gemm_variant: trainer
                .network
                .plan
                .gemm
                .summary(&trainer.network.gemm_shapes),
            conv_variant: trainer
                .network
                .plan
                .conv
                .summary(gpu, &trainer.network.conv_problems),
        },
        dataset: dataset.name.clone(),
        train_images,
        test_images: dataset.test.labels.len(),
        input_shape: trainer.network.input_shape,
        classes: dataset.classes,
        parameters: trainer.network.parameter_count(),
        batch_norm_parameters: trainer.network.batch_norm_parameter_count(),
        corruption: CorruptionRecord {
            mode: report.mode.clone(),
            data_seed: report.data_seed,
            labels_changed: report.labels_changed,
            fraction_labels_changed: report.fraction_labels_changed,
            pixel_permutations: report.pixel_permutations,
            gaussian_mean: report.gaussian_mean.clone(),
            gaussian_variance: report.gaussian_variance.clone(),
        },
        final_train_accuracy: last_evaluated.map_or(0.0, |e| e.train_accuracy),
        final_test_accuracy: last_evaluated.map_or(0.0, |e| e.test_accuracy),
        epochs: state.epochs,
        step_losses: state.step_losses,
        converged_epoch: converged.map(|c| c.0),
        converged_step: converged.map(|c| c.1),
        converged_images: converged.map(|c| c.2),
        fit_epochs: state.fit,
        diverged,
        wall_seconds: wall_before + started.elapsed().as_secs_f64(),
        finished_unix: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .map(|d| d.as_secs()),
        images_per_second: images_seen as f64 / training_seconds.max(1e-9),
        evaluation_seconds,
        gpu_buffer_bytes,
        resident_pixels: trainer.pixel_format().name().to_owned(),
        resumed: state.resumed,
        checkpoints: stats,
    })
}

/// The parts a checkpoint of this run holds, in order: the trainer's state on the GPU,
/// then the epoch order.
fn state_entries(trainer: &Trainer<'_>, train_images: usize) -> Vec<PartEntry> {
    let mut entries: Vec<PartEntry> = trainer
        .state()
        .iter()
        .map(|part| PartEntry {
            name: part.name().to_owned(),
            len: part.len(),
        })
        .collect();
    entries.push(PartEntry {
        name: ORDER_PART.into(),
        len: train_images,
    });
    entries
}

/// The error a stopped run returns, once its last checkpoint is on disk.
fn interrupted(saver: &mut Option<Saver<'_>>, stats: &mut CheckpointStats) -> anyhow::Error {
    let checkpoint = saver
        .as_mut()
        .and_then(|saver| saver.finish(stats).is_ok().then(|| saver.plan.path.clone()));
    Interrupted { checkpoint }.into()
}

fn git_commit() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".into())
}

/// What a run found where its checkpoint would be.
enum Load {
    None,
    Refused(String),
    Found(Box<Found>),
}

struct Found {
    progress: RunProgress,
    stats: CheckpointStats,
    parts: Vec<Vec<u32>>,
}

/// Saves a run's checkpoints: the state is read back while the GPU waits, then encoded
/// and written on a thread of its own while training goes on.
struct Saver<'p> {
    plan: &'p CheckpointPlan,
    last: Instant,
    writing: Option<JoinHandle<Result<(u64, f64)>>>,
}

impl<'p> Saver<'p> {
    fn new(plan: &'p CheckpointPlan) -> Self {
        Self {
            plan,
            last: Instant::now(),
            writing: None,
        }
    }

    /// Whether the plan's interval has passed since the last save (or the run's start).
    fn due(&self) -> bool {
        self.last.elapsed().as_secs_f64() >= self.plan.every_seconds
    }

    fn load(&self, config: &TrainConfig, parts: &[PartEntry]) -> Load {
        let bytes = match std::fs::read(&self.plan.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Load::None,
            Err(e) => return Load::Refused(format!("cannot read ({e})")),
        };
        match checkpoint::decode(&bytes, &Expected { config, parts }) {
            Ok(found) => Load::Found(Box::new(Found {
                // The file's own size: it could not hold it when it was encoded.
                stats: CheckpointStats {
                    bytes: bytes.len() as u64,
                    ..found.progress.checkpoints.clone()
                },
                progress: found.progress,
                parts: found.parts,
            })),
            Err(reason) => Load::Refused(reason),
        }
    }

    /// Read the run's state back and start writing it; the previous write must finish
    /// first, so at most one is under way.
    #[allow(clippy::too_many_arguments)]
    fn save(
        &mut self,
        trainer: &Trainer<'_>,
        config: &TrainConfig,
        adapter: &str,
        commit: &str,
        progress: &RunProgress,
        order: &[u32],
        stats: &mut CheckpointStats,
    ) -> Result<()> {
        self.finish(stats)?;
        let read_start = Instant::now();
        let values = trainer
            .gpu()
            .read_state(&trainer.state())
            .context("reading the run's state back for a checkpoint")?;
        stats.readback_seconds += read_start.elapsed().as_secs_f64();
        let entries = state_entries(trainer, order.len());
        let mut words: Vec<Vec<u32>> = values
            .into_iter()
            .map(|v| bytemuck::cast_slice(&v).to_vec())
            .collect();
        words.push(order.to_vec());
        let (config, adapter, commit) = (config.clone(), adapter.to_owned(), commit.to_owned());
        let mut progress = progress.clone();
        progress.checkpoints = stats.clone();
        progress.checkpoints.saves += 1;
        let path = self.plan.path.clone();
        self.writing = Some(std::thread::spawn(move || {
            let write_start = Instant::now();
            let parts: Vec<(PartEntry, &[u32])> = entries
                .into_iter()
                .zip(&words)
                .map(|(entry, words)| (entry, words.as_slice()))
                .collect();
            let bytes = checkpoint::encode(&config, &adapter, &commit, &progress, &parts);
            crate::write_atomic(&path, &bytes)
                .with_context(|| format!("saving checkpoint {}", path.display()))?;
            Ok((bytes.len() as u64, write_start.elapsed().as_secs_f64()))
        }));
        self.last = Instant::now();
        Ok(())
    }

    /// Wait for the write under way, if any, and count it.
    fn finish(&mut self, stats: &mut CheckpointStats) -> Result<()> {
        if let Some(writing) = self.writing.take() {
            let (bytes, seconds) = writing
                .join()
                .map_err(|_| anyhow::anyhow!("the checkpoint writer panicked"))??;
            stats.saves += 1;
            stats.bytes = bytes;
            stats.write_seconds += seconds;
        }
        Ok(())
    }
}
