//! The empirical Rademacher complexity of section 2.2, estimated by the randomization test
//! itself: draw random signs sigma for n training inputs, train the model as a binary
//! classifier on (x_i, sigma_i), and take (1/n) sum sigma_i h(x_i) with h(x) in {-1, +1}
//! the trained classifier. That sum is 2 * (training accuracy on sigma) - 1; training stands
//! in for the supremum over the class. Near 1 means the model shatters the sample, which
//! makes the complexity bound vacuous; it falls once n outgrows what the model fits.

use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use shatter_data::{CorruptionReport, Label, RunDataset};

use crate::config::{ConfigError, TrainConfig};
use crate::run::{Progress, RunOptions, load_run_data, train_prepared};

/// One draw of sigma and the classifier trained on it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RademacherDraw {
    /// Seed of the signs and of the weights.
    pub seed: u64,
    /// Fraction of the n inputs whose trained prediction matches sigma.
    pub train_accuracy: f64,
    /// (1/n) sum sigma_i h(x_i) = 2 * train_accuracy - 1.
    pub correlation: f64,
    /// Whether training reached the fit threshold within the epoch budget.
    pub fitted: bool,
    pub diverged: bool,
    pub epochs: usize,
    pub wall_seconds: f64,
}

/// The estimate at one sample size.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RademacherPoint {
    pub n: usize,
    pub draws: Vec<RademacherDraw>,
    /// Mean of the draws' correlations: the estimate.
    pub mean: f64,
    /// Half-width of the 95% confidence interval of the mean (Student's t over the draws);
    /// None with a single draw.
    pub half_width_95: Option<f64>,
}

/// Student's t quantile t(0.975, df) for df = 1..=30; beyond that the normal 1.96 is
/// within 2% of it.
const T_975: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042,
];

/// Mean and 95% half-width of `values`.
pub fn mean_and_interval(values: &[f64]) -> (f64, Option<f64>) {
    let k = values.len();
    let mean = values.iter().sum::<f64>() / k.max(1) as f64;
    if k < 2 {
        return (mean, None);
    }
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (k - 1) as f64;
    let t = T_975.get(k - 2).copied().unwrap_or(1.96);
    (mean, Some(t * (variance / k as f64).sqrt()))
}

/// Estimate at sample size `n` from `draws` draws of sigma. `base` gives the model, the
/// dataset and the training settings; its corruption is ignored (the inputs are the true
/// images; sigma replaces the labels) and draw d uses seed `base.seed + d`.
pub fn rademacher_point(
    gpu: &shatter_gpu::Gpu,
    base: &TrainConfig,
    n: usize,
    draws: usize,
    data_dir: &Path,
    progress: &mut dyn FnMut(usize, Progress<'_>),
) -> Result<RademacherPoint> {
    if n == 0 {
        return Err(ConfigError("--n must be at least 1 (got 0)".into()).into());
    }
    if draws == 0 {
        return Err(ConfigError("--draws must be at least 1 (got 0)".into()).into());
    }
    let mut config = TrainConfig {
        corrupt: "none".into(),
        subset: Some(n),
        // The estimate is the best fit training reaches (it stands in for a supremum), and a
        // small sample's accuracy can touch 100% and fall back within an epoch or two: look
        // after every epoch.
        eval_every: 1,
        ..base.clone()
    };
    config.validate()?;
    let (inputs, _) = load_run_data(&config, data_dir)?;
    if inputs.train.len() < n {
        return Err(ConfigError(format!(
            "--n {n}: {} has only {} training images",
            config.dataset,
            inputs.train.len()
        ))
        .into());
    }
    let mut results = Vec::with_capacity(draws);
    for draw in 0..draws {
        let started = Instant::now();
        let seed = base.seed + draw as u64;
        config.seed = seed;
        config.data_seed = seed;
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0073_6967_6d61);
        let signs: Vec<Label> = (0..n).map(|_| rng.random_range(0..2u8).into()).collect();
        let mut data = inputs.clone();
        data.classes = 2;
        data.train.labels = signs;
        // The classifier is judged on the sample itself; the "test" split is that sample.
        data.test = data.train.clone();
        let report = CorruptionReport {
            mode: "rademacher-signs".into(),
            data_seed: seed,
            labels_changed: n,
            fraction_labels_changed: 1.0,
            pixel_permutations: 0,
            gaussian_mean: Vec::new(),
            gaussian_variance: Vec::new(),
        };
        let record = train_prepared(
            gpu,
            &config,
            &RunDataset::Resident(data),
            &report,
            started,
            &RunOptions::default(),
            &mut |p| progress(draw, p),
        )?;
        results.push(RademacherDraw {
            seed,
            train_accuracy: record.final_train_accuracy,
            correlation: 2.0 * record.final_train_accuracy - 1.0,
            fitted: record.converged_epoch.is_some(),
            diverged: record.diverged,
            epochs: record.epochs.len(),
            wall_seconds: record.wall_seconds,
        });
    }
    let correlations: Vec<f64> = results.iter().map(|d| d.correlation).collect();
    let (mean, half_width_95) = mean_and_interval(&correlations);
    Ok(RademacherPoint {
        n,
        draws: results,
        mean,
        half_width_95,
    })
}
