//! Running a sweep's runs: K workers per adapter take runs from one queue; each finished run
//! is written to `<out>/runs/<run-id>.json` through a temporary file and a rename, so a kill
//! at any moment never leaves a half-written record. A run in flight saves its state now
//! and then to `<out>/checkpoints/<run-id>/` and continues from there when the sweep is
//! started again; its checkpoint is removed once its record is written.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};
use shatter_gpu::Gpu;

use crate::checkpoint::CheckpointPlan;
use crate::record::{RunRecord, write_json_atomic};
use crate::run::{Progress, RunOptions, run_training};
use crate::sweep::results::record_path;
use crate::sweep::spec::PlannedRun;

/// What the runner tells its caller; `worker` numbers the workers from 0.
pub enum SweepEvent<'a> {
    Started {
        worker: usize,
        run: &'a PlannedRun,
    },
    Training {
        worker: usize,
        run: &'a PlannedRun,
        progress: Progress<'a>,
    },
    Finished {
        worker: usize,
        run: &'a PlannedRun,
        record: &'a RunRecord,
    },
    Failed {
        worker: usize,
        run: &'a PlannedRun,
        error: &'a anyhow::Error,
    },
}

/// A run that failed (not one that trained and diverged: that is a finished run), or was
/// interrupted (its error is a [`crate::Interrupted`]).
pub struct RunFailure {
    pub id: String,
    pub error: anyhow::Error,
}

/// How a sweep's runs are carried out.
pub struct SweepOptions<'a> {
    pub jobs: usize,
    /// Seconds between checkpoints of a run; None: none.
    pub checkpoint_every: Option<f64>,
    /// Set to stop: runs in flight save a checkpoint and stop, and no new run starts.
    pub stop: Option<&'a AtomicBool>,
}

/// Train `runs` with `options.jobs` workers on each of `gpus` and write each record as it
/// finishes. A failed run is reported and the others go on; the failures are returned.
pub fn run_sweep(
    gpus: &[Gpu],
    options: &SweepOptions<'_>,
    runs: Vec<PlannedRun>,
    out: &Path,
    data_dir: &Path,
    on_event: &(dyn Fn(SweepEvent<'_>) + Sync),
) -> Vec<RunFailure> {
    let jobs = options.jobs;
    let queue = Mutex::new(VecDeque::from(runs));
    let failures = Mutex::new(Vec::new());
    let workers: Vec<&Gpu> = gpus
        .iter()
        .flat_map(|gpu| std::iter::repeat_n(gpu, jobs.max(1)))
        .collect();
    std::thread::scope(|scope| {
        for (worker, gpu) in workers.into_iter().enumerate() {
            let (queue, failures) = (&queue, &failures);
            scope.spawn(move || {
                loop {
                    if options.stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
                        break;
                    }
                    let next = queue.lock().expect("queue lock").pop_front();
                    let Some(run) = next else { break };
                    on_event(SweepEvent::Started { worker, run: &run });
                    match train_and_write(gpu, &run, out, data_dir, options, worker, on_event) {
                        Ok(record) => on_event(SweepEvent::Finished {
                            worker,
                            run: &run,
                            record: &record,
                        }),
                        Err(error) => {
                            on_event(SweepEvent::Failed {
                                worker,
                                run: &run,
                                error: &error,
                            });
                            failures.lock().expect("failures lock").push(RunFailure {
                                id: run.id.clone(),
                                error,
                            });
                        }
                    }
                }
            });
        }
    });
    failures.into_inner().expect("failures lock")
}

fn train_and_write(
    gpu: &Gpu,
    run: &PlannedRun,
    out: &Path,
    data_dir: &Path,
    options: &SweepOptions<'_>,
    worker: usize,
    on_event: &(dyn Fn(SweepEvent<'_>) + Sync),
) -> Result<RunRecord> {
    let checkpoint = options
        .checkpoint_every
        .map(|every| CheckpointPlan::for_sweep_run(out, &run.id, every));
    let run_options = RunOptions {
        checkpoint: checkpoint.clone(),
        stop: options.stop,
        require_checkpoint: false,
    };
    let record = run_training(gpu, &run.config, data_dir, &run_options, &mut |progress| {
        on_event(SweepEvent::Training {
            worker,
            run,
            progress,
        })
    })?;
    let path = record_path(out, &run.id);
    write_json_atomic(&path, &record).with_context(|| format!("writing {}", path.display()))?;
    if let Some(plan) = checkpoint {
        plan.remove()
            .with_context(|| format!("{}: cannot remove", plan.path.display()))?;
    }
    Ok(record)
}
