//! `cargo xtask slurm`: a sweep as a Slurm job array. Task I of N runs shard I/N of the
//! sweep into one results folder on a file system every node shares, continuing the runs a
//! preemption or requeue interrupted from their checkpoints; a last job, started when the
//! array has ended however it ended, writes the report. shatter schedules nothing itself:
//! the shards split the runs exactly, and the folder takes any number of writers.
//!
//! It is a command of its own rather than a flag of `sweep`, because it runs nothing: it
//! writes two sbatch scripts (and with `--submit` hands them to sbatch), and its settings
//! are the cluster's (partition, time, GPUs, memory), not a run's.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};
use clap::Args;

use crate::BadInput;
use crate::sweep::SweepSelection;

#[derive(Args)]
pub struct SlurmArgs {
    #[command(flatten)]
    pub selection: SweepSelection,
    /// Results folder, on a file system every node shares; its parent must exist.
    #[arg(long)]
    pub out: PathBuf,
    /// Array tasks, each running one shard of the sweep (default: one per run, at most 100).
    #[arg(long)]
    pub tasks: Option<usize>,
    /// Partition (default: the cluster's).
    #[arg(long)]
    pub partition: Option<String>,
    /// Account to charge (default: yours).
    #[arg(long)]
    pub account: Option<String>,
    /// Time limit of each task: minutes, or [D-]HH:MM:SS. A task that reaches it saves its
    /// run's checkpoint first (SIGTERM 2 minutes before); submit again to go on.
    #[arg(long, default_value = "24:00:00", allow_hyphen_values = true)]
    pub time: String,
    /// GPUs per task (0 on a cluster of CPUs; shatter then uses a CPU adapter).
    #[arg(long, default_value_t = 1)]
    pub gpus_per_task: u32,
    #[arg(long, default_value_t = 4)]
    pub cpus_per_task: u32,
    /// Memory per task, as sbatch takes it (16G, 4000M).
    #[arg(long, default_value = "16G")]
    pub mem: String,
    /// Runs each task trains at once on its GPU.
    #[arg(long, default_value_t = 1)]
    pub jobs: usize,
    /// Seconds between a run's checkpoints.
    #[arg(long, default_value_t = 60.0)]
    pub checkpoint_every: f64,
    /// The shatter command line the tasks run (default: this one, which must be on the shared
    /// file system too).
    #[arg(long)]
    pub binary: Option<PathBuf>,
    /// Data folder the tasks read (default: theirs, $SHATTER_DATA or ./data).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Submit the scripts with sbatch and print the job ids (default: write and print them).
    #[arg(long)]
    pub submit: bool,
}

/// Tasks when `--tasks` is not given: one per run, up to this many.
const DEFAULT_MAX_TASKS: usize = 100;

/// What the scripts are made of, every path absolute.
struct Plan {
    name: String,
    runs: usize,
    tasks: usize,
    out: PathBuf,
    sweep_file: PathBuf,
    binary: PathBuf,
    logs: PathBuf,
}

pub fn run(args: SlurmArgs) -> Result<()> {
    let sweep = args.selection.sweep()?;
    validate(&args)?;
    let out = shared_folder(&args.out)?;
    let runs = sweep.runs.len();
    let tasks = args
        .tasks
        .unwrap_or(runs.min(DEFAULT_MAX_TASKS))
        .min(runs)
        .max(1);
    let binary = match &args.binary {
        Some(path) => absolute(path)?,
        None => std::env::current_exe().context("finding this program's path")?,
    };
    let dir = out.join("slurm");
    let plan = Plan {
        name: sweep.name.clone(),
        runs,
        tasks,
        sweep_file: dir.join(format!("{}.toml", sweep.name)),
        logs: dir.join("logs"),
        out,
        binary,
    };
    std::fs::create_dir_all(&plan.logs)
        .with_context(|| format!("{}: cannot create", plan.logs.display()))?;
    // The tasks read their own copy, so editing the original later changes nothing under way.
    shatter::write_atomic(&plan.sweep_file, sweep.text.as_bytes())?;
    let array = dir.join(format!("{}.sbatch", sweep.name));
    let report = dir.join(format!("{}-report.sbatch", sweep.name));
    shatter::write_atomic(&array, array_script(&args, &plan).as_bytes())?;
    shatter::write_atomic(&report, report_script(&args, &plan).as_bytes())?;
    if !args.submit {
        print!("{}", array_script(&args, &plan));
        println!(
            "\nwrote {} ({} runs in {} tasks) and {}; submit them with\n  \
             job=$(sbatch --parsable {})\n  sbatch --dependency=afterany:${{job%%;*}} {}",
            array.display(),
            plan.runs,
            plan.tasks,
            report.display(),
            array.display(),
            report.display()
        );
        return Ok(());
    }
    let job = sbatch(&[array.as_os_str()])?;
    let dependency = format!("--dependency=afterany:{job}");
    let report_job = sbatch(&[dependency.as_ref(), report.as_os_str()])?;
    println!(
        "submitted {} runs of sweep {} as job array {job} ({} tasks); the report follows as job {report_job}",
        plan.runs, plan.name, plan.tasks
    );
    println!("job_array={job} report_job={report_job}");
    Ok(())
}

