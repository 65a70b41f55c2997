//! How `train` and `sweep` report progress: bars on a terminal; on anything else (a log
//! file, Slurm's output, `| tee`, CI) one plain line per epoch per run, which a log holds
//! well; or nothing but the results.

use std::io::IsTerminal;
use std::time::Duration;

use clap::ValueEnum;
use shatter::EpochRecord;

/// `--progress`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ProgressMode {
    /// Progress bars (the default on a terminal).
    Bars,
    /// One line per epoch per run (the default when stdout is not a terminal).
    Plain,
    /// Only what each run ends with.
    None,
}

impl ProgressMode {
    /// The mode asked for, or the default for where stdout goes.
    pub fn resolve(asked: Option<ProgressMode>) -> ProgressMode {
        asked.unwrap_or(if std::io::stdout().is_terminal() {
            ProgressMode::Bars
        } else {
            ProgressMode::Plain
        })
    }
}

/// `epoch 12/100  loss 0.1234  running acc 0.9512  train acc 0.9600  test acc 0.8712  top-5
/// 0.9921  lr 0.00950  3.1s  eta <= 4m30s` (top-5: the test set's); an epoch that was not evaluated shows `-` for the
/// evaluated values. The ETA is an upper bound: the epochs left in the budget at the mean
/// time of an epoch so far (a run stops sooner when it fits).
pub fn epoch_line(e: &EpochRecord, budget: usize, mean_epoch_seconds: f64) -> String {
    let value = |measured: bool, v: f64| {
        if measured {
            format!("{v:.4}")
        } else {
            "-".to_owned()
        }
    };
    let left = budget.saturating_sub(e.epoch) as f64 * mean_epoch_seconds;
    format!(
        "epoch {:>3}/{budget}  loss {:.4}  running acc {:.4}  train acc {}  test acc {}  top-5 {}  lr {:.5}  {:.1}s  eta <= {}",
        e.epoch,
        e.running_train_loss,
        e.running_train_accuracy,
        value(e.evaluated, e.train_accuracy),
        value(e.test_evaluated, e.test_accuracy),
        value(e.test_evaluated, e.test_top5_accuracy),
        e.lr,
        e.seconds,
        duration(left)
    )
}

/// `4m30s`, `2h05m`, `12s`.
pub fn duration(seconds: f64) -> String {
    let total = Duration::from_secs_f64(seconds.max(0.0)).as_secs();
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m{s:02}s"),
        _ => format!("{h}h{m:02}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_a_person_would_say_them() {
        assert_eq!(duration(12.4), "12s");
        assert_eq!(duration(270.0), "4m30s");
        assert_eq!(duration(7500.0), "2h05m");
        assert_eq!(duration(-1.0), "0s");
    }

    #[test]
    fn an_epoch_line_shows_dashes_where_nothing_was_evaluated() {
        let mut e = EpochRecord {
            epoch: 12,
            images_seen: 1,
            lr: 0.0095,
            running_train_loss: 0.12345,
            running_train_accuracy: 0.95,
            train_loss: f64::NAN,
            train_accuracy: f64::NAN,
            test_loss: f64::NAN,
            test_accuracy: f64::NAN,
            train_top5_accuracy: f64::NAN,
            test_top5_accuracy: f64::NAN,
            evaluated: false,
            test_evaluated: false,
            seconds: 3.12,
        };
        assert_eq!(
            epoch_line(&e, 100, 3.0),
            "epoch  12/100  loss 0.1235  running acc 0.9500  train acc -  test acc -  top-5 -  lr 0.00950  3.1s  eta <= 4m24s"
        );
        e.evaluated = true;
        e.test_evaluated = true;
        e.train_accuracy = 0.96;
        e.test_accuracy = 0.87;
        e.test_top5_accuracy = 0.99;
        assert!(
            epoch_line(&e, 100, 3.0).contains("train acc 0.9600  test acc 0.8700  top-5 0.9900")
        );
    }
}
