//! One run on the page: an epoch at a time, each evaluated on both sets, as the page plots.

use anyhow::{Context, Result};
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use shatter::{EvalSets, TrainConfig, Trainer, epoch_order_stream};

/// A run the page trains epoch by epoch (its next epoch waits for the page to ask).
pub struct WebRun {
    trainer: Trainer<'static>,
    /// The epoch-order stream and the order it last drew: a native run's (run.rs).
    rng: ChaCha8Rng,
    order: Vec<u32>,
    epochs_done: usize,
    images_seen: u64,
    test_images: usize,
    label: String,
}

/// What one epoch measured, as the page reads it (JSON).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EpochSummary {
    pub epoch: usize,
    /// The mean training loss over the epoch's steps (training mode, as the steps ran).
    pub train_loss: f64,
    /// The whole training set after the epoch, in evaluation mode.
    pub train_accuracy: f64,
    pub train_eval_loss: f64,
    pub test_accuracy: f64,
    pub test_loss: f64,
    /// Each step's mean loss.
    pub step_losses: Vec<f64>,
    pub train_images: usize,
}

impl WebRun {
    pub(crate) fn new(trainer: Trainer<'static>, config: &TrainConfig, test_images: usize) -> Self {
        let images = trainer.train_images();
        Self {
            trainer,
            rng: epoch_order_stream(config.seed),
            order: (0..images as u32).collect(),
            epochs_done: 0,
            images_seen: 0,
            test_images,
            label: format!("{} on {}", config.model, config.corrupt),
        }
    }

    pub fn train_images(&self) -> usize {
        self.trainer.train_images()
    }

    pub fn test_images(&self) -> usize {
        self.test_images
    }

    pub fn steps_per_epoch(&self) -> usize {
        self.trainer.steps_per_epoch()
    }

    /// Train one epoch in a fresh order and evaluate both sets: the steps are queued at
    /// once, and the only wait is for the one readback of the metrics.
    pub async fn epoch(&mut self) -> Result<EpochSummary> {
        let context = || format!("training {}, epoch {}", self.label, self.epochs_done + 1);
        self.order.shuffle(&mut self.rng);
        self.trainer
            .train_steps(&self.order, self.images_seen, 0, &mut |_| true)
            .with_context(context)?;
        let measured = self
            .trainer
            .epoch_metrics_async(EvalSets::BOTH)
            .await
            .with_context(context)?;
        self.trainer.gpu().settle(&context()).await?;
        self.epochs_done += 1;
        self.images_seen += self.order.len() as u64;
        let step_losses: Vec<f64> = measured
            .train_steps
            .iter()
            .map(|m| f64::from(m[0]) / f64::from(m[2]).max(1.0))
            .collect();
        let (loss_sum, rows) = measured.train_steps.iter().fold((0.0, 0.0), |(l, r), m| {
            (l + f64::from(m[0]), r + f64::from(m[2]))
        });
        let train = measured.train.expect("both sets evaluated");
        let test = measured.test.expect("both sets evaluated");
        Ok(EpochSummary {
            epoch: self.epochs_done,
            train_loss: loss_sum / f64::max(rows, 1.0),
            train_accuracy: train.accuracy,
            train_eval_loss: train.loss,
            test_accuracy: test.accuracy,
            test_loss: test.loss,
            step_losses,
            train_images: self.order.len(),
        })
    }
}