/// One line per bad setting, before anything is written.
fn validate(args: &SlurmArgs) -> Result<()> {
    if args.tasks == Some(0) {
        return Err(BadInput("--tasks must be at least 1 (got 0)".into()).into());
    }
    if args.jobs == 0 {
        return Err(BadInput("--jobs must be at least 1 (got 0)".into()).into());
    }
    if args.cpus_per_task == 0 {
        return Err(BadInput("--cpus-per-task must be at least 1 (got 0)".into()).into());
    }
    if !time_limit_is_valid(&args.time) {
        return Err(BadInput(format!(
            "--time '{}': expected minutes or [D-]HH:MM:SS, e.g. 90 or 1-12:00:00",
            args.time
        ))
        .into());
    }
    if !memory_is_valid(&args.mem) {
        return Err(BadInput(format!(
            "--mem '{}': expected a size as sbatch takes it, e.g. 16G or 4000M",
            args.mem
        ))
        .into());
    }
    if !(args.checkpoint_every.is_finite() && args.checkpoint_every > 0.0) {
        return Err(BadInput(format!(
            "--checkpoint-every must be a number of seconds > 0 (got {}): tasks that are preempted continue from checkpoints",
            args.checkpoint_every
        ))
        .into());
    }
    Ok(())
}

/// Slurm's forms without the ones that name no time: minutes, MM:SS, HH:MM:SS, D-HH,
/// D-HH:MM, D-HH:MM:SS, each part a number, and not all zero.
fn time_limit_is_valid(time: &str) -> bool {
    let (days, rest) = match time.split_once('-') {
        Some((d, rest)) => (Some(d), rest),
        None => (None, time),
    };
    let parts: Vec<&str> = rest.split(':').collect();
    let numbers = days
        .into_iter()
        .chain(parts.iter().copied())
        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let shape = (1..=3).contains(&parts.len());
    let nonzero = time.bytes().any(|b| (b'1'..=b'9').contains(&b));
    numbers && shape && nonzero
}

/// A whole number with an optional K, M, G or T.
fn memory_is_valid(mem: &str) -> bool {
    let digits = mem.trim_end_matches(['K', 'M', 'G', 'T']);
    mem.len() - digits.len() <= 1
        && !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && digits.bytes().any(|b| b != b'0')
}

/// `out` made absolute: its parent must exist (the shared file system), and it is created.
fn shared_folder(out: &Path) -> Result<PathBuf> {
    let out = absolute(out)?;
    let parent = out.parent().unwrap_or(Path::new("/"));
    if !parent.is_dir() {
        return Err(BadInput(format!(
            "--out {}: {} does not exist (the results folder goes on a file system every node shares)",
            out.display(),
            parent.display()
        ))
        .into());
    }
    std::fs::create_dir_all(&out).with_context(|| format!("{}: cannot create", out.display()))?;
    Ok(out)
}

fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("{}: cannot make absolute", path.display()))
}

/// Quoted for bash: single quotes, with any single quote closed, escaped and reopened.
fn quote(text: impl AsRef<std::ffi::OsStr>) -> String {
    format!(
        "'{}'",
        text.as_ref().to_string_lossy().replace('\'', r"'\''")
    )
}

