//! Interrupted runs on the command line: `train` and `sweep` killed with SIGKILL mid-run, or
//! stopped with SIGTERM (what Slurm sends first), continue from their checkpoints when the
//! same command runs again, and end with the records of uninterrupted runs. A damaged
//! checkpoint is named in one line and the run starts over.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// This test binary's autotune cache, apart from the user's.
fn cache_dir() -> &'static Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

fn xtask(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command.args(args).env("SHATTER_CACHE_DIR", cache_dir());
    command
}

/// Run to the end; require success; return (stdout, stderr).
fn run_ok(args: &[&str]) -> (String, String) {
    let out = xtask(args).output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "{args:?}:\n{stdout}\n{stderr}");
    (stdout, stderr)
}

/// A run record without what differs between sittings (timings, resumes, checkpoints).
fn comparable(path: &Path) -> serde_json::Value {
    let mut record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let object = record.as_object_mut().unwrap();
    for key in [
        "wall_seconds",
        "images_per_second",
        "evaluation_seconds",
        "finished_unix",
        "resumed",
        "checkpoints",
    ] {
        object.remove(key).expect(key);
    }
    for epoch in object["epochs"].as_array_mut().unwrap() {
        epoch.as_object_mut().unwrap().remove("seconds");
    }
    record
}

/// Start `args` with stdout piped; read its lines until one satisfies `ready` and
/// `also` holds, then return the child, still running.
fn start_until(args: &[&str], ready: impl Fn(&str) -> bool, also: impl Fn() -> bool) -> Child {
    let mut child = xtask(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    loop {
        let line = lines
            .next()
            .expect("the run ended before it could be interrupted")
            .unwrap();
        if ready(&line) && also() {
            break;
        }
    }
    // Keep draining stdout so the child never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    child
}

fn have_adapter() -> bool {
    shatter_tests::gpu().is_some()
}

const TRAIN: [&str; 14] = [
    "train",
    "--subset",
    "2000",
    "--test-subset",
    "100",
    "--batch-size",
    "32",
    "--corrupt",
    "random-labels",
    "--epochs",
    "12",
    "--progress",
    "plain",
    "--out",
];

#[test]
fn a_train_run_killed_or_stopped_continues_to_the_uninterrupted_record() {
    if !have_adapter() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole");
    let mut args = TRAIN.to_vec();
    let whole_arg = whole.to_str().unwrap();
    args.extend([whole_arg, "--checkpoint-every", "0"]);
    run_ok(&args);
    let expected = comparable(&whole.join("run.json"));

    // SIGKILL once a checkpoint is on disk and the run has trained past it.
    let killed = dir.path().join("killed");
    let killed_arg = killed.to_str().unwrap();
    let mut args = TRAIN.to_vec();
    args.extend([killed_arg, "--checkpoint-every", "0.2"]);
    let checkpoint = killed.join("checkpoint.bin");
    let mut child = start_until(
        &args,
        |line| line.starts_with("epoch   4/"),
        || checkpoint.is_file(),
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !killed.join("run.json").exists(),
        "killed before it finished"
    );
    let (stdout, _) = run_ok(&args);
    assert!(
        stdout.contains(&format!("continuing from {}", checkpoint.display())),
        "{stdout}"
    );
    assert_eq!(comparable(&killed.join("run.json")), expected);
    assert!(
        !checkpoint.exists(),
        "a finished run removes its checkpoint"
    );

    #[cfg(unix)]
    stop_with_sigterm(dir.path(), &expected);
}

/// SIGTERM: a checkpoint saved at once, exit status 130, then the uninterrupted record.
#[cfg(unix)]
fn stop_with_sigterm(dir: &Path, expected: &serde_json::Value) {
    let stopped = dir.join("stopped");
    let stopped_arg = stopped.to_str().unwrap();
    let mut args = TRAIN.to_vec();
    args.extend([stopped_arg, "--checkpoint-every", "1000"]);
    let child = start_until(&args, |line| line.starts_with("epoch   2/"), || true);
    // SAFETY: kill(2) on a child we started and have not reaped.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let checkpoint = stopped.join("checkpoint.bin");
    assert!(checkpoint.is_file(), "SIGTERM saves a checkpoint");
    let (stdout, _) = run_ok(&args);
    assert!(stdout.contains("continuing from"), "{stdout}");
    assert_eq!(&comparable(&stopped.join("run.json")), expected);
}

#[test]
fn a_damaged_checkpoint_is_named_and_the_run_starts_over() {
    if !have_adapter() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    std::fs::create_dir_all(&out).unwrap();
    let checkpoint = out.join("checkpoint.bin");
    // A file cut short: the magic is there, the rest does not add up.
    std::fs::write(
        &checkpoint,
        b"shatter checkpoint\n\x40\0\0\0\0\0\0\0{\"format\":1, and then the file ends here",
    )
    .unwrap();
    let args = [
        "train",
        "--subset",
        "256",
        "--test-subset",
        "64",
        "--epochs",
        "2",
        "--out",
        out.to_str().unwrap(),
    ];
    let (stdout, stderr) = run_ok(&args);
    let notes: Vec<&str> = stderr.lines().filter(|l| l.starts_with("note:")).collect();
    assert_eq!(
        notes,
        [format!(
            "note: checkpoint {} is truncated or damaged (its checksum does not match); starting the run over",
            checkpoint.display()
        )]
    );
    assert!(!stdout.contains("continuing"), "{stdout}");
    assert!(out.join("run.json").is_file());
    assert!(
        !checkpoint.exists(),
        "replaced and then removed with the finished run"
    );

    let (code, stderr) = {
        let out = xtask(&[&args[..], &["--resume"]].concat())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.ends_with(&format!(
            "error: --resume: no checkpoint at {}\n",
            checkpoint.display()
        )),
        "{stderr}"
    );
}

const SWEEP: &str = r#"
[sweep]
name = "interrupted"
dataset = "fashion-mnist-mini"
subset = 1500
test_subset = 100
models = ["mlp1x512"]
corruptions = ["random-labels", "shuffled-pixels"]

[train]
batch_size = 32
epochs = 8
"#;

#[test]
fn a_killed_sweep_continues_its_runs_to_the_uninterrupted_records() {
    if !have_adapter() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("interrupted.toml");
    std::fs::write(&config, SWEEP).unwrap();
    let sweep = |out: &Path, every: &str| -> Vec<String> {
        vec![
            "sweep".into(),
            "--config".into(),
            config.to_str().unwrap().into(),
            "--out".into(),
            out.to_str().unwrap().into(),
            "--no-report".into(),
            "--no-tune".into(),
            "--progress".into(),
            "plain".into(),
            "--checkpoint-every".into(),
            every.into(),
        ]
    };
    let whole = dir.path().join("whole");
    let args = sweep(&whole, "0");
    run_ok(&args.iter().map(String::as_str).collect::<Vec<_>>());

    let killed = dir.path().join("killed");
    let args = sweep(&killed, "0.2");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let checkpoints = killed.join("checkpoints");
    let has_checkpoint = || {
        std::fs::read_dir(&checkpoints).is_ok_and(|runs| {
            runs.flatten()
                .any(|run| run.path().join("checkpoint.bin").is_file())
        })
    };
    let mut child = start_until(&args, |line| line.contains("epoch   3/"), has_checkpoint);
    child.kill().unwrap();
    child.wait().unwrap();
    let (stdout, _) = run_ok(&args);
    assert!(stdout.contains(": continuing from "), "{stdout}");

    let records = |out: &Path| -> Vec<(String, serde_json::Value)> {
        let mut files: Vec<_> = std::fs::read_dir(out.join("runs"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| {
                (
                    p.file_name().unwrap().to_string_lossy().into_owned(),
                    comparable(p),
                )
            })
            .collect()
    };
    let expected = records(&whole);
    assert_eq!(expected.len(), 2);
    assert_eq!(records(&killed), expected);
    assert!(
        std::fs::read_dir(&checkpoints).unwrap().next().is_none(),
        "finished runs leave no checkpoints"
    );
}
