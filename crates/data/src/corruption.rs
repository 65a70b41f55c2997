//! The paper's randomizations of the training data (section 2.1).
//!
//! Here: the label modes. The pixel modes (shuffled pixels, random pixels, Gaussian) are
//! further variants of [`Corruption`], parsed from further words ("shuffled-pixels", ...)
//! and applied by the same [`apply_corruption`], which already owns the one seeded RNG
//! and returns one report; they add their own fields to [`CorruptionReport`].

use std::fmt;
use std::str::FromStr;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::dataset::Dataset;
use crate::error::DataError;

/// One randomization of the data, as written in configs: `none`, `labels:P`,
/// `random-labels` (`FromStr` and `Display` round-trip).
#[derive(Clone, Debug, PartialEq)]
pub enum Corruption {
    /// The true data.
    None,
    /// Each training label, independently with probability p, replaced by a class drawn
    /// uniformly from all classes (so it may draw the original: the expected fraction
    /// changed is p * (K - 1) / K). p is in [0, 1]; parsing rejects anything else.
    Labels(f64),
    /// Every training label drawn at random (p = 1).
    RandomLabels,
}

const EXPECTED: &str = "expected one of none, labels:P (0 <= P <= 1), random-labels";

impl FromStr for Corruption {
    type Err = DataError;
    fn from_str(s: &str) -> Result<Self, DataError> {
        match s {
            "none" => Ok(Self::None),
            "random-labels" => Ok(Self::RandomLabels),
            _ => match s.strip_prefix("labels:") {
                Some(p) => match p.parse::<f64>() {
                    Ok(p) if (0.0..=1.0).contains(&p) => Ok(Self::Labels(p)),
                    _ => Err(DataError::Config {
                        message: format!("corruption '{s}': P must be a number between 0 and 1"),
                    }),
                },
                None => Err(DataError::Config {
                    message: format!("unknown corruption '{s}': {EXPECTED}"),
                }),
            },
        }
    }
}

impl fmt::Display for Corruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => f.write_str("none"),
            Self::Labels(p) => write!(f, "labels:{p}"),
            Self::RandomLabels => f.write_str("random-labels"),
        }
    }
}

/// What a randomization actually did, for the run record.
#[derive(Clone, Debug, PartialEq)]
pub struct CorruptionReport {
    /// The corruption as written (`Corruption`'s `Display`).
    pub mode: String,
    /// The seed the randomization was drawn from.
    pub data_seed: u64,
    /// Training labels that now differ from the true ones.
    pub labels_changed: usize,
    /// `labels_changed` over the number of training images (0 for an empty split).
    pub fraction_labels_changed: f64,
}

/// Apply `corruption` to the training split, drawn once from `data_seed` (ChaCha8, whose
/// stream is the same on every platform). Test labels stay true, so test accuracy
/// measures generalization (a CHOICE of PAPER.md).
///
/// Every training image draws a coin and a class whatever p is, so with one seed the
/// labels corrupted at a smaller p are corrupted identically at a larger one: a sweep
/// over p varies only p.
pub fn apply_corruption(
    dataset: &mut Dataset,
    corruption: &Corruption,
    data_seed: u64,
) -> CorruptionReport {
    let mut rng = ChaCha8Rng::seed_from_u64(data_seed);
    let p = match corruption {
        Corruption::None => 0.0,
        Corruption::Labels(p) => {
            debug_assert!((0.0..=1.0).contains(p), "labels:{p} outside [0, 1]");
            *p
        }
        Corruption::RandomLabels => 1.0,
    };
    assert!(
        (1..=256).contains(&dataset.classes),
        "labels are u8, so a dataset has 1 to 256 classes, not {}",
        dataset.classes
    );
    // Drawn as u32, whose uniform sampling rand defines the same on every platform.
    let classes = dataset.classes as u32;
    let mut changed = 0;
    if p > 0.0 {
        for label in &mut dataset.train.labels {
            let coin: f64 = rng.random();
            let class = rng.random_range(0..classes) as u8;
            if coin < p {
                changed += usize::from(*label != class);
                *label = class;
            }
        }
    }
    let n = dataset.train.labels.len();
    CorruptionReport {
        mode: corruption.to_string(),
        data_seed,
        labels_changed: changed,
        fraction_labels_changed: if n == 0 {
            0.0
        } else {
            changed as f64 / n as f64
        },
    }
}
