//! Saving a run's checkpoints, and continuing a run from one: the GPU side of
//! `crate::checkpoint`'s file format. A save reads the trainer's state back while the GPU
//! waits, then encodes and writes the file on a thread of its own while training goes on.

use std::thread::JoinHandle;
use std::time::Instant;

use anyhow::{Context, Result};

use crate::checkpoint::{self, CheckpointPlan, Expected, PartEntry, RunProgress};
use crate::config::{ConfigError, TrainConfig};
use crate::record::CheckpointStats;
use crate::trainer::Trainer;

/// The name under which a checkpoint keeps the epoch order.
const ORDER_PART: &str = "order";

/// What a run found where its checkpoint would be.
pub enum Resume {
    /// No checkpoint: the run starts from the beginning.
    Fresh,
    /// A checkpoint that cannot be used, and why: the run starts from the beginning.
    Refused(String),
    /// The trainer's state was restored; the run goes on from `progress`.
    Restored(Box<Restored>),
}

/// Where a restored run stands, beyond what is on the GPU.
pub struct Restored {
    pub progress: RunProgress,
    pub order: Vec<u32>,
    /// Word position of the epoch-order random stream.
    pub order_stream_position: u128,
}

/// Saves one run's checkpoints according to its plan.
pub struct Saver<'p> {
    pub plan: &'p CheckpointPlan,
    config: TrainConfig,
    adapter: String,
    commit: String,
    last: Instant,
    writing: Option<JoinHandle<Result<(u64, f64)>>>,
    stats: CheckpointStats,
}

impl<'p> Saver<'p> {
    /// A saver for the run of `config` on `adapter`, built from `commit`.
    pub fn new(
        plan: &'p CheckpointPlan,
        config: &TrainConfig,
        adapter: &str,
        commit: &str,
    ) -> Self {
        Self {
            plan,
            config: config.clone(),
            adapter: adapter.to_owned(),
            commit: commit.to_owned(),
            last: Instant::now(),
            writing: None,
            stats: CheckpointStats::default(),
        }
    }

    /// Whether the plan's interval has passed since the last save (or the run's start).
    pub fn due(&self) -> bool {
        self.last.elapsed().as_secs_f64() >= self.plan.every_seconds
    }

    /// Continue from the plan's checkpoint where there is a usable one, restoring
    /// `trainer`'s state. With `required`, a missing or unusable checkpoint is an error
    /// (`--resume`) rather than a fresh start.
    pub fn resume(&mut self, trainer: &Trainer<'_>, required: bool) -> Result<Resume> {
        let path = self.plan.path.display();
        let bytes = match std::fs::read(&self.plan.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if required {
                    return Err(ConfigError(format!("--resume: no checkpoint at {path}")).into());
                }
                return Ok(Resume::Fresh);
            }
            Err(e) => return self.refuse(format!("cannot read ({e})"), required),
        };
        let expected = entries(trainer, trainer.train_images());
        let found = match checkpoint::decode(
            &bytes,
            &Expected {
                config: &self.config,
                parts: &expected,
            },
        ) {
            Ok(found) => found,
            Err(reason) => return self.refuse(reason, required),
        };
        let mut parts = found.parts;
        let order = parts.pop().expect("a checkpoint ends with the epoch order");
        let values: Vec<Vec<f32>> = parts
            .iter()
            .map(|words| bytemuck::cast_slice(words).to_vec())
            .collect();
        trainer.restore_state(&values)?;
        // The file's own size: it could not hold it when it was encoded.
        self.stats = CheckpointStats {
            bytes: bytes.len() as u64,
            ..found.progress.checkpoints.clone()
        };
        Ok(Resume::Restored(Box::new(Restored {
            order_stream_position: found
                .progress
                .order_stream_position
                .parse()
                .context("a checkpoint's order stream position")?,
            progress: found.progress,
            order,
        })))
    }

    fn refuse(&self, reason: String, required: bool) -> Result<Resume> {
        if required {
            return Err(ConfigError(format!(
                "--resume: checkpoint {} cannot be used: {reason}",
                self.plan.path.display()
            ))
            .into());
        }
        Ok(Resume::Refused(reason))
    }

    /// Read the run's state back and start writing it with `progress` and `order`; the
    /// previous write finishes first, so at most one is under way. A readback that fails is
    /// an error; a write that failed (a full disk, a folder removed under it) is returned as
    /// its reason, for the caller to report: the run goes on without that checkpoint.
    pub fn save(
        &mut self,
        trainer: &Trainer<'_>,
        progress: &RunProgress,
        order: &[u32],
    ) -> Result<Option<String>> {
        let failed = self.finish();
        let read_start = Instant::now();
        let values = trainer
            .gpu()
            .read_state(&trainer.state())
            .context("reading the run's state back for a checkpoint")?;
        self.stats.readback_seconds += read_start.elapsed().as_secs_f64();
        let entries = entries(trainer, order.len());
        let mut words: Vec<Vec<u32>> = values
            .into_iter()
            .map(|v| bytemuck::cast_slice(&v).to_vec())
            .collect();
        words.push(order.to_vec());
        let mut progress = progress.clone();
        progress.checkpoints = self.stats.clone();
        progress.checkpoints.saves += 1;
        let (config, adapter, commit) = (
            self.config.clone(),
            self.adapter.clone(),
            self.commit.clone(),
        );
        let path = self.plan.path.clone();
        self.writing = Some(std::thread::spawn(move || {
            let write_start = Instant::now();
            let parts: Vec<(PartEntry, &[u32])> = entries
                .into_iter()
                .zip(&words)
                .map(|(entry, words)| (entry, words.as_slice()))
                .collect();
            let bytes = checkpoint::encode(&config, &adapter, &commit, &progress, &parts);
            crate::write_atomic(&path, &bytes)
                .with_context(|| format!("saving checkpoint {}", path.display()))?;
            Ok((bytes.len() as u64, write_start.elapsed().as_secs_f64()))
        }));
        self.last = Instant::now();
        Ok(failed)
    }

    /// Wait for the write under way, if any, and count it; where it failed, its reason.
    pub fn finish(&mut self) -> Option<String> {
        let writing = self.writing.take()?;
        match writing.join() {
            Ok(Ok((bytes, seconds))) => {
                self.stats.saves += 1;
                self.stats.bytes = bytes;
                self.stats.write_seconds += seconds;
                None
            }
            Ok(Err(error)) => Some(
                error
                    .chain()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(": "),
            ),
            Err(_) => Some("the checkpoint writer panicked".into()),
        }
    }

    /// The saves so far, this run's earlier sittings included.
    pub fn stats(&self) -> &CheckpointStats {
        &self.stats
    }
}

/// The parts a checkpoint of this run holds, in order: the trainer's state on the GPU,
/// then the epoch order of `train_images` images.
fn entries(trainer: &Trainer<'_>, train_images: usize) -> Vec<PartEntry> {
    let mut entries: Vec<PartEntry> = trainer
        .state()
        .iter()
        .map(|part| PartEntry {
            name: part.name().to_owned(),
            len: part.len(),
        })
        .collect();
    entries.push(PartEntry {
        name: ORDER_PART.into(),
        len: train_images,
    });
    entries
}
