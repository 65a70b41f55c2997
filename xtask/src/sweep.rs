//! `cargo xtask sweep`: run a grid of experiments into one results folder, skipping runs
//! already finished there, then write the report.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use shatter::sweep::{Shard, Sweep, SweepEvent, SweepOptions, read_results, run_sweep};
use shatter::{Progress, report};
use shatter_gpu::Gpu;

use crate::BadInput;
use crate::progress::{ProgressMode, epoch_line};

/// Which runs: a preset or a sweep file, and filters on their settings.
#[derive(Args)]
pub struct SweepSelection {
    /// A bundled preset: quick (the default), figure1-mini, figure1-fmnist, figure1, table1,
    /// imagenet-mini or imagenet (assets/sweeps/).
    #[arg(long, conflicts_with = "config")]
    pub preset: Option<String>,
    /// A sweep file (TOML); see assets/sweeps/ for the format.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Keep only runs whose setting KEY has VALUE, e.g. --only model=mlp1x512 (repeatable: runs
    /// matching any VALUE of one KEY, and every KEY given).
    #[arg(long, value_name = "KEY=VALUE")]
    pub only: Vec<String>,
}

#[derive(Args)]
pub struct SweepArgs {
    #[command(flatten)]
    pub selection: SweepSelection,
    /// Results folder (default: results/<sweep name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Run shard I of N (1-based), a deterministic 1/N of the runs; N machines fill one folder.
    #[arg(long, default_value = "1/1")]
    pub shard: String,
    /// Runs trained at once on each adapter.
    #[arg(long, default_value_t = 1)]
    pub jobs: usize,
    /// Adapter name (substring), or `all` to spread runs over every adapter; default:
    /// $WGPU_ADAPTER_NAME or the best one.
    #[arg(long, visible_alias = "adapters")]
    pub adapter: Option<String>,
    /// List the runs and what is finished, and train nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not write the report after the runs.
    #[arg(long)]
    pub no_report: bool,
    /// Do not autotune GEMM and convolution kernels before the runs (shapes already in the autotune cache
    /// are still used; SHATTER_AUTOTUNE=off ignores the cache too).
    #[arg(long)]
    pub no_tune: bool,
    /// Data folder (default: $SHATTER_DATA or ./data).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Save each run's state to <out>/checkpoints/<run-id>/ once this many seconds have
    /// passed since its last save; 0: never. A restarted sweep continues its runs from them.
    #[arg(long, default_value_t = 60.0)]
    pub checkpoint_every: f64,
    /// bars, plain (one line per epoch per run) or none; default: bars on a terminal, else plain.
    #[arg(long, value_enum)]
    pub progress: Option<ProgressMode>,
}

impl SweepSelection {
    /// The sweep these arguments name, its runs filtered.
    pub fn sweep(&self) -> Result<Sweep> {
        let mut sweep = match (&self.config, &self.preset) {
            (Some(path), _) => Sweep::from_file(path)?,
            (None, preset) => Sweep::preset(preset.as_deref().unwrap_or("quick"))?,
        };
        // Filters on one setting keep a run that matches any of them; filters on
        // different settings must all match.
        let mut filters: Vec<(&str, Vec<&str>)> = Vec::new();
        for filter in &self.only {
            let (key, value) = filter.split_once('=').ok_or_else(|| {
                BadInput(format!(
                    "--only '{filter}': expected KEY=VALUE, e.g. model=mlp1x512"
                ))
            })?;
            let (key, value) = (key.trim(), value.trim());
            match filters.iter_mut().find(|(k, _)| *k == key) {
                Some((_, values)) => values.push(value),
                None => filters.push((key, vec![value])),
            }
        }
        for (key, values) in filters {
            sweep.keep_only(key, &values)?;
        }
        Ok(sweep)
    }
}

