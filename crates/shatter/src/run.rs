//! One training run, from its config to its record: the data loaded and randomized, the
//! epochs trained, evaluated when due (`crate::evaluation`), and the run's state saved
//! now and then (`crate::checkpoint`) so that an interrupted run continues where it stopped
//! and ends with the record an uninterrupted one would have written.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::Result;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use shatter_data::{
    Corruption, CorruptionReport, Dataset, DatasetSpec, LoadPlan, Residence, RunDataset,
    load_run_dataset,
};
use shatter_gpu::Gpu;
use shatter_nn::{LrSchedule, ModelKind, SgdConfig, WeightInit};

use crate::checkpoint::{CheckpointPlan, RunProgress};
use crate::config::TrainConfig;
use crate::evaluation::{EvalPolicy, FIT_LEVELS, reached};
use crate::record::{
    AdapterRecord, CheckpointStats, CorruptionRecord, EpochRecord, ResumePoint, RunRecord,
};
use crate::resident::{MAX_CHUNKS, binding_bytes};
use crate::saver::{Resume, Saver};
use crate::trainer::{EpochMetrics, EvalSets, InputCrop, SetMetrics, Trainer, totals};

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
    /// A checkpoint could not be written; the run goes on (from the one before, if it is
    /// interrupted).
    CheckpointNotSaved {
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

/// Load the data, apply the randomization, train, and return the run record. An image
/// folder streams from disk where it does not fit the adapter's bindings, or where the
/// config asks.
pub fn run_training(
    gpu: &Gpu,
    config: &TrainConfig,
    data_dir: &Path,
    options: &RunOptions<'_>,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<RunRecord> {
    config.validate()?;
    let started = Instant::now();
    let residence = match config.stream {
        true => Residence::Stream,
        false => Residence::Fit {
            binding_bytes: binding_bytes(gpu),
            bindings: MAX_CHUNKS,
        },
    };
    let (data, report) = load_run_source(config, data_dir, residence)?;
    train_prepared(gpu, config, &data, &report, started, options, progress)
}

/// The run's data, held whole: the dataset, cut to the configured subsets, with the
/// randomization applied.
pub fn load_run_data(config: &TrainConfig, data_dir: &Path) -> Result<(Dataset, CorruptionReport)> {
    let whole = Residence::Fit {
        binding_bytes: usize::MAX,
        bindings: 1,
    };
    match load_run_source(config, data_dir, whole)? {
        (RunDataset::Resident(dataset), report) => Ok((dataset, report)),
        (RunDataset::Streamed(_), _) => unreachable!("a dataset with no size limit is held whole"),
    }
}

/// The run's data held as `residence` says, cut to the configured subsets, with the
/// randomization applied.
pub fn load_run_source(
    config: &TrainConfig,
    data_dir: &Path,
    residence: Residence,
) -> Result<(RunDataset, CorruptionReport)> {
    let spec: DatasetSpec = config.dataset.parse()?;
    let corruption: Corruption = config.corrupt.parse()?;
    let plan = LoadPlan {
        image_size: config.image_size,
        subset: config.subset,
        test_subset: config.test_subset,
        residence,
    };
    let mut data = load_run_dataset(&spec, data_dir, &plan)?;
    let report = data.apply_corruption(&corruption, config.data_seed)?;
    Ok((data, report))
}

/// Train `config`'s model on `dataset` as given (already cut and randomized; `report` says
/// how) and return the run record; its wall time counts from `started`.
pub fn train_prepared(
    gpu: &Gpu,
    config: &TrainConfig,
    dataset: &RunDataset,
    report: &CorruptionReport,
    started: Instant,
    options: &RunOptions<'_>,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<RunRecord> {
    let model: ModelKind = config.model.parse().map_err(anyhow::Error::msg)?;
    let train_images = dataset.train_len();
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
            flip: config.random_flip,
        },
    )?;
    let gpu_buffer_bytes = Gpu::thread_buffer_bytes() - bytes_before;
    progress(Progress::Started {
        parameters: trainer.network.parameter_count(),
        batch_norm_parameters: trainer.network.batch_norm_parameter_count(),
        steps_per_epoch: trainer.steps_per_epoch(),
        gpu_buffer_bytes,
    });
    let commit = crate::git::commit();
    let adapter = gpu.adapter().name.clone();
    let mut saver = options
        .checkpoint
        .as_ref()
        .map(|plan| Saver::new(plan, config, &adapter, &commit));

    // The epoch order has its own stream, so changing the data seed leaves it alone.
    let mut run = EpochLoop {
        trainer: &trainer,
        config,
        schedule,
        policy: EvalPolicy {
            every: config.eval_every,
            epochs: config.epochs,
            fit_threshold: config.fit_threshold,
        },
        rng: epoch_order_stream(config.seed),
        order: (0..train_images as u32).collect(),
        state: RunProgress::start(),
        started,
        sitting_training_seconds: 0.0,
        evaluation_seconds: 0.0,
    };
    if let Some(saver) = &mut saver {
        match saver.resume(&trainer, options.require_checkpoint)? {
            Resume::Fresh => {}
            Resume::Refused(reason) => progress(Progress::CheckpointRefused {
                checkpoint: &saver.plan.path,
                reason: &reason,
            }),
            Resume::Restored(restored) => {
                run.order = restored.order;
                run.rng.set_word_pos(restored.order_stream_position);
                run.state = restored.progress;
                let state = &mut run.state;
                state.resumed.push(ResumePoint {
                    epoch: state.epochs_done,
                    step: state.steps_done,
                    images_seen: state.images_seen_at_epoch_start
                        + (state.steps_done * config.batch_size) as u64,
                    adapter: adapter.clone(),
                });
                progress(Progress::Resumed {
                    checkpoint: &saver.plan.path,
                    epoch: state.epochs_done,
                    step: state.steps_done,
                });
            }
        }
    }
    let ending = run.train(&mut saver, options, progress)?;

    // The caller removes the checkpoint once the record is safely written
    // (`CheckpointPlan::remove`): a kill in between costs a rerun, never the run.
    let checkpoints = match &mut saver {
        Some(saver) => {
            if let Some(reason) = saver.finish() {
                progress(Progress::CheckpointNotSaved {
                    checkpoint: &saver.plan.path,
                    reason: &reason,
                });
            }
            saver.stats().clone()
        }
        None => CheckpointStats::default(),
    };

    let state = run.snapshot();
    let last_evaluated = state.epochs.iter().rev().find(|e| e.evaluated);
    let last_tested = state.epochs.iter().rev().find(|e| e.test_evaluated);
    let summary = gpu.adapter();
    let images_seen = state.images_seen_at_epoch_start;
    let converged = match ending {
        Ending::Fitted { epoch } => Some(epoch),
        Ending::Diverged | Ending::Budget => None,
    };
    let steps = trainer.steps_per_epoch();
    Ok(RunRecord {
        shatter_version: env!("CARGO_PKG_VERSION").into(),
        git_commit: commit,
        config: config.clone(),
        seed: config.seed,
        adapter: AdapterRecord {
            name: summary.name.clone(),
            backend: summary.backend.clone(),
            device_type: summary.device_type.clone(),
            driver: summary.driver.clone(),
            driver_info: summary.driver_info.clone(),
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
        dataset: dataset.name().to_owned(),
        train_images,
        test_images: dataset.test_len(),
        input_shape: trainer.network.input_shape,
        classes: dataset.classes(),
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
        final_test_accuracy: last_tested.map_or(0.0, |e| e.test_accuracy),
        final_test_top5_accuracy: last_tested.map_or(0.0, |e| e.test_top5_accuracy),
        converged_epoch: converged,
        converged_step: converged.map(|e| e * steps),
        converged_images: converged.map(|e| (e * train_images) as u64),
        fit_epochs: state.fit,
        diverged: matches!(ending, Ending::Diverged),
        wall_seconds: state.wall_seconds,
        finished_unix: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .map(|d| d.as_secs()),
        images_per_second: images_seen as f64 / state.training_seconds.max(1e-9),
        evaluation_seconds: run.evaluation_seconds,
        gpu_buffer_bytes,
        resident_pixels: trainer.pixel_format().name().to_owned(),
        streamed: trainer.is_streamed(),
        epochs: state.epochs,
        step_losses: state.step_losses,
        resumed: state.resumed,
        checkpoints,
    })
}

