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
use shatter_data::{Corruption, Dataset, DatasetName, apply_corruption, load_dataset};
use shatter_gpu::{Binding, Dispatch, Gpu, Kernel, Tensor, U32Buffer};
use shatter_nn::{LrSchedule, ModelKind, Network, SgdConfig, StepCursor};

use crate::batch::{BatchShape, gather_batch};
use crate::config::TrainConfig;
use crate::record::{AdapterRecord, CorruptionRecord, EpochRecord, FitEpochs, RunRecord};
use crate::resident::ResidentSplit;

/// Steps recorded into one command buffer: enough to keep the GPU fed, few enough that
/// progress is reported often.
const STEPS_PER_SUBMIT: usize = 8;

/// What the trainer tells its caller while it runs.
pub enum Progress<'a> {
    Started {
        parameters: usize,
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
    images: usize,
    steps: usize,
    cursor: shatter_gpu::wgpu::Buffer,
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
    _resident: (ResidentSplit, ResidentSplit),
}

/// The uniform of shaders/cursor.wgsl: the pass's size and the learning-rate schedule.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct PassShape {
    images: u32,
    batch: u32,
    staircase: u32,
    _pad: u32,
    lr0: f32,
    decay: f32,
    decay_images: f32,
    _pad2: f32,
}

