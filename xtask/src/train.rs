use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use shatter::checkpoint::CHECKPOINT_FILE;
use shatter::{CheckpointPlan, Progress, RunOptions, TrainConfig, run_training, write_json_atomic};
use shatter_nn::{ConvInit, ModelKind};

use crate::BadInput;
use crate::progress::{ProgressMode, epoch_line};

#[derive(Args)]
pub struct TrainArgs {
    /// mlp1x512, mlp3x512, alexnet, inception or inception-nobn.
    #[arg(long, default_value = "mlp1x512")]
    pub model: String,
    /// fashion-mnist-mini (bundled), fashion-mnist, mnist, cifar10, folder:PATH (PATH/train/<class>/ and PATH/test/<class>/ images), or imagenet:PATH (ILSVRC 2012: PATH/train/<wnid>/ and PATH/val/<wnid>/).
    #[arg(long, default_value = "fashion-mnist-mini")]
    pub dataset: String,
    /// none, labels:P (0 <= P <= 1), random-labels, shuffled-pixels, random-pixels or gaussian.
    #[arg(long, default_value = "none")]
    pub corrupt: String,
    /// Keep only the first N training images.
    #[arg(long)]
    pub subset: Option<usize>,
    /// Keep only the first N test images (a faster, noisier evaluation).
    #[arg(long)]
    pub test_subset: Option<usize>,
    /// Epoch budget; the run stops earlier once training accuracy reaches --fit-threshold.
    #[arg(long, default_value_t = 100)]
    pub epochs: usize,
    /// Seed of the weights and the epoch order.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Seed of the randomization (default: --seed).
    #[arg(long)]
    pub data_seed: Option<u64>,
    #[arg(long, default_value_t = 128)]
    pub batch_size: usize,
    /// Initial learning rate (default: the paper's for the model, 0.1 for the Inceptions, 0.01 otherwise).
    #[arg(long, allow_negative_numbers = true)]
    pub lr: Option<f64>,
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.9)]
    pub momentum: f64,
    /// Learning-rate factor per decay period.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.95)]
    pub lr_decay: f64,
    /// Decay period: a number of training images (50000 = one CIFAR-10 epoch) or `epoch`.
    #[arg(long, default_value = "50000")]
    pub lr_decay_every: String,
    /// Decay smoothly instead of in steps.
    #[arg(long)]
    pub lr_smooth: bool,
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.0)]
    pub weight_decay: f64,
    /// Crop training images at random offsets instead of the centre (28x28 of CIFAR-10's 32x32).
    #[arg(long)]
    pub random_crop: bool,
    /// Mirror training images left-right, each with probability 1/2.
    #[arg(long)]
    pub random_flip: bool,
    /// Side of the square crop the network sees; images no larger stay whole. Default: 28
    /// (CIFAR-10's crop of 32), or the image size where `--image-size` is given (299 for
    /// imagenet, 75 for imagenet-mini).
    #[arg(long)]
    pub crop: Option<usize>,
    /// Side of the square image folders are resized and centre-cropped to as they load
    /// (folder:PATH and imagenet:PATH only; default 32, and 299 for imagenet:PATH).
    /// inception-v3 needs 75 or more.
    #[arg(long)]
    pub image_size: Option<usize>,
    /// Stream an image folder from disk, decoding on every core while the GPU trains, even
    /// where it would fit on the GPU whole (a folder too large for that always streams).
    #[arg(long)]
    pub stream: bool,
    /// Conv filter initialization: he (He-uniform) or glorot (Glorot-uniform); default: the
    /// model's (glorot for alexnet and inception, he for inception-nobn).
    #[arg(long)]
    pub conv_init: Option<String>,
    /// Training accuracy that counts as a fit (stops the run).
    #[arg(long, allow_negative_numbers = true, default_value_t = 1.0)]
    pub fit_threshold: f64,
    /// Evaluate the whole training and test sets every N epochs, on the last, and whenever the
    /// running accuracy says a fit may have been reached (a fit is decided on that evaluation).
    #[arg(long, default_value_t = shatter::DEFAULT_EVAL_EVERY)]
    pub eval_every: usize,
    /// Output folder; run.json is written there, and the run's checkpoint while it trains.
    #[arg(long, default_value = "results/train")]
    pub out: PathBuf,
    /// Save the run's state to <out>/checkpoint.bin once this many seconds have passed since
    /// the last save (at the end of an epoch, or within a long one); 0: never. Run the same
    /// command again to continue an interrupted run from it.
    #[arg(long, default_value_t = 60.0)]
    pub checkpoint_every: f64,
    /// Continue from <out>/checkpoint.bin, and fail if it is missing or cannot be used
    /// (without --resume a usable checkpoint is used, and an unusable one is named and ignored).
    #[arg(long)]
    pub resume: bool,
    /// bars, plain (one line per epoch) or none; default: bars on a terminal, else plain.
    #[arg(long, value_enum)]
    pub progress: Option<ProgressMode>,
    /// Data folder (default: $SHATTER_DATA or ./data).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Adapter name (substring, case-insensitive); default: $WGPU_ADAPTER_NAME or the best one.
    #[arg(long)]
    pub adapter: Option<String>,
}

