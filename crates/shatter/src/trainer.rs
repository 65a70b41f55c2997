//! The training loop. Everything is built once: the resident dataset (or, for a streamed
//! one, its windows: see crate::stream_feed), the network, the cursors and the dispatch
//! lists of a training step and of the two evaluation passes. Per epoch the host uploads
//! the permutation and sets the cursors, records the steps in command buffers of a few
//! steps each, and reads the per-step metrics back once.

use anyhow::{Context, Result};
use shatter_data::{Dataset, RunDataset, StreamedDataset, default_decode_threads};
use shatter_gpu::{Dispatch, Gpu, Readback, StatePart, Tensor, U32Buffer};
use shatter_nn::{
    CursorPass, ModelKind, Network, NetworkShape, SgdConfig, StepCursor, WeightInit,
    cursor_dispatches,
};

use crate::batch::{BatchShape, gather_batch};
use crate::resident::ResidentSplit;
use crate::stream_feed::{StreamFeed, Which};

/// The data a trainer is built on: held whole, or streamed from disk.
#[derive(Clone, Copy)]
pub enum TrainingData<'d> {
    Resident(&'d Dataset),
    Streamed(&'d StreamedDataset),
}

impl<'d> From<&'d Dataset> for TrainingData<'d> {
    fn from(dataset: &'d Dataset) -> Self {
        Self::Resident(dataset)
    }
}

impl<'d> From<&'d RunDataset> for TrainingData<'d> {
    fn from(data: &'d RunDataset) -> Self {
        match data {
            RunDataset::Resident(d) => Self::Resident(d),
            RunDataset::Streamed(d) => Self::Streamed(d),
        }
    }
}

/// Steps recorded into one command buffer: enough to keep the GPU fed, few enough that
/// progress is reported often.
const STEPS_PER_SUBMIT: usize = 8;

/// What part of each image the network sees: a `size` x `size` crop (images smaller than
/// that stay whole), at the centre, or for training batches at a random offset per
/// sample when `random`, and mirrored left-right for half the training samples when
/// `flip` (evaluation always crops the centre, unmirrored).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InputCrop {
    pub size: usize,
    pub random: bool,
    pub flip: bool,
}

impl InputCrop {
    /// The paper's 28x28 centre crop.
    pub const PAPER: InputCrop = InputCrop {
        size: 28,
        random: false,
        flip: false,
    };
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
    /// The training and test sets on the GPU (or their windows), which the gather
    /// dispatches read.
    resident: (ResidentSplit, ResidentSplit),
    /// Where the data is streamed: the windows' feed.
    feed: Option<StreamFeed>,
}

