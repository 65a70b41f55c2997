//! The training loop. Everything is built once: the resident dataset, the network, the
//! cursors and the dispatch lists of a training step and of the two evaluation passes.
//! Per epoch the host uploads the permutation and sets the cursors, records the steps in
//! command buffers of a few steps each, and reads the per-step metrics back once.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use shatter_data::{
    Corruption, CorruptionReport, Dataset, DatasetSpec, apply_corruption, load_spec,
};
use shatter_gpu::{Dispatch, Gpu, Readback, Tensor, U32Buffer};
use shatter_nn::{
    CursorPass, LrSchedule, ModelKind, Network, NetworkShape, SgdConfig, StepCursor, WeightInit,
    cursor_dispatches,
};

use crate::batch::{BatchShape, gather_batch};
use crate::config::TrainConfig;
use crate::record::{AdapterRecord, CorruptionRecord, EpochRecord, FitEpochs, RunRecord};
use crate::resident::ResidentSplit;

/// Steps recorded into one command buffer: enough to keep the GPU fed, few enough that
/// progress is reported often.
const STEPS_PER_SUBMIT: usize = 8;

/// What part of each image the network sees: a `size` x `size` crop (images smaller than
/// that stay whole), at the centre, or for training batches at a random offset per
/// sample when `random` (evaluation always crops the centre).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InputCrop {
    pub size: usize,
    pub random: bool,
}

impl InputCrop {
    /// The paper's 28x28 centre crop.
    pub const PAPER: InputCrop = InputCrop {
        size: 28,
        random: false,
    };
}

/// What the trainer tells its caller while it runs.
pub enum Progress<'a> {
    Started {
        /// As the paper counts: conv and dense weights and biases.
        parameters: usize,
        /// Batch-norm scales and shifts, trained but not in `parameters`.
        batch_norm_parameters: usize,
        steps_per_epoch: usize,
    },
    Steps {
        epoch: usize,
        done: usize,
        total: usize,
    },
    Epoch(&'a EpochRecord),
}

/// One pass over a split: its cursor, its per-step metrics and its dispatches.
struct Pass {
    steps: usize,
    cursor: U32Buffer,
    metrics: Tensor,
    set_learning_rate: Dispatch,
    gather: Dispatch,
    loss: Dispatch,
    advance: Dispatch,
}

pub struct Trainer<'g> {
    gpu: &'g Gpu,
    pub network: Network,
    order: U32Buffer,
    train: Pass,
    eval_train: Pass,
    eval_test: Pass,
    update: Vec<Dispatch>,
    readback: Readback,
    _resident: (ResidentSplit, ResidentSplit),
}