impl TrainArgs {
    pub fn config(&self) -> Result<TrainConfig> {
        let lr_decay_images = match self.lr_decay_every.as_str() {
            "epoch" => None,
            n => Some(n.parse::<u64>().map_err(|_| {
                BadInput(format!(
                    "--lr-decay-every '{n}': expected a number of images or 'epoch'"
                ))
            })?),
        };
        let config = TrainConfig {
            model: self.model.clone(),
            dataset: self.dataset.clone(),
            corrupt: self.corrupt.clone(),
            subset: self.subset,
            test_subset: self.test_subset,
            epochs: self.epochs,
            seed: self.seed,
            data_seed: self.data_seed.unwrap_or(self.seed),
            batch_size: self.batch_size,
            lr: self.lr.unwrap_or_else(|| paper_learning_rate(&self.model)),
            momentum: self.momentum,
            lr_decay: self.lr_decay,
            lr_decay_images,
            lr_staircase: !self.lr_smooth,
            weight_decay: self.weight_decay,
            random_crop: self.random_crop,
            random_flip: self.random_flip,
            crop: self
                .crop
                .or(self.image_size)
                .unwrap_or_else(|| TrainConfig::default_crop(&self.dataset)),
            image_size: self.image_size,
            stream: self.stream,
            conv_init: self.conv_init.clone().unwrap_or_else(|| {
                self.model
                    .parse::<ModelKind>()
                    .map_or(ConvInit::He, ModelKind::default_conv_init)
                    .name()
                    .into()
            }),
            fit_threshold: self.fit_threshold,
            eval_every: self.eval_every,
        };
        config.validate()?;
        Ok(config)
    }

    /// Where the run's checkpoint goes, and how often; None for `--checkpoint-every 0`.
    pub fn checkpoint(&self) -> Result<Option<CheckpointPlan>> {
        if !(self.checkpoint_every.is_finite() && self.checkpoint_every >= 0.0) {
            return Err(BadInput(format!(
                "--checkpoint-every must be a number of seconds >= 0 (got {})",
                self.checkpoint_every
            ))
            .into());
        }
        if self.checkpoint_every == 0.0 {
            if self.resume {
                return Err(BadInput(
                    "--resume needs checkpoints: drop --checkpoint-every 0".into(),
                )
                .into());
            }
            return Ok(None);
        }
        Ok(Some(CheckpointPlan {
            path: self.out.join(CHECKPOINT_FILE),
            every_seconds: self.checkpoint_every,
        }))
    }
}

/// The paper's initial learning rate for `model`. An unknown model is reported by
/// `TrainConfig::validate`; any rate will do until then.
pub fn paper_learning_rate(model: &str) -> f64 {
    model
        .parse::<ModelKind>()
        .map_or(0.01, ModelKind::paper_learning_rate)
}