pub fn run(args: SweepArgs) -> Result<()> {
    let sweep = args.selection.sweep()?;
    let shard: Shard = args.shard.parse()?;
    if args.jobs == 0 {
        return Err(BadInput("--jobs must be at least 1 (got 0)".into()).into());
    }
    if !(args.checkpoint_every.is_finite() && args.checkpoint_every >= 0.0) {
        return Err(BadInput(format!(
            "--checkpoint-every must be a number of seconds >= 0 (got {})",
            args.checkpoint_every
        ))
        .into());
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(&sweep.name));
    let selected = shard.select(&sweep.runs);
    let results = read_results(&out)?;
    for skipped in &results.skipped {
        eprintln!("warning: {}: {skipped}", out.display());
    }
    let todo: Vec<_> = selected
        .iter()
        .filter(|r| !results.runs.contains_key(&r.id))
        .cloned()
        .collect();
    println!(
        "sweep {} ({}): {} runs{}, {} already finished in {}, {} to run",
        sweep.name,
        sweep.source,
        selected.len(),
        if shard == Shard::WHOLE {
            String::new()
        } else {
            format!(
                " in shard {}/{} of {}",
                shard.index,
                shard.count,
                sweep.runs.len()
            )
        },
        selected.len() - todo.len(),
        out.display(),
        todo.len()
    );
    if args.dry_run {
        for run in &selected {
            let c = &run.config;
            let state = if todo.iter().any(|t| t.id == run.id) {
                "to run"
            } else {
                "finished"
            };
            println!(
                "{}  {:<14} {:<16} seed {:<3} lr {} wd {} crop {} batch {} epochs {}  {state}",
                run.id,
                c.model,
                c.corrupt,
                c.seed,
                c.lr,
                c.weight_decay,
                c.random_crop,
                c.batch_size,
                c.epochs
            );
        }
        return Ok(());
    }
    std::fs::create_dir_all(out.join("runs"))
        .with_context(|| format!("{}: cannot create the results folder", out.display()))?;
    keep_sweep_file(&out, &sweep)?;

    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(shatter_data::default_data_dir);
    let started = Instant::now();
    let mut failed = 0;
    if !todo.is_empty() {
        let gpus = match args.adapter.as_deref() {
            Some("all") => Gpu::open_all()?,
            name => vec![Gpu::new(name)?],
        };
        for gpu in &gpus {
            println!(
                "adapter: {} ({} at once)",
                gpu.adapter().describe(),
                args.jobs
            );
            if !args.no_tune && !shatter::autotune::autotune_disabled() {
                tune_for_runs(gpu, &todo)?;
            }
        }
        let stop = crate::interrupt::stop_flag();
        let options = SweepOptions {
            jobs: args.jobs,
            checkpoint_every: (args.checkpoint_every > 0.0).then_some(args.checkpoint_every),
            stop: Some(&stop),
        };
        let mode = ProgressMode::resolve(args.progress);
        failed = train_runs(&gpus, &options, mode, todo, &out, &data_dir)?;
        if stop.load(std::sync::atomic::Ordering::Relaxed) {
            if options.checkpoint_every.is_some() {
                eprintln!(
                    "the runs in flight saved their state in {}; run the same command to continue them",
                    out.join("checkpoints").display()
                );
            }
            return Err(shatter::Interrupted { checkpoint: None }.into());
        }
    }
    println!(
        "sweep {}: runs done in {:.1}s",
        sweep.name,
        started.elapsed().as_secs_f64()
    );
    if !args.no_report {
        print_report(&out)?;
    }
    if failed > 0 {
        anyhow::bail!("{failed} runs failed (see above); rerun the sweep to retry them");
    }
    Ok(())
}

/// Autotune the GEMM shapes and convolutions of every (model, dataset, batch size, crop) the runs need,
/// where the cache lacks them: once per adapter and driver, then never again. Datasets
/// of unknown image size (image folders) keep the fixed default.
fn tune_for_runs(gpu: &Gpu, runs: &[shatter::sweep::PlannedRun]) -> Result<()> {
    let mut settings: Vec<(shatter_nn::ModelKind, shatter_nn::NetworkShape)> = Vec::new();
    for run in runs {
        let c = &run.config;
        let Some(dataset) = shatter_data::DatasetName::ALL
            .into_iter()
            .find(|d| d.as_str() == c.dataset)
        else {
            continue;
        };
        let Ok(model) = c.model.parse::<shatter_nn::ModelKind>() else {
            continue;
        };
        let ([channels, height, width], classes) = dataset.image_shape();
        let shape = shatter_nn::NetworkShape {
            input: [channels, height.min(c.crop), width.min(c.crop)],
            classes,
            batch: c.batch_size,
        };
        if !settings.contains(&(model, shape)) {
            settings.push((model, shape));
        }
    }
    for (model, shape) in settings {
        crate::tune::tune_models(gpu, &[model], shape, crate::tune::TuneOutput::PerModel)?;
    }
    Ok(())
}

/// Keep the sweep file beside its results, so the report can name the runs still missing.
fn keep_sweep_file(out: &std::path::Path, sweep: &Sweep) -> Result<()> {
    let path = out.join("sweep.toml");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        if existing == sweep.text {
            return Ok(());
        }
        eprintln!(
            "note: {} held another sweep file; replacing it (the runs already there stay and are reported)",
            path.display()
        );
    }
    shatter::write_atomic(&path, sweep.text.as_bytes())
}