/// The stream each epoch's training order is shuffled from: its own stream of the run's
/// seed, so changing the data seed leaves it alone. The browser's runs draw from it too.
pub fn epoch_order_stream(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed ^ 0x6f72_6465_7273)
}

/// How a run's epochs ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ending {
    /// Training accuracy reached the fit threshold, measured after this epoch.
    Fitted { epoch: usize },
    /// A loss was NaN or infinite.
    Diverged,
    /// The epoch budget ran out first.
    Budget,
}

/// The epochs of one run, and what the host keeps of them.
struct EpochLoop<'t, 'g> {
    trainer: &'t Trainer<'g>,
    config: &'t TrainConfig,
    schedule: LrSchedule,
    policy: EvalPolicy,
    /// The epoch-order stream, and the order it last drew (each epoch shuffles the last).
    rng: ChaCha8Rng,
    order: Vec<u32>,
    /// Where the run stands, over all its sittings so far but the current one's timings.
    state: RunProgress,
    /// When this sitting started, and the seconds it has trained and evaluated.
    started: Instant,
    sitting_training_seconds: f64,
    evaluation_seconds: f64,
}

impl EpochLoop<'_, '_> {
    /// Train epochs until the run fits, diverges or runs out of epochs, saving checkpoints
    /// as `saver`'s plan asks and stopping (with [`Interrupted`]) where `options` asks.
    fn train(
        &mut self,
        saver: &mut Option<Saver<'_>>,
        options: &RunOptions<'_>,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<Ending> {
        let stop_requested = || options.stop.is_some_and(|s| s.load(Ordering::Relaxed));
        while self.state.epochs_done < self.config.epochs {
            let epoch = self.state.epochs_done + 1;
            let epoch_start = Instant::now();
            if self.state.steps_done == 0 {
                self.order.shuffle(&mut self.rng);
            }
            // Train the epoch, pausing for a checkpoint where it is long and one is due, and
            // stopping where asked to.
            while !self.train_steps(epoch, saver, &stop_requested, progress)? {
                self.save(saver, progress)?;
                if stop_requested() {
                    return Err(interrupted(saver, progress));
                }
            }
            let record = self.close_epoch(epoch, epoch_start)?;
            progress(Progress::Epoch(&record));
            let finite = [
                (true, record.running_train_loss),
                (record.evaluated, record.train_loss),
                (record.test_evaluated, record.test_loss),
            ]
            .iter()
            .all(|&(measured, loss)| !measured || loss.is_finite());
            let fitted =
                record.evaluated && reached(record.train_accuracy, self.config.fit_threshold);
            self.state.epochs.push(record);
            if !finite {
                return Ok(Ending::Diverged);
            }
            if fitted {
                return Ok(Ending::Fitted { epoch });
            }
            if epoch == self.config.epochs {
                break;
            }
            let stop = stop_requested();
            if saver.as_ref().is_some_and(|s| s.due()) || stop {
                self.save(saver, progress)?;
            }
            if stop {
                return Err(interrupted(saver, progress));
            }
        }
        Ok(Ending::Budget)
    }