impl<'g> Trainer<'g> {
    /// Upload `data` (or, streamed, make its windows) and build `model` with every buffer
    /// and dispatch training needs. The network sees `crop` of each image (see [`InputCrop`]).
    pub fn build<'d>(
        gpu: &'g Gpu,
        data: impl Into<TrainingData<'d>>,
        model: ModelKind,
        batch: usize,
        init: WeightInit,
        sgd: &SgdConfig,
        crop: InputCrop,
    ) -> Result<Self> {
        let seed = init.seed;
        let data = data.into();
        let ([channels, height, width], classes) = match data {
            TrainingData::Resident(d) => ([d.channels, d.height, d.width], d.classes),
            TrainingData::Streamed(d) => ([3, d.recipe.size, d.recipe.size], d.classes),
        };
        let shape = BatchShape {
            batch,
            channels,
            height,
            width,
            crop_height: height.min(crop.size),
            crop_width: width.min(crop.size),
            random_crop: None,
            random_flip: None,
        };
        // Its own stream of the run's seed, like the epoch order.
        let train_shape = BatchShape {
            random_crop: crop.random.then_some((seed ^ 0x6372_6f70) as u32),
            random_flip: crop.flip.then_some((seed ^ 0x666c_6970) as u32),
            ..shape
        };
        let values = channels * height * width;
        let (train_split, test_split, feed) = match data {
            TrainingData::Resident(dataset) => (
                ResidentSplit::upload(gpu, "train", &dataset.train, values)
                    .context("uploading the training set")?,
                ResidentSplit::upload(gpu, "test", &dataset.test, values)
                    .context("uploading the test set")?,
                None,
            ),
            TrainingData::Streamed(dataset) => {
                let feed = StreamFeed::new(gpu, dataset, batch, default_decode_threads())?;
                (
                    feed.window(gpu, "train", Which::Train)?,
                    feed.window(gpu, "test", Which::Test)?,
                    Some(feed),
                )
            }
        };
        let train_cursor = gpu.u32_buffer("train.cursor", &[0; 4])?;
        let network_shape = NetworkShape {
            input: [shape.channels, shape.crop_height, shape.crop_width],
            classes,
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
        // Streamed, every pass reads its rows' window places from the order, which each
        // group of steps rewrites.
        let order_rows = match feed {
            None => train_split.images,
            Some(_) => train_split.images.max(test_split.images),
        };
        let identity: Vec<u32> = (0..order_rows as u32).collect();
        let order = gpu.u32_buffer("order", &identity)?;
        let sequential_eval = feed.is_none();
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
        let eval_train = make_pass("eval_train", &train_split, sequential_eval, shape, None)?;
        let eval_test = make_pass("eval_test", &test_split, sequential_eval, shape, None)?;
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
            resident: (train_split, test_split),
            feed,
        })
    }

    /// Whether the data streams from disk.
    pub fn is_streamed(&self) -> bool {
        self.feed.is_some()
    }

    /// Steps recorded into one command buffer (a streamed window's steps).
    fn steps_per_submit(&self) -> usize {
        self.feed
            .as_ref()
            .map_or(STEPS_PER_SUBMIT, |f| f.window_steps.min(STEPS_PER_SUBMIT))
    }

    /// The device it trains on.
    pub fn gpu(&self) -> &'g Gpu {
        self.gpu
    }

    /// Images in the training set.
    pub fn train_images(&self) -> usize {
        self.resident.0.images
    }

    /// How the training set's values are held on the GPU.
    pub fn pixel_format(&self) -> crate::PixelFormat {
        self.resident.0.pixel_format
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
        self.train_steps(order, images_seen, 0, &mut |done| {
            on_steps(done);
            true
        })?;
        Ok(())
    }

    /// Train the steps of an epoch in `order` from `first_step` on, with `images_seen`
    /// training images seen when the epoch started, and wait for them to finish.
    /// `keep_going` sees the steps submitted so far after each command buffer; when it
    /// says no, the steps already submitted finish and the epoch pauses there (for a
    /// checkpoint, or to stop). Returns the steps of the epoch done.
    pub fn train_steps(
        &self,
        order: &[u32],
        images_seen: u64,
        first_step: usize,
        keep_going: &mut dyn FnMut(usize) -> bool,
    ) -> Result<usize> {
        let gpu = self.gpu;
        let batch = self.network.batch as u64;
        // Resident, the order is the permutation; streamed, the stream follows it.
        let mut stream = match &self.feed {
            None => {
                gpu.write_u32(&self.order, 0, order);
                None
            }
            Some(feed) => {
                let from = (first_step * self.network.batch).min(order.len());
                Some(feed.start(Which::Train, order[from..].to_vec()))
            }
        };
        let seen = u32::try_from(images_seen + first_step as u64 * batch)
            .context("more than 4 billion training images seen")?;
        gpu.queue.write_buffer(
            &self.train.cursor.buffer,
            0,
            bytemuck::bytes_of(&StepCursor::at(first_step as u32, seen)),
        );
        let mut in_flight = InFlight::default();
        let mut done = first_step;
        while done < self.train.steps {
            let steps = self.steps_per_submit().min(self.train.steps - done);
            if let (Some(feed), Some(stream)) = (&self.feed, &mut stream) {
                feed.fill(gpu, stream, &self.resident.0, &self.order, done, steps)?;
            }
            let mut encoder = gpu.device.create_command_encoder(&Default::default());
            {
                let mut pass = encoder.begin_compute_pass(&Default::default());
                for _ in 0..steps {
                    self.record_train_step(&mut pass);
                }
            }
            in_flight.push(gpu, gpu.submit(encoder.finish()))?;
            done += steps;
            if !keep_going(done) && done < self.train.steps {
                break;
            }
        }
        gpu.wait("training an epoch")?;
        Ok(done)
    }

    /// Everything the run carries from step to step on the GPU: the network's state
    /// ([`Network::state`]) and the training pass's per-step metrics of the epoch under way.
    pub fn state(&self) -> Vec<StatePart<'_>> {
        let mut parts = self.network.state();
        parts.push(StatePart::Buffer(&self.train.metrics));
        parts
    }

    /// Overwrite the run's state ([`Self::state`], in that order) and bring the
    /// parameters' texel mirrors up to date with the new values.
    pub fn restore_state(&self, values: &[Vec<f32>]) -> Result<()> {
        self.gpu.write_state(&self.state(), values);
        self.gpu.run(self.network.parameter_mirror_fills())?;
        self.gpu.check("restoring a checkpoint")?;
        Ok(())
    }

    /// Read back the epoch's per-step training metrics, after evaluating the whole training
    /// set and the test set where `sets` says so: one transfer either way.
    pub fn epoch_metrics(&self, sets: EvalSets) -> Result<EpochMetrics> {
        self.submit_evaluation(sets)?;
        let all = self.readback.read(self.gpu, &self.metric_tensors())?;
        Ok(epoch_metrics_from(&all, sets))
    }

    /// [`Self::epoch_metrics`] without blocking, for a browser (resident data only: a
    /// streamed evaluation waits on its decode threads).
    pub async fn epoch_metrics_async(&self, sets: EvalSets) -> Result<EpochMetrics> {
        self.submit_evaluation(sets)?;
        let all = self
            .readback
            .read_async(self.gpu, &self.metric_tensors())
            .await?;
        Ok(epoch_metrics_from(&all, sets))
    }

    /// Queue the evaluation passes of `sets`.
    fn submit_evaluation(&self, sets: EvalSets) -> Result<()> {
        let gpu = self.gpu;
        let passes: Vec<&Pass> = [(sets.train, &self.eval_train), (sets.test, &self.eval_test)]
            .into_iter()
            .filter_map(|(wanted, pass)| wanted.then_some(pass))
            .collect();
        if let Some(feed) = &self.feed {
            self.evaluate_streamed(feed, sets)?;
        } else if !passes.is_empty() {
            let zero = StepCursor::at(0, 0);
            let mut encoder = gpu.device.create_command_encoder(&Default::default());
            {
                let mut compute = encoder.begin_compute_pass(&Default::default());
                for eval in &passes {
                    gpu.queue
                        .write_buffer(&eval.cursor.buffer, 0, bytemuck::bytes_of(&zero));
                    for _ in 0..eval.steps {
                        self.record_eval_step(eval, &mut compute);
                    }
                }
            }
            gpu.submit(encoder.finish());
        }
        Ok(())
    }

    /// The evaluation passes of `sets` over streamed splits: a submission per group of
    /// steps, each after its window is filled.
    fn evaluate_streamed(&self, feed: &StreamFeed, sets: EvalSets) -> Result<()> {
        let gpu = self.gpu;
        let passes = [
            (sets.train, &self.eval_train, Which::Train, &self.resident.0),
            (sets.test, &self.eval_test, Which::Test, &self.resident.1),
        ];
        for (_, eval, which, window) in passes.into_iter().filter(|p| p.0) {
            gpu.queue.write_buffer(
                &eval.cursor.buffer,
                0,
                bytemuck::bytes_of(&StepCursor::at(0, 0)),
            );
            let mut stream = feed.start(which, (0..window.images as u32).collect());
            let mut in_flight = InFlight::default();
            let mut done = 0;
            while done < eval.steps {
                let steps = self.steps_per_submit().min(eval.steps - done);
                feed.fill(gpu, &mut stream, window, &self.order, done, steps)?;
                let mut encoder = gpu.device.create_command_encoder(&Default::default());
                {
                    let mut compute = encoder.begin_compute_pass(&Default::default());
                    for _ in 0..steps {
                        self.record_eval_step(eval, &mut compute);
                    }
                }
                in_flight.push(gpu, gpu.submit(encoder.finish()))?;
                done += steps;
            }
        }
        Ok(())
    }

    /// [`Self::epoch_metrics`] with both sets evaluated.
    pub fn evaluate(&self) -> Result<EpochMetrics> {
        self.epoch_metrics(EvalSets::BOTH)
    }

    fn metric_tensors(&self) -> [&Tensor; 3] {
        [
            &self.train.metrics,
            &self.eval_train.metrics,
            &self.eval_test.metrics,
        ]
    }
}

