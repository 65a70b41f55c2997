//! The paper's randomizations of the training data (section 2.1).
//!
//! The label modes change training labels only; the pixel modes (see pixels.rs) change the
//! images of both splits and leave every label true.

use std::fmt;
use std::str::FromStr;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::dataset::{Dataset, Label};

/// The most classes a label can name.
pub const MAX_CLASSES: usize = Label::MAX as usize + 1;
use crate::error::DataError;
use crate::pixels::{gaussian_pixels, randomize_pixels, shuffle_pixels};

/// One randomization of the data, as written in configs: `none`, `labels:P`,
/// `random-labels`, `shuffled-pixels`, `random-pixels`, `gaussian` (`FromStr` and `Display` round-trip).
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
    /// One random permutation of pixel positions applied to every image, train and test.
    ShuffledPixels,
    /// An independent random permutation of pixel positions for each image, train and test.
    RandomPixels,
    /// Every image, train and test, drawn from a Gaussian with the original data's
    /// per-channel mean and variance.
    Gaussian,
}

const EXPECTED: &str = "expected one of none, labels:P (0 <= P <= 1), random-labels, shuffled-pixels, random-pixels, gaussian";

impl FromStr for Corruption {
    type Err = DataError;
    fn from_str(s: &str) -> Result<Self, DataError> {
        match s {
            "none" => Ok(Self::None),
            "random-labels" => Ok(Self::RandomLabels),
            "shuffled-pixels" => Ok(Self::ShuffledPixels),
            "random-pixels" => Ok(Self::RandomPixels),
            "gaussian" => Ok(Self::Gaussian),
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
            Self::ShuffledPixels => f.write_str("shuffled-pixels"),
            Self::RandomPixels => f.write_str("random-pixels"),
            Self::Gaussian => f.write_str("gaussian"),
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
    /// Permutations of pixel positions drawn: 1 for shuffled pixels, one per image (train
    /// and test) for random pixels, 0 otherwise.
    pub pixel_permutations: usize,
    /// For the Gaussian mode, per channel: the mean and variance drawn from (u8 / 255
    /// scale). Empty otherwise.
    pub gaussian_mean: Vec<f64>,
    pub gaussian_variance: Vec<f64>,
}

/// Apply `corruption` to the training split, drawn once from `data_seed` (ChaCha8, whose
/// stream is the same on every platform). Test labels stay true, so test accuracy
/// measures generalization (a CHOICE of PAPER.md). The labels are drawn first (see
/// `corrupt_labels`), then the pixels.
pub fn apply_corruption(
    dataset: &mut Dataset,
    corruption: &Corruption,
    data_seed: u64,
) -> CorruptionReport {
    let mut rng = ChaCha8Rng::seed_from_u64(data_seed);
    let changed = corrupt_labels(
        &mut dataset.train.labels,
        dataset.classes,
        corruption,
        &mut rng,
    );
    let pixel_permutations = match corruption {
        Corruption::ShuffledPixels => {
            shuffle_pixels(dataset, &mut rng);
            1
        }
        Corruption::RandomPixels => {
            randomize_pixels(dataset, &mut rng);
            dataset.train.len() + dataset.test.len()
        }
        _ => 0,
    };
    let (gaussian_mean, gaussian_variance) = match corruption {
        Corruption::Gaussian => gaussian_pixels(dataset, &mut rng),
        _ => (Vec::new(), Vec::new()),
    };
    CorruptionReport {
        pixel_permutations,
        gaussian_mean,
        gaussian_variance,
        ..CorruptionReport::labels_only(corruption, data_seed, changed, dataset.train.len())
    }
}

impl CorruptionReport {
    /// The report of a randomization that drew no pixels: `changed` of `images` training
    /// labels differ from the true ones.
    pub(crate) fn labels_only(
        corruption: &Corruption,
        data_seed: u64,
        changed: usize,
        images: usize,
    ) -> Self {
        Self {
            mode: corruption.to_string(),
            data_seed,
            labels_changed: changed,
            fraction_labels_changed: if images == 0 {
                0.0
            } else {
                changed as f64 / images as f64
            },
            pixel_permutations: 0,
            gaussian_mean: Vec::new(),
            gaussian_variance: Vec::new(),
        }
    }
}

/// The label modes' draw, the first use of the randomization's stream: every training
/// label draws a coin and a class whatever p is, so with one seed the labels corrupted at
/// a smaller p are corrupted identically at a larger one (a sweep over p varies only p).
/// Returns how many labels changed; pixel modes draw nothing here.
pub(crate) fn corrupt_labels(
    labels: &mut [Label],
    classes: usize,
    corruption: &Corruption,
    rng: &mut ChaCha8Rng,
) -> usize {
    let p = match corruption {
        Corruption::None
        | Corruption::ShuffledPixels
        | Corruption::RandomPixels
        | Corruption::Gaussian => 0.0,
        Corruption::Labels(p) => {
            debug_assert!((0.0..=1.0).contains(p), "labels:{p} outside [0, 1]");
            *p
        }
        Corruption::RandomLabels => 1.0,
    };
    assert!(
        (1..=MAX_CLASSES).contains(&classes),
        "labels are u16, so a dataset has 1 to {MAX_CLASSES} classes, not {classes}"
    );
    // Drawn as u32, whose uniform sampling rand defines the same on every platform.
    let classes = classes as u32;
    let mut changed = 0;
    if p > 0.0 {
        for label in labels {
            let coin: f64 = rng.random();
            let class = rng.random_range(0..classes) as Label;
            if coin < p {
                changed += usize::from(*label != class);
                *label = class;
            }
        }
    }
    changed
}