pub fn run(args: TrainArgs) -> Result<()> {
    let config = args.config()?;
    let checkpoint = args.checkpoint()?;
    let mode = ProgressMode::resolve(args.progress);
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(shatter_data::default_data_dir);
    let gpu = shatter_gpu::Gpu::new(args.adapter.as_deref())?;
    eprintln!("adapter: {}", gpu.adapter().describe());
    let bar = if mode == ProgressMode::Bars {
        ProgressBar::new(0)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "epoch {prefix} [{bar:30}] {pos}/{len} steps {per_sec} eta {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    let stop = crate::interrupt::stop_flag();
    let options = RunOptions {
        checkpoint: checkpoint.clone(),
        stop: Some(&stop),
        require_checkpoint: args.resume,
    };
    let mut epoch_seconds = Vec::new();
    let record = run_training(
        &gpu,
        &config,
        &data_dir,
        &options,
        &mut |event| match event {
            Progress::Started {
                parameters,
                batch_norm_parameters,
                steps_per_epoch,
                gpu_buffer_bytes,
            } => {
                let extra = if batch_norm_parameters > 0 {
                    format!(" (+ {batch_norm_parameters} batch-norm scales and shifts)")
                } else {
                    String::new()
                };
                let memory = gpu_buffer_bytes as f64 / (1024.0 * 1024.0);
                let (model, dataset, corrupt) = (&config.model, &config.dataset, &config.corrupt);
                bar.suspend(|| {
                    println!(
                        "{model} on {dataset} ({corrupt}): {parameters} parameters{extra}, \
                         {steps_per_epoch} steps per epoch, {memory:.1} MiB of GPU memory"
                    )
                });
                bar.set_length(steps_per_epoch as u64);
            }
            Progress::Resumed {
                checkpoint,
                epoch,
                step,
            } => bar.suspend(|| {
                println!(
                    "continuing from {} (after epoch {epoch}{})",
                    checkpoint.display(),
                    if step > 0 {
                        format!(" and {step} steps of the next")
                    } else {
                        String::new()
                    }
                )
            }),
            Progress::CheckpointRefused { checkpoint, reason } => bar.suspend(|| {
                eprintln!(
                    "note: checkpoint {} is {reason}; starting the run over",
                    checkpoint.display()
                )
            }),
            Progress::CheckpointNotSaved { checkpoint, reason } => bar.suspend(|| {
                eprintln!(
                    "warning: checkpoint {} not saved ({reason}); the run goes on",
                    checkpoint.display()
                )
            }),
            Progress::Steps { epoch, done, .. } => {
                bar.set_prefix(epoch.to_string());
                bar.set_position(done as u64);
            }
            // suspend() prints above the bar, and still prints when the bar is hidden (no TTY).
            Progress::Epoch(e) => {
                epoch_seconds.push(e.seconds);
                let mean = epoch_seconds.iter().sum::<f64>() / epoch_seconds.len() as f64;
                if mode != ProgressMode::None {
                    bar.suspend(|| println!("{}", epoch_line(e, config.epochs, mean)));
                }
            }
        },
    );
    bar.finish_and_clear();
    let record = record?;
    let path = args.out.join("run.json");
    write_json_atomic(&path, &record).with_context(|| format!("writing {}", path.display()))?;
    if let Some(plan) = &checkpoint {
        plan.remove()
            .with_context(|| format!("{}: cannot remove", plan.path.display()))?;
    }
    let fit = match (record.diverged, record.converged_epoch) {
        (true, _) => "diverged".to_owned(),
        (false, Some(e)) => format!("fit the training set at epoch {e}"),
        (false, None) => format!("did not reach {} training accuracy", config.fit_threshold),
    };
    println!(
        "{}: train acc {:.4}, test acc {:.4}, {fit}; {:.0} images/s, {:.1}s; wrote {}",
        config.model,
        record.final_train_accuracy,
        record.final_test_accuracy,
        record.images_per_second,
        record.wall_seconds,
        path.display()
    );
    Ok(())
}