/// Train the runs with a progress display: one bar for the sweep and one line per worker
/// on a terminal, or one plain line per epoch per run. Returns how many runs failed (runs
/// interrupted on request are not failures: their checkpoints continue them).
fn train_runs(
    gpus: &[Gpu],
    options: &SweepOptions<'_>,
    mode: ProgressMode,
    todo: Vec<shatter::sweep::PlannedRun>,
    out: &std::path::Path,
    data_dir: &std::path::Path,
) -> Result<usize> {
    let total = todo.len();
    let display = if mode == ProgressMode::Bars {
        MultiProgress::new()
    } else {
        MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::hidden())
    };
    let overall = display.add(ProgressBar::new(total as u64));
    overall.set_style(
        ProgressStyle::with_template("runs [{bar:30}] {pos}/{len}  elapsed {elapsed}  eta {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let workers = gpus.len() * options.jobs;
    let lines: Vec<ProgressBar> = (0..workers)
        .map(|_| {
            let line = display.add(ProgressBar::new(0));
            line.set_style(
                ProgressStyle::with_template("  {prefix} epoch {msg} [{bar:20}] {pos}/{len} steps")
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            line
        })
        .collect();
    let done = Mutex::new(0usize);
    // Per worker: the seconds of its run's epochs so far, for the ETA of a plain line.
    let epoch_seconds: Vec<Mutex<Vec<f64>>> =
        (0..workers).map(|_| Mutex::new(Vec::new())).collect();
    let name = |run: &shatter::sweep::PlannedRun| {
        let c = &run.config;
        format!("{} {} {} seed {}", run.id, c.model, c.corrupt, c.seed)
    };
    let failures = run_sweep(gpus, options, todo, out, data_dir, &|event| match event {
        SweepEvent::Started { worker, run } => {
            let c = &run.config;
            lines[worker].set_prefix(format!("{} {} seed {}", c.model, c.corrupt, c.seed));
            lines[worker].set_message(format!("1/{}", c.epochs));
            lines[worker].set_position(0);
            epoch_seconds[worker].lock().expect("epoch times").clear();
        }
        SweepEvent::Training {
            worker,
            run,
            progress,
        } => match progress {
            Progress::Started {
                steps_per_epoch, ..
            } => lines[worker].set_length(steps_per_epoch as u64),
            Progress::Resumed {
                checkpoint,
                epoch,
                step,
            } => display.suspend(|| {
                println!(
                    "{}: continuing from {} (after epoch {epoch}, step {step})",
                    name(run),
                    checkpoint.display()
                )
            }),
            Progress::CheckpointRefused { checkpoint, reason } => display.suspend(|| {
                eprintln!(
                    "note: {}: checkpoint {} is {reason}; starting the run over",
                    name(run),
                    checkpoint.display()
                )
            }),
            Progress::CheckpointNotSaved { checkpoint, reason } => display.suspend(|| {
                eprintln!(
                    "warning: {}: checkpoint {} not saved ({reason}); the run goes on",
                    name(run),
                    checkpoint.display()
                )
            }),
            Progress::Steps { epoch, done, .. } => {
                lines[worker].set_message(format!("{epoch}/{}", run.config.epochs));
                lines[worker].set_position(done as u64);
            }
            Progress::Epoch(e) => {
                if mode == ProgressMode::Plain {
                    let mut seconds = epoch_seconds[worker].lock().expect("epoch times");
                    seconds.push(e.seconds);
                    let mean = seconds.iter().sum::<f64>() / seconds.len() as f64;
                    println!("{}: {}", name(run), epoch_line(e, run.config.epochs, mean));
                }
            }
        },
        SweepEvent::Finished { run, record, .. } => {
            let n = {
                let mut d = done.lock().expect("counter lock");
                *d += 1;
                *d
            };
            overall.inc(1);
            let outcome = if record.diverged {
                "diverged".to_owned()
            } else if let Some(e) = record.converged_epoch {
                format!("fitted at epoch {e}")
            } else {
                format!("did not fit in {} epochs", record.epochs.len())
            };
            display.suspend(|| {
                println!(
                    "[{n}/{total}] {}: {outcome}, train {:.2}%, test {:.2}%, {:.1}s",
                    name(run),
                    100.0 * record.final_train_accuracy,
                    100.0 * record.final_test_accuracy,
                    record.wall_seconds
                )
            });
        }
        SweepEvent::Failed { run, error, .. } => {
            let message: Vec<String> = error.chain().map(|c| c.to_string()).collect();
            if error.is::<shatter::Interrupted>() {
                display.suspend(|| println!("{}: {}", name(run), message.join(": ")));
                return;
            }
            overall.inc(1);
            display.suspend(|| {
                eprintln!(
                    "run {} ({} {}) failed: {}",
                    run.id,
                    run.config.model,
                    run.config.corrupt,
                    message.join(": ")
                )
            });
        }
    });
    for line in lines {
        line.finish_and_clear();
    }
    overall.finish_and_clear();
    Ok(failures
        .iter()
        .filter(|f| !f.error.is::<shatter::Interrupted>())
        .count())
}

/// Write the report of `out` and say what it holds.
pub fn print_report(out: &std::path::Path) -> Result<()> {
    let summary = report::write_report(out)?;
    for skipped in &summary.skipped {
        eprintln!("warning: {}: {skipped}", out.display());
    }
    println!(
        "report of {} runs{}:",
        summary.runs,
        if summary.missing > 0 {
            format!(" ({} of sweep.toml not run yet)", summary.missing)
        } else {
            String::new()
        }
    );
    for file in &summary.files {
        println!("  {}", file.display());
    }
    Ok(())
}
