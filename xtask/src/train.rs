use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use shatter::{Progress, TrainConfig, run_training, write_json_atomic};
use shatter_nn::ModelKind;

use crate::BadInput;

#[derive(Args)]
pub struct TrainArgs {
    /// mlp1x512, mlp3x512, alexnet, inception or inception-nobn.
    #[arg(long, default_value = "mlp1x512")]
    pub model: String,
    /// fashion-mnist-mini (bundled), fashion-mnist, mnist, cifar10, or folder:PATH (PATH/train/<class>/ and PATH/test/<class>/ images).
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
    /// Side of the square crop the network sees; images no larger stay whole.
    #[arg(long, default_value_t = 28)]
    pub crop: usize,
    /// Conv filter initialization: he (He-uniform, the default) or glorot (Glorot-uniform).
    #[arg(long, default_value = "he")]
    pub conv_init: String,
    /// Training accuracy that counts as a fit (stops the run).
    #[arg(long, allow_negative_numbers = true, default_value_t = 1.0)]
    pub fit_threshold: f64,
    /// Output folder; run.json is written there.
    #[arg(long, default_value = "results/train")]
    pub out: PathBuf,
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
            crop: self.crop,
            conv_init: self.conv_init.clone(),
            fit_threshold: self.fit_threshold,
        };
        config.validate()?;
        Ok(config)
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
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(shatter_data::default_data_dir);
    let gpu = shatter_gpu::Gpu::new(args.adapter.as_deref())?;
    eprintln!("adapter: {}", gpu.adapter().describe());
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "epoch {prefix} [{bar:30}] {pos}/{len} steps {per_sec} eta {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    let record = run_training(&gpu, &config, &data_dir, &mut |event| match event {
        Progress::Started {
            parameters,
            batch_norm_parameters,
            steps_per_epoch,
        } => {
            let extra = if batch_norm_parameters > 0 {
                format!(" (+ {batch_norm_parameters} batch-norm scales and shifts)")
            } else {
                String::new()
            };
            bar.suspend(|| {
                println!(
                    "{} on {} ({}): {parameters} parameters{extra}, {steps_per_epoch} steps per epoch",
                    config.model, config.dataset, config.corrupt
                )
            });
            bar.set_length(steps_per_epoch as u64);
        }
        Progress::Steps { epoch, done, .. } => {
            bar.set_prefix(epoch.to_string());
            bar.set_position(done as u64);
        }
        // suspend() prints above the bar, and still prints when the bar is hidden (no TTY).
        Progress::Epoch(e) => bar.suspend(|| {
            println!(
                "epoch {:>3}  loss {:.4}  train acc {:.4}  test acc {:.4}  lr {:.5}  {:.1}s",
                e.epoch, e.train_loss, e.train_accuracy, e.test_accuracy, e.lr, e.seconds
            )
        }),
    })?;
    bar.finish_and_clear();
    let path = args.out.join("run.json");
    write_json_atomic(&path, &record).with_context(|| format!("writing {}", path.display()))?;
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