/// The submissions queued on the GPU: two at most, so the GPU never idles and the host
/// (and a streamed pass's staging memory) never runs far ahead.
#[derive(Default)]
struct InFlight(std::collections::VecDeque<shatter_gpu::wgpu::SubmissionIndex>);

impl InFlight {
    fn push(&mut self, gpu: &Gpu, submitted: shatter_gpu::wgpu::SubmissionIndex) -> Result<()> {
        self.0.push_back(submitted);
        if self.0.len() > 2 {
            let oldest = self.0.pop_front().expect("in flight");
            gpu.device
                .poll(shatter_gpu::wgpu::PollType::Wait {
                    submission_index: Some(oldest),
                    timeout: None,
                })
                .map_err(|e| shatter_gpu::GpuError::DeviceLost(e.to_string()))?;
        }
        Ok(())
    }
}

/// Which whole sets an epoch's end evaluates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EvalSets {
    pub train: bool,
    pub test: bool,
}

impl EvalSets {
    pub const NONE: EvalSets = EvalSets {
        train: false,
        test: false,
    };
    pub const BOTH: EvalSets = EvalSets {
        train: true,
        test: true,
    };
    pub const TRAIN: EvalSets = EvalSets {
        train: true,
        test: false,
    };
    pub const TEST: EvalSets = EvalSets {
        train: false,
        test: true,
    };
}

