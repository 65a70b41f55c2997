//! How the report reads run records: the corruption level a run sits at on Figure 1's
//! x axis, whether it fitted, and which runs the paper's Figure 1 setting covers.

use crate::record::RunRecord;

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Training accuracy reached the fit threshold.
    Fitted,
    /// The epoch budget ran out first.
    NotFitted,
    /// The loss became NaN or infinite.
    Diverged,
}

impl Outcome {
    pub fn of(record: &RunRecord) -> Self {
        if record.diverged {
            Outcome::Diverged
        } else if record.converged_epoch.is_some() {
            Outcome::Fitted
        } else {
            Outcome::NotFitted
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Outcome::Fitted => "fitted",
            Outcome::NotFitted => "did not fit",
            Outcome::Diverged => "diverged",
        }
    }
}

/// The label-corruption level p of a run (true labels 0, random labels 1), or None for
/// the pixel modes, which are not on Figure 1b/c's axis.
pub fn label_corruption_level(corrupt: &str) -> Option<f64> {
    match corrupt {
        "none" => Some(0.0),
        "random-labels" => Some(1.0),
        _ => corrupt.strip_prefix("labels:").and_then(|p| p.parse().ok()),
    }
}

/// The paper trains randomized data with no explicit regularization; Figure 1 shows only such runs.
pub fn unregularized(record: &RunRecord) -> bool {
    record.config.weight_decay == 0.0 && !record.config.random_crop
}

/// A mode's name as the paper's Figure 1a legend writes it.
pub fn mode_label(corrupt: &str) -> String {
    match corrupt {
        "none" => "true labels".into(),
        "random-labels" => "random labels".into(),
        "shuffled-pixels" => "shuffled pixels".into(),
        "random-pixels" => "random pixels".into(),
        "gaussian" => "Gaussian".into(),
        other => match other.strip_prefix("labels:") {
            Some(p) => format!("labels p={p}"),
            None => other.into(),
        },
    }
}

/// The modes of Figure 1a, in the paper's legend order.
pub const FIGURE_1A_MODES: [&str; 5] = [
    "none",
    "random-labels",
    "shuffled-pixels",
    "random-pixels",
    "gaussian",
];

pub fn mean(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values
        .into_iter()
        .fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}
