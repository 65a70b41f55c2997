//! When a run evaluates the whole training and test sets.
//!
//! An evaluation is a forward pass over both sets: about a third of a training epoch's
//! work for the training set alone. Done after every epoch it was a third of a run's time,
//! so a run evaluates every `eval_every` epochs, on its last epoch, and whenever the
//! epoch's running accuracy (the mean over its training steps, free to measure) says that
//! the full training accuracy may have reached a level not yet confirmed: 99%, 99.9%, 100%
//! (the record's fit epochs) or the fit threshold. A fit is only ever decided on a measured
//! full training accuracy, in evaluation mode.
//!
//! The running accuracy trails the full accuracy measured after the epoch (the weights
//! improve while the epoch runs), so the test adds the gap between the two seen at the last
//! evaluation, and it starts one level's shortfall early (a level of 99.9% is looked for
//! from an estimate of 99.8%; 100% only at 100%): evaluation comes as soon as the full
//! accuracy could plausibly be there, rather than epochs later when the running accuracy
//! catches up. On the MLP's 10,000 bundled true labels that found the first epoch at 99.9%
//! exactly (62) where the estimate alone found it four epochs late, for 10 more evaluations
//! in 86 epochs.

use crate::record::FitEpochs;

/// The levels a run's record tracks besides its fit threshold (`FitEpochs`).
pub const FIT_LEVELS: [f64; 3] = [0.99, 0.999, 1.0];

/// Whether a measured accuracy counts as reaching `level` (a tolerance for the f32 sums
/// behind it).
pub fn reached(accuracy: f64, level: f64) -> bool {
    accuracy >= level - 1e-12
}

/// What decides whether an epoch is evaluated.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EvalPolicy {
    pub every: usize,
    /// The epoch budget: the last epoch is always evaluated.
    pub epochs: usize,
    pub fit_threshold: f64,
}

impl EvalPolicy {
    /// Whether to evaluate after `epoch` (1-based), whose running accuracy was
    /// `running_accuracy`; `gap` is the last evaluation's full accuracy minus its running
    /// accuracy, and `fit` what evaluations have confirmed so far.
    /// Whether `epoch` is evaluated whatever it measured: every `every`th and the last.
    pub fn scheduled(&self, epoch: usize) -> bool {
        self.every <= 1 || epoch.is_multiple_of(self.every) || epoch >= self.epochs
    }

    pub fn due(
        &self,
        epoch: usize,
        running_accuracy: f64,
        gap: Option<f64>,
        fit: &FitEpochs,
    ) -> bool {
        if self.scheduled(epoch) {
            return true;
        }
        // Before any evaluation there is no gap to go by: the running accuracy alone.
        let estimate = running_accuracy + gap.unwrap_or(0.0).max(0.0);
        let unconfirmed = [
            (FIT_LEVELS[0], fit.at_99),
            (FIT_LEVELS[1], fit.at_99_9),
            (FIT_LEVELS[2], fit.at_100),
        ]
        .into_iter()
        .filter(|(_, confirmed)| confirmed.is_none())
        .map(|(level, _)| level)
        .chain([self.fit_threshold])
        .fold(f64::INFINITY, f64::min);
        reached(estimate, unconfirmed - (1.0 - unconfirmed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: EvalPolicy = EvalPolicy {
        every: 5,
        epochs: 100,
        fit_threshold: 1.0,
    };

    #[test]
    fn every_nth_and_the_last_epoch_are_evaluated() {
        let none = FitEpochs::default();
        let due: Vec<usize> = (1..=100)
            .filter(|&e| POLICY.due(e, 0.5, Some(0.1), &none))
            .collect();
        assert_eq!(due, (1..=20).map(|k| 5 * k).collect::<Vec<_>>());
        let short = EvalPolicy {
            epochs: 7,
            ..POLICY
        };
        assert!(short.due(7, 0.1, None, &none));
        let every = EvalPolicy { every: 1, ..POLICY };
        assert!((1..=100).all(|e| every.due(e, 0.0, None, &none)));
    }

    #[test]
    fn a_running_accuracy_near_an_unconfirmed_level_calls_for_an_evaluation() {
        let none = FitEpochs::default();
        // 99% is looked for from 98%.
        assert!(!POLICY.due(3, 0.975, None, &none));
        assert!(POLICY.due(3, 0.98, None, &none));
        // The last evaluation found the full accuracy 0.6 points above the running one.
        assert!(POLICY.due(3, 0.975, Some(0.006), &none));
        assert!(!POLICY.due(3, 0.975, Some(0.004), &none));
        // A negative gap does not hold an evaluation back.
        assert!(POLICY.due(3, 0.98, Some(-0.01), &none));
        // With 99% confirmed, 99.9% is looked for from 99.8%.
        let some = FitEpochs {
            at_99: Some(1),
            ..FitEpochs::default()
        };
        assert!(!POLICY.due(3, 0.9975, None, &some));
        assert!(POLICY.due(3, 0.998, None, &some));
        // Once 99% and 99.9% are confirmed, only 100% (the threshold) is left, with no
        // shortfall to start early by.
        let most = FitEpochs {
            at_99: Some(1),
            at_99_9: Some(2),
            at_100: None,
        };
        assert!(!POLICY.due(3, 0.995, Some(0.004), &most));
        assert!(POLICY.due(3, 0.997, Some(0.004), &most));
        // A lower fit threshold is a level of its own: 90%, looked for from 80%.
        let lower = EvalPolicy {
            fit_threshold: 0.9,
            ..POLICY
        };
        assert!(!lower.due(3, 0.79, None, &none));
        assert!(lower.due(3, 0.81, None, &none));
    }
}