/// What one epoch measured.
pub struct EpochMetrics {
    /// Per training step: [loss summed over its rows, correct rows, rows, top-5 correct rows].
    pub train_steps: Vec<[f32; 4]>,
    /// The whole training set, and the test set, after the epoch, where they were evaluated.
    pub train: Option<SetMetrics>,
    pub test: Option<SetMetrics>,
}

/// One evaluation of a whole set (in evaluation mode: batch norm's running statistics, no
/// dropout).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SetMetrics {
    pub loss: f64,
    /// Top-1: the share of images whose highest logit is their label's.
    pub accuracy: f64,
    /// The share whose label is among the five highest logits (1 with five classes or fewer).
    pub top5_accuracy: f64,
}

/// What the metrics read back (the training pass's per-step metrics, then the two
/// evaluation passes') say about an epoch, for the `sets` evaluated.
fn epoch_metrics_from(all: &[Vec<f32>], sets: EvalSets) -> EpochMetrics {
    let steps = |flat: &[f32]| -> Vec<[f32; 4]> {
        flat.chunks_exact(4)
            .map(|c| [c[0], c[1], c[2], c[3]])
            .collect()
    };
    let summarize = |flat: &[f32]| -> SetMetrics {
        let steps = steps(flat);
        let (loss, correct, rows) = totals(&steps);
        let top5: f64 = steps.iter().map(|m| f64::from(m[3])).sum();
        let rows = rows.max(1.0);
        SetMetrics {
            loss: loss / rows,
            accuracy: correct / rows,
            top5_accuracy: top5 / rows,
        }
    };
    EpochMetrics {
        train_steps: steps(&all[0]),
        train: sets.train.then(|| summarize(&all[1])),
        test: sets.test.then(|| summarize(&all[2])),
    }
}

/// (loss sum, correct, rows) over steps.
pub(crate) fn totals(metrics: &[[f32; 4]]) -> (f64, f64, f64) {
    metrics.iter().fold((0.0, 0.0, 0.0), |(l, c, r), m| {
        (
            l + f64::from(m[0]),
            c + f64::from(m[1]),
            r + f64::from(m[2]),
        )
    })
}
