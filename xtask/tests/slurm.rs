//! `cargo xtask slurm --submit` against a real single-node Slurm cluster (Debian's
//! slurmctld, slurmd and munge, started for the test from xtask/tests/slurm/ and stopped by
//! their pids whatever happens): a tiny sweep as a 3-task array, one task requeued while its
//! run is mid-way, and the report job after the array. Every run must be there once, the
//! requeued run must have continued from its checkpoint and end with the record of a run
//! that was never interrupted, and the report must be written.
//!
//! It needs root (munge) and the Slurm packages; without them it skips, saying so, unless
//! SHATTER_REQUIRE_SLURM=1 (as CI sets), where it fails.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use shatter::sweep::{Shard, Sweep};

/// A running cluster; dropping it stops the daemons by their pid files.
struct Cluster {
    dir: tempfile::TempDir,
}

fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slurm")
}

impl Cluster {
    /// Start one, or say why not (and fail where Slurm is required).
    fn start() -> Option<Cluster> {
        let required = std::env::var("SHATTER_REQUIRE_SLURM").as_deref() == Ok("1");
        let missing = ["sbatch", "slurmctld", "slurmd", "munged"]
            .into_iter()
            .find(|program| {
                !Command::new("sh")
                    .args([
                        "-c",
                        &format!("command -v {program} || test -x /usr/sbin/{program}"),
                    ])
                    .output()
                    .is_ok_and(|o| o.status.success())
            });
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        let why = match (missing, root) {
            (Some(program), _) => format!("{program} is not installed"),
            (None, false) => "starting munge and Slurm's daemons needs root".into(),
            (None, true) => String::new(),
        };
        if !why.is_empty() {
            assert!(!required, "SHATTER_REQUIRE_SLURM=1 but {why}");
            eprintln!(
                "SKIPPED: no Slurm cluster: {why} (set SHATTER_REQUIRE_SLURM=1 to make this a failure)"
            );
            return None;
        }
        let cluster = Cluster {
            dir: tempfile::tempdir().unwrap(),
        };
        let started = Command::new(scripts().join("start.sh"))
            .env("SLURM_DIR", cluster.dir.path())
            .output()
            .unwrap();
        assert!(
            started.status.success(),
            "the cluster did not start:\n{}{}",
            String::from_utf8_lossy(&started.stdout),
            String::from_utf8_lossy(&started.stderr)
        );
        Some(cluster)
    }

    fn conf(&self) -> PathBuf {
        self.dir.path().join("etc/slurm.conf")
    }

    /// A Slurm client command pointed at this cluster.
    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command.env("SLURM_CONF", self.conf());
        command
    }

    fn run(&self, program: &str, args: &[&str]) -> String {
        let out = self.command(program).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Whether `job` (an array or a single job) still has tasks pending or running.
    fn queued(&self, job: &str) -> bool {
        !self.run("squeue", &["-h", "-j", job]).trim().is_empty()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(scripts().join("stop.sh"))
            .env("SLURM_DIR", self.dir.path())
            .output();
    }
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < limit,
            "gave up waiting for {what} after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

const SWEEP: &str = r#"
[sweep]
name = "tiny"
dataset = "fashion-mnist-mini"
subset = 1000
test_subset = 100
models = ["mlp1x512"]
corruptions = ["none", "random-labels", "shuffled-pixels"]
seeds = [1, 2]

[train]
batch_size = 32
epochs = 40
"#;

/// A record without what differs between sittings.
fn comparable(record: &shatter::RunRecord) -> String {
    let mut r = record.clone();
    r.wall_seconds = 0.0;
    r.images_per_second = 0.0;
    r.evaluation_seconds = 0.0;
    r.finished_unix = None;
    r.resumed.clear();
    r.checkpoints = Default::default();
    r.git_commit.clear();
    for e in &mut r.epochs {
        e.seconds = 0.0;
    }
    serde_json::to_string(&r).unwrap()
}

#[test]
fn a_sweep_runs_as_a_job_array_survives_a_requeue_and_reports() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    if shatter_tests::gpu().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tiny.toml");
    std::fs::write(&file, SWEEP).unwrap();
    let out = dir.path().join("results");
    let cache = dir.path().join("cache");
    let submitted = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["slurm", "--config", file.to_str().unwrap(), "--out"])
        .arg(&out)
        .args([
            "--tasks",
            "3",
            "--gpus-per-task",
            "0",
            "--cpus-per-task",
            "1",
            "--mem",
            "2000M",
            "--time",
            "15",
            "--checkpoint-every",
            "0.5",
            "--submit",
        ])
        .env("SLURM_CONF", cluster.conf())
        // What the tasks inherit: this test's autotune cache, no tuning of its own.
        .env("SHATTER_CACHE_DIR", &cache)
        .env("SHATTER_AUTOTUNE", "off")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&submitted.stdout).into_owned();
    assert!(
        submitted.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&submitted.stderr)
    );
    let ids = stdout
        .lines()
        .find_map(|l| l.strip_prefix("job_array="))
        .expect("the job ids are printed");
    let (array, report) = ids.split_once(" report_job=").unwrap();

    // Requeue task 2 once one of its runs has saved a checkpoint and is still training.
    let sweep = Sweep::parse(SWEEP, "tiny.toml").unwrap();
    let second = Shard { index: 2, count: 3 }.select(&sweep.runs);
    let requeued = {
        let mut caught = None;
        wait_for("a checkpoint of task 2", Duration::from_secs(240), || {
            caught = second.iter().find(|run| {
                out.join("checkpoints")
                    .join(&run.id)
                    .join("checkpoint.bin")
                    .is_file()
                    && !out.join("runs").join(format!("{}.json", run.id)).exists()
            });
            caught.is_some()
        });
        caught.unwrap().clone()
    };
    let task = format!("{array}_2");
    cluster.run("scontrol", &["requeue", &task]);
    cluster.run(
        "scontrol",
        &["update", &format!("jobid={task}"), "StartTime=now"],
    );
    wait_for(
        "the array and the report job",
        Duration::from_secs(600),
        || !cluster.queued(array) && !cluster.queued(report),
    );

    let results = shatter::sweep::read_results(&out).unwrap();
    assert!(results.skipped.is_empty(), "{:?}", results.skipped);
    let mut expected: Vec<&str> = sweep.runs.iter().map(|r| r.id.as_str()).collect();
    expected.sort_unstable();
    let found: Vec<&str> = results.runs.keys().map(String::as_str).collect();
    assert_eq!(found, expected, "every run once");
    let record = &results.runs[&requeued.id];
    assert!(
        !record.resumed.is_empty(),
        "run {} was requeued mid-way and should have continued from its checkpoint",
        requeued.id
    );
    let uninterrupted = shatter::run_training(
        shatter_tests::gpu().unwrap(),
        &requeued.config,
        Path::new("unused"),
        &Default::default(),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(comparable(record), comparable(&uninterrupted));
    assert!(
        out.join("report.md").is_file(),
        "the report job wrote the report"
    );
    let logs: Vec<String> = std::fs::read_dir(out.join("slurm/logs"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    let task_two = logs
        .iter()
        .find(|l| l.contains(&format!("task 2 of job {array}")))
        .expect("task 2 logged");
    assert!(task_two.contains("restart 1"), "{task_two}");
    assert!(task_two.contains("interrupted; saved"), "{task_two}");
    assert!(task_two.contains(": continuing from "), "{task_two}");
    assert!(
        std::fs::read_dir(out.join("checkpoints"))
            .map(|mut d| d.next().is_none())
            .unwrap_or(true),
        "finished runs leave no checkpoints"
    );
}
