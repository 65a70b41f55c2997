//! Running a sweep's runs: K workers per adapter take runs from one queue; each finished run
//! is written to `<out>/runs/<run-id>.json` through a temporary file and a rename, so a kill
//! at any moment loses at most the runs in flight and never leaves a half-written record.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Mutex;

use anyhow::{Context, Result};
use shatter_gpu::Gpu;

use crate::record::{RunRecord, write_json_atomic};
use crate::sweep::results::record_path;
use crate::sweep::spec::PlannedRun;
use crate::trainer::{Progress, run_training};

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

/// A run that failed (not one that trained and diverged: that is a finished run).
pub struct RunFailure {
    pub id: String,
    pub error: anyhow::Error,
}

/// Train `runs` with `jobs` workers on each of `gpus` and write each record as it finishes.
/// A failed run is reported and the others go on; the failures are returned.
pub fn run_sweep(
    gpus: &[Gpu],
    jobs: usize,
    runs: Vec<PlannedRun>,
    out: &Path,
    data_dir: &Path,
    on_event: &(dyn Fn(SweepEvent<'_>) + Sync),
) -> Vec<RunFailure> {
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
                    let next = queue.lock().expect("queue lock").pop_front();
                    let Some(run) = next else { break };
                    on_event(SweepEvent::Started { worker, run: &run });
                    match train_and_write(gpu, &run, out, data_dir, worker, on_event) {
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
    worker: usize,
    on_event: &(dyn Fn(SweepEvent<'_>) + Sync),
) -> Result<RunRecord> {
    let record = run_training(gpu, &run.config, data_dir, &mut |progress| {
        on_event(SweepEvent::Training {
            worker,
            run,
            progress,
        })
    })?;
    let path = record_path(out, &run.id);
    write_json_atomic(&path, &record).with_context(|| format!("writing {}", path.display()))?;
    Ok(record)
}