impl<'g> Trainer<'g> {
    /// Upload `dataset` and build `model` with every buffer and dispatch training needs.
    /// The network sees `crop` of each image (see [`InputCrop`]).
    pub fn build(
        gpu: &'g Gpu,
        dataset: &Dataset,
        model: ModelKind,
        batch: usize,
        init: WeightInit,
        sgd: &SgdConfig,
        crop: InputCrop,
    ) -> Result<Self> {
        let seed = init.seed;
        let shape = BatchShape {
            batch,
            channels: dataset.channels,
            height: dataset.height,
            width: dataset.width,
            crop_height: dataset.height.min(crop.size),
            crop_width: dataset.width.min(crop.size),
            random_crop: None,
        };
        // Its own stream of the run's seed, like the epoch order.
        let train_shape = BatchShape {
            random_crop: crop.random.then_some((seed ^ 0x6372_6f70) as u32),
            ..shape
        };
        let values = dataset.image_bytes();
        let train_split = ResidentSplit::upload(gpu, "train", &dataset.train, values)
            .context("uploading the training set")?;
        let test_split = ResidentSplit::upload(gpu, "test", &dataset.test, values)
            .context("uploading the test set")?;
        let train_cursor = gpu.u32_buffer("train.cursor", &[0; 4])?;
        let network_shape = NetworkShape {
            input: [shape.channels, shape.crop_height, shape.crop_width],
            classes: dataset.classes,
            batch,
        };
        let network = Network::build(
            gpu,
            model,
            network_shape,
            init,
            &crate::autotune::kernel_plan(gpu),
            &train_cursor.buffer,
        )?;
        let identity: Vec<u32> = (0..train_split.images as u32).collect();
        let order = gpu.u32_buffer("order", &identity)?;
        let make_pass = |name: &str,
                         split: &ResidentSplit,
                         sequential: bool,
                         shape: BatchShape,
                         cursor: Option<U32Buffer>|
         -> Result<Pass> {
            let steps = split.images.div_ceil(batch);
            let cursor = match cursor {
                Some(c) => c,
                None => gpu.u32_buffer(&format!("{name}.cursor"), &[0; 4])?,
            };
            let metrics = gpu.zeros(&format!("{name}.metrics"), &[steps, 4])?;
            let gather = gather_batch(
                gpu,
                &format!("{name}.gather"),
                shape,
                split,
                &order,
                sequential,
                &cursor.buffer,
                &network.input,
                &network.labels,
            )?;
            let loss = network.loss(
                gpu,
                &format!("{name}.loss"),
                split.images,
                &cursor.buffer,
                &metrics,
            )?;
            let (set_learning_rate, advance) = cursor_dispatches(
                gpu,
                name,
                &CursorPass::new(split.images, batch, &sgd.schedule),
                &cursor.buffer,
            )?;
            Ok(Pass {
                steps,
                cursor,
                metrics,
                set_learning_rate,
                gather,
                loss,
                advance,
            })
        };
        // The training cursor is the network's: batch norm reads the batch's rows there.
        let train = make_pass(
            "train",
            &train_split,
            false,
            train_shape,
            Some(train_cursor),
        )?;
        let eval_train = make_pass("eval_train", &train_split, true, shape, None)?;
        let eval_test = make_pass("eval_test", &test_split, true, shape, None)?;
        let update = network.update(gpu, sgd, &train.cursor.buffer)?;
        // The training step reads parameters' texel mirrors that the update writes; fill
        // them once from the initial values (see `Network::forward_after_update`).
        gpu.run(network.parameter_mirror_fills())?;
        let readback = Readback::new(
            gpu,
            "metrics",
            &[&train.metrics, &eval_train.metrics, &eval_test.metrics],
        )?;
        gpu.check("building the trainer")?;
        Ok(Self {
            gpu,
            network,
            order,
            train,
            eval_train,
            eval_test,
            update,
            readback,
            _resident: (train_split, test_split),
        })
    }

    pub fn steps_per_epoch(&self) -> usize {
        self.train.steps
    }

    /// The dispatches of one training step, in order.
    pub fn train_step(&self) -> Vec<&Dispatch> {
        let mut step = vec![&self.train.set_learning_rate, &self.train.gather];
        step.extend(self.network.forward_after_update());
        step.push(&self.train.loss);
        step.extend(self.network.backward());
        step.extend(&self.update);
        step.push(&self.train.advance);
        step
    }

    /// Put the training cursor back at the first step of a pass, with that step's rows
    /// and learning rate set, as a step sees them mid-epoch. A kernel timed alone and
    /// repeated (`bench --profile`, `--layers`) needs this: after an epoch, or after the
    /// step's own `advance_cursor` ran, the cursor lies past the data, where a batch has
    /// no rows and batch norm and the batch gather have nothing to do.
    pub fn rewind(&self) -> Result<()> {
        self.gpu.queue.write_buffer(
            &self.train.cursor.buffer,
            0,
            bytemuck::bytes_of(&StepCursor::at(0, 0)),
        );
        self.gpu.run([&self.train.set_learning_rate])?;
        Ok(())
    }

    /// The training cursor as the GPU holds it (a readback: not for the training loop).
    pub fn train_cursor(&self) -> Result<StepCursor> {
        let words = self.gpu.read_u32(&self.train.cursor)?;
        Ok(bytemuck::cast_slice::<u32, StepCursor>(&words)[0])
    }