impl<'g> Trainer<'g> {
    /// Upload `dataset` and build `model` with every buffer and dispatch training needs.
    pub fn build(
        gpu: &'g Gpu,
        dataset: &Dataset,
        model: ModelKind,
        batch: usize,
        seed: u64,
        sgd: &SgdConfig,
    ) -> Result<Self> {
        let crop = dataset.height.min(28);
        let shape = BatchShape {
            batch,
            channels: dataset.channels,
            height: dataset.height,
            width: dataset.width,
            crop_height: crop,
            crop_width: dataset.width.min(28),
        };
        let image_bytes = dataset.image_bytes();
        let train_split = ResidentSplit::upload(
            gpu,
            "train",
            &dataset.train.images,
            &dataset.train.labels,
            image_bytes,
        )
        .context("uploading the training set")?;
        let test_split = ResidentSplit::upload(
            gpu,
            "test",
            &dataset.test.images,
            &dataset.test.labels,
            image_bytes,
        )
        .context("uploading the test set")?;
        let network = Network::build(
            gpu,
            model,
            [shape.channels, shape.crop_height, shape.crop_width],
            dataset.classes,
            batch,
            seed,
        )?;
        let identity: Vec<u32> = (0..train_split.images as u32).collect();
        let order = gpu.u32_buffer("order", &identity)?;
        let make_pass = |name: &str, split: &ResidentSplit, sequential: bool| -> Result<Pass> {
            let steps = split.images.div_ceil(batch);
            let cursor = gpu.u32_buffer(&format!("{name}.cursor"), &[0; 4])?.buffer;
            let metrics = gpu.zeros(&format!("{name}.metrics"), &[steps, 4])?;
            let gather = gather_batch(
                gpu,
                &format!("{name}.gather"),
                shape,
                split,
                &order,
                sequential,
                &cursor,
                &network.input,
                &network.labels,
            )?;
            let loss = network.loss(
                gpu,
                &format!("{name}.loss"),
                split.images,
                &cursor,
                &metrics,
            )?;
            let schedule = sgd.schedule;
            let pass_shape = gpu.uniform(
                &format!("{name}.pass"),
                &PassShape {
                    images: split.images as u32,
                    batch: batch as u32,
                    staircase: u32::from(schedule.staircase),
                    _pad: 0,
                    lr0: schedule.lr0 as f32,
                    decay: schedule.decay as f32,
                    decay_images: schedule.decay_images as f32,
                    _pad2: 0.0,
                },
            );
            let cursor_kernel = |entry: &'static str, label: &str| {
                gpu.dispatch(
                    &format!("{name}.{label}"),
                    &Kernel::new("cursor", entry),
                    &[Binding::uniform(&pass_shape), Binding::write(&cursor)],
                    [1, 1, 1],
                )
            };
            let set_learning_rate = cursor_kernel("set_learning_rate", "learning_rate")?;
            let advance = cursor_kernel("advance_cursor", "advance")?;
            Ok(Pass {
                images: split.images,
                steps,
                cursor,
                metrics,
                set_learning_rate,
                gather,
                loss,
                advance,
            })
        };
        let train = make_pass("train", &train_split, false)?;
        let eval_train = make_pass("eval_train", &train_split, true)?;
        let eval_test = make_pass("eval_test", &test_split, true)?;
        let update = network.update(gpu, sgd, &train.cursor)?;
        gpu.check("building the trainer")?;
        Ok(Self {
            gpu,
            network,
            order,
            train,
            eval_train,
            eval_test,
            update,
            _resident: (train_split, test_split),
        })
    }

    pub fn steps_per_epoch(&self) -> usize {
        self.train.steps
    }

    /// The dispatches of one training step, in order.
    pub fn train_step(&self) -> Vec<&Dispatch> {
        let mut step = vec![&self.train.set_learning_rate, &self.train.gather];
        step.extend(self.network.forward());
        step.push(&self.train.loss);
        step.extend(self.network.backward());
        step.extend(&self.update);
        step.push(&self.train.advance);
        step
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
        for d in self.network.forward() {
            d.record(pass);
        }
        eval.loss.record(pass);
        eval.advance.record(pass);
    }

    /// Train one epoch in `order`, starting with `images_seen` images behind. Returns the
    /// per-step [loss sum, correct, rows] metrics. `on_steps` sees the steps submitted so far.
    pub fn train_epoch(
        &self,
        order: &[u32],
        images_seen: u64,
        on_steps: &mut dyn FnMut(usize),
    ) -> Result<Vec<[f32; 4]>> {
        let gpu = self.gpu;
        gpu.write_u32(&self.order, 0, order);
        let seen =
            u32::try_from(images_seen).context("more than 4 billion training images seen")?;
        gpu.queue.write_buffer(
            &self.train.cursor,
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
        self.read_metrics(&self.train)
    }

    /// Evaluate on the whole training set and the test set: ((loss, accuracy), (loss, accuracy)).
    pub fn evaluate(&self) -> Result<((f64, f64), (f64, f64))> {
        let gpu = self.gpu;
        let zero = StepCursor::at(0, 0);
        gpu.queue
            .write_buffer(&self.eval_train.cursor, 0, bytemuck::bytes_of(&zero));
        gpu.queue
            .write_buffer(&self.eval_test.cursor, 0, bytemuck::bytes_of(&zero));
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
        gpu.wait("evaluating")?;
        let summarize = |eval: &Pass| -> Result<(f64, f64)> {
            let (loss, correct, rows) = totals(&self.read_metrics(eval)?);
            debug_assert_eq!(rows as usize, eval.images);
            Ok((loss / rows.max(1.0), correct / rows.max(1.0)))
        };
        Ok((summarize(&self.eval_train)?, summarize(&self.eval_test)?))
    }

    fn read_metrics(&self, pass: &Pass) -> Result<Vec<[f32; 4]>> {
        let flat = self.gpu.read_f32(&pass.metrics)?;
        Ok(flat
            .chunks_exact(4)
            .map(|c| [c[0], c[1], c[2], c[3]])
            .collect())
    }
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
    let model: ModelKind = config.model.parse().map_err(anyhow::Error::msg)?;
    let name: DatasetName = config.dataset.parse()?;
    let corruption: Corruption = config.corrupt.parse()?;
    let mut dataset = load_dataset(name, data_dir)?;
    if let Some(n) = config.subset {
        dataset.subset_train(n)?;
    }
    let report = apply_corruption(&mut dataset, &corruption, config.data_seed);
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
    let trainer = Trainer::build(gpu, &dataset, model, config.batch_size, config.seed, &sgd)?;
    progress(Progress::Started {
        parameters: trainer.network.parameter_count(),
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
        let metrics = trainer.train_epoch(&order, images_seen, &mut |done| {
            progress(Progress::Steps {
                epoch,
                done,
                total: steps,
            })
        })?;
        training_seconds += epoch_start.elapsed().as_secs_f64();
        images_seen += train_images as u64;
        step_losses.extend(
            metrics
                .iter()
                .map(|m| f64::from(m[0]) / f64::from(m[2]).max(1.0)),
        );
        let (loss_sum, correct, rows) = totals(&metrics);
        let ((train_loss, train_accuracy), (test_loss, test_accuracy)) = trainer.evaluate()?;
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
            gemm_variant: trainer.network.variant.name().into(),
        },
        dataset: dataset.name.clone(),
        train_images,
        test_images: dataset.test.labels.len(),
        input_shape: trainer.network.input_shape,
        parameters: trainer.network.parameter_count(),
        corruption: CorruptionRecord {
            mode: report.mode.clone(),
            data_seed: report.data_seed,
            labels_changed: report.labels_changed,
            fraction_labels_changed: report.fraction_labels_changed,
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
        images_per_second: images_seen as f64 / training_seconds.max(1e-9),
    })
}