fn array_script(args: &SlurmArgs, plan: &Plan) -> String {
    let mut lines = vec![
        "#!/bin/bash".to_owned(),
        format!(
            "# shatter: sweep {} ({} runs) as a job array; task I trains shard I/{} into one folder.",
            plan.name, plan.runs, plan.tasks
        ),
        "# Written by `cargo xtask slurm`; edit as you need. A task that is preempted or requeued"
            .into(),
        "# continues its run from its checkpoint, and skips the runs already in runs/.".into(),
        format!("#SBATCH --job-name=shatter-{}", plan.name),
        format!("#SBATCH --array=1-{}", plan.tasks),
    ];
    lines.extend(cluster_lines(args, &args.time));
    if args.gpus_per_task > 0 {
        lines.push(format!("#SBATCH --gres=gpu:{}", args.gpus_per_task));
    }
    lines.extend([
        format!("#SBATCH --cpus-per-task={}", args.cpus_per_task),
        format!("#SBATCH --mem={}", args.mem),
        "#SBATCH --requeue".into(),
        "#SBATCH --open-mode=append".into(),
        format!("#SBATCH --output={}/%x-%A_%a.log", plan.logs.display()),
        "# SIGTERM to shatter two minutes before the time limit: it saves the run's checkpoint.".into(),
        "#SBATCH --signal=B:TERM@120".into(),
        String::new(),
        "set -euo pipefail".into(),
        "echo \"task ${SLURM_ARRAY_TASK_ID} of job ${SLURM_ARRAY_JOB_ID} on $(hostname), restart ${SLURM_RESTART_COUNT:-0}, $(date)\"".into(),
        "# The shard count is written out: a requeued or resubmitted task may see another".into(),
        "# SLURM_ARRAY_TASK_COUNT.".into(),
    ]);
    let mut command = vec![
        "exec".to_owned(),
        quote(&plan.binary),
        "sweep".into(),
        "--config".into(),
        quote(&plan.sweep_file),
        "--out".into(),
        quote(&plan.out),
        "--shard".into(),
        format!("\"${{SLURM_ARRAY_TASK_ID}}/{}\"", plan.tasks),
        "--jobs".into(),
        args.jobs.to_string(),
        "--checkpoint-every".into(),
        args.checkpoint_every.to_string(),
        "--no-report".into(),
        "--progress".into(),
        "plain".into(),
    ];
    for only in &args.selection.only {
        command.extend(["--only".into(), quote(only)]);
    }
    if let Some(dir) = &args.data_dir {
        command.extend(["--data-dir".into(), quote(dir)]);
    }
    lines.push(command.join(" "));
    lines.join("\n") + "\n"
}

fn report_script(args: &SlurmArgs, plan: &Plan) -> String {
    let mut lines = vec![
        "#!/bin/bash".to_owned(),
        format!(
            "# shatter: the report of sweep {}, once its job array has ended (submit it with",
            plan.name
        ),
        "# --dependency=afterany:<the array's job id>). It reads whatever runs/ holds.".into(),
        format!("#SBATCH --job-name=shatter-{}-report", plan.name),
    ];
    lines.extend(cluster_lines(args, "00:30:00"));
    lines.extend([
        "#SBATCH --cpus-per-task=1".into(),
        "#SBATCH --mem=4G".into(),
        "#SBATCH --open-mode=append".into(),
        format!("#SBATCH --output={}/%x-%j.log", plan.logs.display()),
        String::new(),
        "set -euo pipefail".into(),
        format!("exec {} report {}", quote(&plan.binary), quote(&plan.out)),
    ]);
    lines.join("\n") + "\n"
}

/// The partition, account and time lines both scripts share.
fn cluster_lines(args: &SlurmArgs, time: &str) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(partition) = &args.partition {
        lines.push(format!("#SBATCH --partition={partition}"));
    }
    if let Some(account) = &args.account {
        lines.push(format!("#SBATCH --account={account}"));
    }
    lines.push(format!("#SBATCH --time={time}"));
    lines
}

/// Run sbatch with `args`; the job id it prints (`--parsable`: "id" or "id;cluster").
fn sbatch(args: &[&std::ffi::OsStr]) -> Result<String> {
    let output = Command::new("sbatch")
        .arg("--parsable")
        .args(args)
        .output()
        .map_err(|e| {
            BadInput(format!(
                "sbatch: cannot run it ({e}); run `cargo xtask slurm --submit` on a Slurm login node, or leave out --submit"
            ))
        })?;
    if !output.status.success() {
        anyhow::bail!(
            "sbatch failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let id = text.trim().split(';').next().unwrap_or_default().to_owned();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        anyhow::bail!("sbatch printed '{}', not a job id", text.trim());
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_limits_take_slurms_forms() {
        for good in ["90", "30:00", "24:00:00", "1-12", "2-00:30", "1-12:00:00"] {
            assert!(time_limit_is_valid(good), "{good}");
        }
        for bad in [
            "-5", "0", "00:00:00", "1:2:3:4", "ten", "", "1-", "12:xx", "1-2-3",
        ] {
            assert!(!time_limit_is_valid(bad), "{bad}");
        }
    }

    #[test]
    fn memory_takes_a_size_with_one_unit() {
        for good in ["16G", "4000M", "512", "1T"] {
            assert!(memory_is_valid(good), "{good}");
        }
        for bad in ["", "G", "0", "0G", "16GB", "-1G", "1.5G"] {
            assert!(!memory_is_valid(bad), "{bad}");
        }
    }

    #[test]
    fn quoting_survives_spaces_and_quotes() {
        assert_eq!(quote("/a b/c"), "'/a b/c'");
        assert_eq!(quote("it's"), r"'it'\''s'");
    }
}