    fn record_train_step<'p>(&'p self, pass: &mut shatter_gpu::wgpu::ComputePass<'p>) {
        for d in self.train_step() {
            d.record(pass);
        }
    }

    fn record_eval_step<'p>(
        &'p self,
        eval: &'p Pass,
        pass: &mut shatter_gpu::wgpu::ComputePass<'p>,
    ) {
        eval.gather.record(pass);
        for d in self.network.forward_eval() {
            d.record(pass);
        }
        eval.loss.record(pass);
        eval.advance.record(pass);
    }

    /// Train one epoch in `order`, starting with `images_seen` images behind, and wait for
    /// it to finish. `on_steps` sees the steps submitted so far. The per-step metrics stay
    /// on the GPU until [`Self::evaluate`] reads everything back at once.
    pub fn train_epoch(
        &self,
        order: &[u32],
        images_seen: u64,
        on_steps: &mut dyn FnMut(usize),
    ) -> Result<()> {
        let gpu = self.gpu;
        gpu.write_u32(&self.order, 0, order);
        let seen =
            u32::try_from(images_seen).context("more than 4 billion training images seen")?;
        gpu.queue.write_buffer(
            &self.train.cursor.buffer,
            0,
            bytemuck::bytes_of(&StepCursor::at(0, seen)),
        );
        let mut in_flight = std::collections::VecDeque::new();
        let mut done = 0;
        while done < self.train.steps {
            let steps = STEPS_PER_SUBMIT.min(self.train.steps - done);
            let mut encoder = gpu.device.create_command_encoder(&Default::default());
            {
                let mut pass = encoder.begin_compute_pass(&Default::default());
                for _ in 0..steps {
                    self.record_train_step(&mut pass);
                }
            }
            in_flight.push_back(gpu.submit(encoder.finish()));
            done += steps;
            // Keep two submissions queued: the GPU never idles, the host never runs far ahead.
            if in_flight.len() > 2 {
                let oldest = in_flight.pop_front().expect("in flight");
                gpu.device
                    .poll(shatter_gpu::wgpu::PollType::Wait {
                        submission_index: Some(oldest),
                        timeout: None,
                    })
                    .map_err(|e| shatter_gpu::GpuError::DeviceLost(e.to_string()))?;
            }
            on_steps(done);
        }
        gpu.wait("training an epoch")?;
        Ok(())
    }

    /// Evaluate on the whole training set and the test set, then read back the epoch's
    /// metrics (training steps and both evaluations) in one transfer.
    pub fn evaluate(&self) -> Result<EpochMetrics> {
        let gpu = self.gpu;
        let zero = StepCursor::at(0, 0);
        gpu.queue
            .write_buffer(&self.eval_train.cursor.buffer, 0, bytemuck::bytes_of(&zero));
        gpu.queue
            .write_buffer(&self.eval_test.cursor.buffer, 0, bytemuck::bytes_of(&zero));
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            for eval in [&self.eval_train, &self.eval_test] {
                for _ in 0..eval.steps {
                    self.record_eval_step(eval, &mut pass);
                }
            }
        }
        gpu.submit(encoder.finish());
        let all = self.readback.read(gpu, &self.metric_tensors())?;
        let steps = |flat: &[f32]| -> Vec<[f32; 4]> {
            flat.chunks_exact(4)
                .map(|c| [c[0], c[1], c[2], c[3]])
                .collect()
        };
        let summarize = |flat: &[f32]| -> (f64, f64) {
            let (loss, correct, rows) = totals(&steps(flat));
            (loss / rows.max(1.0), correct / rows.max(1.0))
        };
        Ok(EpochMetrics {
            train_steps: steps(&all[0]),
            train: summarize(&all[1]),
            test: summarize(&all[2]),
        })
    }

    fn metric_tensors(&self) -> [&Tensor; 3] {
        [
            &self.train.metrics,
            &self.eval_train.metrics,
            &self.eval_test.metrics,
        ]
    }
}

/// What one epoch measured.
pub struct EpochMetrics {
    /// Per training step: [loss summed over its rows, correct rows, rows, 0].
    pub train_steps: Vec<[f32; 4]>,
    /// (mean loss, accuracy) on the whole training set and on the test set, after the epoch.
    pub train: (f64, f64),
    pub test: (f64, f64),
}