    /// Save a checkpoint where there is a plan, reporting a write that failed.
    fn save(
        &self,
        saver: &mut Option<Saver<'_>>,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<()> {
        if let Some(saver) = saver
            && let Some(reason) = saver.save(self.trainer, &self.snapshot(), &self.order)?
        {
            progress(Progress::CheckpointNotSaved {
                checkpoint: &saver.plan.path,
                reason: &reason,
            });
        }
        Ok(())
    }

    /// Train the rest of `epoch`'s steps; false where it paused before the end (for a
    /// checkpoint: one is due and more than its interval is left to run; or to stop).
    fn train_steps(
        &mut self,
        epoch: usize,
        saver: &Option<Saver<'_>>,
        stop_requested: &dyn Fn() -> bool,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<bool> {
        let steps = self.trainer.steps_per_epoch();
        let first_step = self.state.steps_done;
        let start = Instant::now();
        let done = self.trainer.train_steps(
            &self.order,
            self.state.images_seen_at_epoch_start,
            first_step,
            &mut |done| {
                progress(Progress::Steps {
                    epoch,
                    done,
                    total: steps,
                });
                let per_step = start.elapsed().as_secs_f64() / (done - first_step).max(1) as f64;
                let remaining = per_step * (steps - done) as f64;
                let save_within = saver
                    .as_ref()
                    .is_some_and(|s| s.due() && remaining > s.plan.every_seconds);
                !(save_within || stop_requested())
            },
        )?;
        self.sitting_training_seconds += start.elapsed().as_secs_f64();
        self.state.steps_done = done;
        Ok(done == steps)
    }

    /// Read the finished epoch's metrics back, evaluating where due, and update the run's
    /// progress: its step losses, the fit levels reached, the accuracy gap.
    fn close_epoch(&mut self, epoch: usize, epoch_start: Instant) -> Result<EpochRecord> {
        let (trainer, config) = (self.trainer, self.config);
        let train_images = trainer.train_images();
        let steps = trainer.steps_per_epoch();
        let state = &mut self.state;
        state.images_seen_at_epoch_start += train_images as u64;
        state.steps_done = 0;
        state.epochs_done = epoch;
        let images_seen = state.images_seen_at_epoch_start;

        // Where the evaluation is not scheduled, the running accuracy decides whether the
        // training set's is due: read that first (a readback of a few numbers). The test set
        // follows where the training set shows a fit, for the run's final test accuracy.
        let eval_start = Instant::now();
        let scheduled = self.policy.scheduled(epoch);
        let mut measured: EpochMetrics = trainer.epoch_metrics(if scheduled {
            EvalSets::BOTH
        } else {
            EvalSets::NONE
        })?;
        let (loss_sum, correct, rows) = totals(&measured.train_steps);
        let (running_loss, running_accuracy) = (loss_sum / rows, correct / rows);
        if !scheduled
            && self
                .policy
                .due(epoch, running_accuracy, state.accuracy_gap, &state.fit)
        {
            measured = trainer.epoch_metrics(EvalSets::TRAIN)?;
            if measured
                .train
                .is_some_and(|set| reached(set.accuracy, config.fit_threshold))
            {
                measured.test = trainer.epoch_metrics(EvalSets::TEST)?.test;
            }
        }
        if measured.train.is_some() || measured.test.is_some() {
            self.evaluation_seconds += eval_start.elapsed().as_secs_f64();
        }
        state.step_losses.extend(
            measured
                .train_steps
                .iter()
                .map(|m| f64::from(m[0]) / f64::from(m[2]).max(1.0)),
        );
        let unmeasured = SetMetrics {
            loss: f64::NAN,
            accuracy: f64::NAN,
            top5_accuracy: f64::NAN,
        };
        let train = measured.train.unwrap_or(unmeasured);
        let test = measured.test.unwrap_or(unmeasured);
        let train_accuracy = train.accuracy;
        if measured.train.is_some() {
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
        }
        // The last step's rate: the epoch's last batch starts that many images before the end.
        let last_batch = (train_images - (steps - 1) * config.batch_size) as u64;
        Ok(EpochRecord {
            epoch,
            images_seen,
            lr: self.schedule.at(images_seen - last_batch),
            running_train_loss: running_loss,
            running_train_accuracy: running_accuracy,
            train_loss: train.loss,
            train_accuracy,
            test_loss: test.loss,
            test_accuracy: test.accuracy,
            train_top5_accuracy: train.top5_accuracy,
            test_top5_accuracy: test.top5_accuracy,
            evaluated: measured.train.is_some(),
            test_evaluated: measured.test.is_some(),
            seconds: epoch_start.elapsed().as_secs_f64(),
        })
    }

    /// Where the run stands now, its timings over all its sittings included: what a
    /// checkpoint saves, and what the record is made of.
    fn snapshot(&self) -> RunProgress {
        RunProgress {
            training_seconds: self.state.training_seconds + self.sitting_training_seconds,
            wall_seconds: self.state.wall_seconds + self.started.elapsed().as_secs_f64(),
            order_stream_position: self.rng.get_word_pos().to_string(),
            ..self.state.clone()
        }
    }
}

/// The error a stopped run returns, once its last checkpoint is on disk.
fn interrupted(
    saver: &mut Option<Saver<'_>>,
    progress: &mut dyn FnMut(Progress<'_>),
) -> anyhow::Error {
    let checkpoint = saver.as_mut().and_then(|saver| match saver.finish() {
        None => Some(saver.plan.path.clone()),
        Some(reason) => {
            progress(Progress::CheckpointNotSaved {
                checkpoint: &saver.plan.path,
                reason: &reason,
            });
            None
        }
    });
    Interrupted { checkpoint }.into()
}
