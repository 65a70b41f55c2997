//! `cargo xtask rademacher`: estimate the empirical Rademacher complexity of a model on n
//! training inputs (section 2.2) by fitting random signs, for one or several n.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use shatter::rademacher::{RademacherPoint, rademacher_point};
use shatter::{Progress, TrainConfig, write_json_atomic};

use crate::BadInput;

#[derive(Args)]
pub struct RademacherArgs {
    /// mlp1x512, mlp3x512, alexnet, inception or inception-nobn.
    #[arg(long, default_value = "mlp1x512")]
    pub model: String,
    /// fashion-mnist-mini (bundled), fashion-mnist, mnist, cifar10, or folder:PATH.
    #[arg(long, default_value = "fashion-mnist-mini")]
    pub dataset: String,
    /// Sample sizes: the first N training inputs (repeat or separate with commas).
    #[arg(long, required = true, value_delimiter = ',')]
    pub n: Vec<usize>,
    /// Draws of the random signs per sample size.
    #[arg(long, default_value_t = 5)]
    pub draws: usize,
    /// Epoch budget of each fit (it stops early at 100% training accuracy).
    #[arg(long, default_value_t = 100)]
    pub epochs: usize,
    #[arg(long, default_value_t = 128)]
    pub batch_size: usize,
    /// Initial learning rate (default: the paper's for the model).
    #[arg(long, allow_negative_numbers = true)]
    pub lr: Option<f64>,
    /// Seed of the first draw; draw d uses seed + d for the signs and the weights.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Side of the square crop the network sees.
    #[arg(long, default_value_t = 28)]
    pub crop: usize,
    /// Output folder for rademacher.json and rademacher.png (default: results/rademacher-<model>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Data folder (default: $SHATTER_DATA or ./data).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Adapter name (substring, case-insensitive).
    #[arg(long)]
    pub adapter: Option<String>,
}

pub fn run(args: RademacherArgs) -> Result<()> {
    let mut sizes = args.n.clone();
    sizes.sort_unstable();
    sizes.dedup();
    if sizes.contains(&0) {
        return Err(BadInput("--n must be at least 1 (got 0)".into()).into());
    }
    let base = TrainConfig {
        model: args.model.clone(),
        dataset: args.dataset.clone(),
        epochs: args.epochs,
        seed: args.seed,
        data_seed: args.seed,
        batch_size: args.batch_size,
        lr: args
            .lr
            .unwrap_or_else(|| crate::train::paper_learning_rate(&args.model)),
        crop: args.crop,
        conv_init: args
            .model
            .parse::<shatter_nn::ModelKind>()
            .map_or(
                shatter_nn::ConvInit::He,
                shatter_nn::ModelKind::default_conv_init,
            )
            .name()
            .into(),
        ..TrainConfig::default()
    };
    base.validate()?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(format!("rademacher-{}", args.model)));
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(shatter_data::default_data_dir);
    let gpu = shatter_gpu::Gpu::new(args.adapter.as_deref())?;
    eprintln!("adapter: {}", gpu.adapter().describe());
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{prefix} epoch {msg} [{bar:20}] {pos}/{len} steps")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let mut points: Vec<RademacherPoint> = Vec::new();
    for &n in &sizes {
        let point = rademacher_point(
            &gpu,
            &base,
            n,
            args.draws,
            &data_dir,
            &mut |draw, p| match p {
                Progress::Started {
                    steps_per_epoch, ..
                } => {
                    bar.set_prefix(format!("n {n} draw {}/{}", draw + 1, args.draws));
                    bar.set_length(steps_per_epoch as u64);
                }
                Progress::Steps { epoch, done, .. } => {
                    bar.set_message(epoch.to_string());
                    bar.set_position(done as u64);
                }
                _ => {}
            },
        )?;
        let fitted = point.draws.iter().filter(|d| d.fitted).count();
        bar.suspend(|| {
            println!(
                "n {:>6}: estimate {:.4}{} over {} draws ({fitted} fitted sigma exactly)",
                n,
                point.mean,
                point
                    .half_width_95
                    .map_or_else(String::new, |h| format!(" ± {h:.4} (95%)")),
                point.draws.len()
            )
        });
        points.push(point);
        // Written after every sample size, so a long run keeps what it has measured.
        let json = out.join("rademacher.json");
        write_json_atomic(&json, &points).with_context(|| format!("writing {}", json.display()))?;
    }
    bar.finish_and_clear();
    println!("wrote {}", out.join("rademacher.json").display());
    if points.len() > 1 {
        let png = out.join("rademacher.png");
        shatter::report::rademacher_figure(
            &points,
            &format!(
                "Rademacher estimate: {} on {}, {} epochs",
                args.model, args.dataset, args.epochs
            ),
            &png,
        )?;
        println!("wrote {}", png.display());
    }
    Ok(())
}