/// (loss sum, correct, rows) over steps.
fn totals(metrics: &[[f32; 4]]) -> (f64, f64, f64) {
    metrics.iter().fold((0.0, 0.0, 0.0), |(l, c, r), m| {
        (
            l + f64::from(m[0]),
            c + f64::from(m[1]),
            r + f64::from(m[2]),
        )
    })
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

/// Load the data, apply the randomization, train, and return the run record.
pub fn run_training(
    gpu: &Gpu,
    config: &TrainConfig,
    data_dir: &Path,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<RunRecord> {
    config.validate()?;
    let started = Instant::now();
    let (dataset, report) = load_run_data(config, data_dir)?;
    train_prepared(gpu, config, &dataset, &report, started, progress)
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

/// Train `config`'s model on `dataset` as given (already cut and randomized; `report` says
/// how) and return the run record; its wall time counts from `started`.
pub fn train_prepared(
    gpu: &Gpu,
    config: &TrainConfig,
    dataset: &Dataset,
    report: &CorruptionReport,
    started: Instant,
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
    progress(Progress::Started {
        parameters: trainer.network.parameter_count(),
        batch_norm_parameters: trainer.network.batch_norm_parameter_count(),
        steps_per_epoch: trainer.steps_per_epoch(),
    });

    // The epoch order has its own stream, so changing the data seed leaves it alone.
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed ^ 0x6f72_6465_7273);
    let mut order: Vec<u32> = (0..train_images as u32).collect();
    let mut epochs = Vec::new();
    let mut step_losses = Vec::new();
    let mut fit = FitEpochs::default();
    let (mut converged_epoch, mut converged_step, mut converged_images) = (None, None, None);
    let mut diverged = false;
    let mut images_seen = 0u64;
    let mut training_seconds = 0.0;
    for epoch in 1..=config.epochs {
        let epoch_start = Instant::now();
        order.shuffle(&mut rng);
        let steps = trainer.steps_per_epoch();
        trainer.train_epoch(&order, images_seen, &mut |done| {
            progress(Progress::Steps {
                epoch,
                done,
                total: steps,
            })
        })?;
        training_seconds += epoch_start.elapsed().as_secs_f64();
        images_seen += train_images as u64;
        let measured = trainer.evaluate()?;
        let metrics = measured.train_steps;
        let ((train_loss, train_accuracy), (test_loss, test_accuracy)) =
            (measured.train, measured.test);
        step_losses.extend(
            metrics
                .iter()
                .map(|m| f64::from(m[0]) / f64::from(m[2]).max(1.0)),
        );
        let (loss_sum, correct, rows) = totals(&metrics);
        let record = EpochRecord {
            epoch,
            images_seen,
            lr: schedule.at(images_seen - (train_images - (steps - 1) * config.batch_size) as u64),
            running_train_loss: loss_sum / rows,
            running_train_accuracy: correct / rows,
            train_loss,
            train_accuracy,
            test_loss,
            test_accuracy,
            seconds: epoch_start.elapsed().as_secs_f64(),
        };
        progress(Progress::Epoch(&record));
        let finite = [record.running_train_loss, train_loss, test_loss]
            .iter()
            .all(|v| v.is_finite());
        epochs.push(record);
        if !finite {
            diverged = true;
            break;
        }
        let reached = |level: f64| train_accuracy >= level - 1e-12;
        if reached(0.99) && fit.at_99.is_none() {
            fit.at_99 = Some(epoch);
        }
        if reached(0.999) && fit.at_99_9.is_none() {
            fit.at_99_9 = Some(epoch);
        }
        if reached(1.0) && fit.at_100.is_none() {
            fit.at_100 = Some(epoch);
        }
        if reached(config.fit_threshold) {
            converged_epoch = Some(epoch);
            converged_step = Some(epoch * steps);
            converged_images = Some(images_seen);
            break;
        }
    }
    let last = epochs.last();
    let adapter = gpu.adapter();
    Ok(RunRecord {
        shatter_version: env!("CARGO_PKG_VERSION").into(),
        git_commit: git_commit(),
        config: config.clone(),
        seed: config.seed,
        adapter: AdapterRecord {
            name: adapter.name.clone(),
            backend: adapter.backend.clone(),
            device_type: adapter.device_type.clone(),
            driver: adapter.driver.clone(),
            driver_info: adapter.driver_info.clone(),
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
        final_train_accuracy: last.map_or(0.0, |e| e.train_accuracy),
        final_test_accuracy: last.map_or(0.0, |e| e.test_accuracy),
        epochs,
        step_losses,
        converged_epoch,
        converged_step,
        converged_images,
        fit_epochs: fit,
        diverged,
        wall_seconds: started.elapsed().as_secs_f64(),
        finished_unix: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .map(|d| d.as_secs()),
        images_per_second: images_seen as f64 / training_seconds.max(1e-9),
    })
}
