//! The paper's randomizations of the training data (section 2.1). Here: the label modes;
//! the pixel modes (shuffled pixels, random pixels, Gaussian) extend this enum.

use std::fmt;
use std::str::FromStr;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::dataset::Dataset;
use crate::error::DataError;

#[derive(Clone, Debug, PartialEq)]
pub enum Corruption {
    /// The true data.
    None,
    /// Each training label, independently with probability p, replaced by a class drawn
    /// uniformly from all classes (so it may draw the original).
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

/// What a randomization did, for the run record.
#[derive(Clone, Debug, PartialEq)]
pub struct CorruptionReport {
    pub mode: String,
    pub data_seed: u64,
    pub labels_changed: usize,
    pub fraction_labels_changed: f64,
}

/// Apply `corruption` to the training split, drawn once from `data_seed` (ChaCha8, stable
/// across platforms). Test labels stay true, so test accuracy measures generalization.
pub fn apply_corruption(
    dataset: &mut Dataset,
    corruption: &Corruption,
    data_seed: u64,
) -> CorruptionReport {
    let mut rng = ChaCha8Rng::seed_from_u64(data_seed);
    let p = match corruption {
        Corruption::None => 0.0,
        Corruption::Labels(p) => *p,
        Corruption::RandomLabels => 1.0,
    };
    let classes = dataset.classes as u8;
    let mut changed = 0;
    if p > 0.0 {
        for label in &mut dataset.train.labels {
            // Always draw both numbers, so the stream of draws is the same for every p.
            let coin: f64 = rng.random();
            let class = rng.random_range(0..classes);
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
