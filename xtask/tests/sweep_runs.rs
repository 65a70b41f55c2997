//! `cargo xtask sweep` end to end on the test adapter: a sweep killed mid-run and started
//! again finishes with every run there once and intact; the quick preset's MLP half runs
//! and shows the paper's effects; `rademacher` shatters a small sample and not a large one.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use shatter::sweep::{Sweep, read_results};

/// This test binary's autotune cache, apart from the user's.
fn cache_dir() -> &'static Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

fn xtask() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command.env("SHATTER_CACHE_DIR", cache_dir());
    command
}

/// Run `xtask args`, require success, and return its stdout (stderr shown on failure).
fn run_ok<S: AsRef<std::ffi::OsStr>>(args: impl IntoIterator<Item = S>) -> String {
    let run = xtask().args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    stdout
}

/// Whether a GPU test may run here (it fails under SHATTER_REQUIRE_ADAPTER=1 without one).
fn have_adapter() -> bool {
    shatter_tests::gpu().is_some()
}

fn finished_files(out: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(out.join("runs"))
        .map(|entries| {
            entries
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "json"))
                .map(|p| {
                    let name = p.file_name().unwrap().to_string_lossy().into_owned();
                    (name, std::fs::read(&p).unwrap())
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

const RESUMABLE: &str = r#"
[sweep]
name = "resume"
dataset = "fashion-mnist-mini"
subset = 64
test_subset = 64
models = ["mlp1x512"]
corruptions = ["none", "labels:0.5", "random-labels", "shuffled-pixels"]
seeds = [1, 2]

[train]
batch_size = 16
epochs = 40
"#;

#[test]
fn a_killed_sweep_restarts_and_finishes_with_every_run_once_and_intact() {
    if !have_adapter() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("resume.toml");
    std::fs::write(&config, RESUMABLE).unwrap();
    let out = dir.path().join("out");
    let planned = Sweep::from_file(&config).unwrap().runs;
    assert_eq!(planned.len(), 8);
    let args = [
        "sweep",
        "--config",
        config.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--no-report",
    ];

    // Kill it (SIGKILL: no chance to clean up) once two runs are written.
    let mut child = xtask()
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while finished_files(&out).len() < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no run finished in 5 minutes"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the sweep ended before it was killed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before = finished_files(&out);
    assert!(
        (2..planned.len()).contains(&before.len()),
        "killed with {} of {} runs written",
        before.len(),
        planned.len()
    );
    let results = read_results(&out).unwrap();
    assert!(
        results.skipped.is_empty(),
        "a kill left a broken record: {:?}",
        results.skipped
    );

    // Start it again, two runs at a time: the finished runs are skipped, the rest run.
    let stdout = run_ok(args.iter().chain(&["--jobs", "2"]));
    assert!(
        stdout.contains(&format!(
            "8 runs, {} already finished in {}, {} to run",
            before.len(),
            out.display(),
            8 - before.len()
        )),
        "{stdout}"
    );
    let after = finished_files(&out);
    let names: Vec<String> = after.iter().map(|(n, _)| n.clone()).collect();
    let mut expected: Vec<String> = planned.iter().map(|r| format!("{}.json", r.id)).collect();
    expected.sort();
    assert_eq!(names, expected, "every planned run once, nothing else");
    for (name, bytes) in &before {
        let now = &after.iter().find(|(n, _)| n == name).unwrap().1;
        assert_eq!(
            now, bytes,
            "{name} was rewritten; a finished run must be kept as it is"
        );
    }
    let results = read_results(&out).unwrap();
    assert_eq!(results.runs.len(), 8);
    assert!(results.skipped.is_empty(), "{:?}", results.skipped);
    let leftovers: Vec<_> = std::fs::read_dir(out.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // A third start has nothing to do.
    assert!(run_ok(args).contains("8 runs, 8 already finished"));
    assert_eq!(finished_files(&out), after);
}

#[test]
fn the_quick_presets_mlp_runs_fit_every_mode_and_show_the_papers_effects() {
    if !have_adapter() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    let stdout = run_ok([
        "sweep",
        "--only",
        "model=mlp1x512",
        "--out",
        out.to_str().unwrap(),
    ]);
    let results = read_results(out).unwrap();
    assert_eq!(results.runs.len(), 9, "{stdout}");
    // The sweep tuned the MLP's GEMMs first (batch 32, 784 -> 512 -> 10), and every run used them.
    let cache = std::fs::read_to_string(cache_dir().join("autotune.json")).unwrap();
    for key in [
        "32x512x784",
        "784x512x32-ta",
        "32x10x512",
        "512x10x32-ta",
        "32x512x10-tb",
    ] {
        assert!(
            cache.contains(&format!("\"{key}\"")),
            "{key} not tuned:\n{cache}"
        );
    }
    for record in results.runs.values() {
        assert!(
            record
                .adapter
                .gemm_variant
                .ends_with("(5 of 5 shapes tuned)"),
            "{}",
            record.adapter.gemm_variant
        );
    }
    let by_mode = |mode: &str| {
        results
            .runs
            .values()
            .find(|r| r.config.corrupt == mode)
            .unwrap_or_else(|| panic!("no {mode} run"))
    };
    for record in results.runs.values() {
        assert_eq!(
            record.converged_epoch.map(|_| record.final_train_accuracy),
            Some(1.0),
            "{} did not fit 100% of its training set",
            record.config.corrupt
        );
    }
    // Random labels take longer to fit than true labels.
    let images = |mode: &str| by_mode(mode).converged_images.unwrap();
    assert!(
        4 * images("random-labels") > 5 * images("none"),
        "{} vs {}",
        images("random-labels"),
        images("none")
    );
    // Test error rises with the corruption level, to chance at p = 1.
    let error = |mode: &str| 1.0 - by_mode(mode).final_test_accuracy;
    let levels = ["none", "labels:0.4", "labels:0.8", "random-labels"];
    for pair in levels.windows(2) {
        assert!(
            error(pair[0]) < error(pair[1]),
            "test error {pair:?}: {} then {}",
            error(pair[0]),
            error(pair[1])
        );
    }
    assert!(
        (0.8..=0.95).contains(&error("random-labels")),
        "{}",
        error("random-labels")
    );
    for file in [
        "figure1a-mlp1x512.png",
        "figure1b.png",
        "figure1c.png",
        "table1.csv",
        "table1.md",
        "report.md",
        "sweep.toml",
    ] {
        assert!(out.join(file).is_file(), "no {file}");
    }
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("- Runs: 9 finished: 9 fitted, 0 did not fit, 0 diverged; 9 runs of sweep.toml not run yet"), "{report}");
}

#[test]
fn rademacher_is_near_one_on_a_small_sample_and_falls_on_a_large_one() {
    if !have_adapter() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    run_ok([
        "rademacher",
        "--model",
        "mlp1x512",
        "--n",
        "32,1024",
        "--draws",
        "2",
        "--epochs",
        "8",
        "--batch-size",
        "16",
        "--out",
        out.to_str().unwrap(),
    ]);
    let points: Vec<shatter::rademacher::RademacherPoint> =
        serde_json::from_slice(&std::fs::read(out.join("rademacher.json")).unwrap()).unwrap();
    assert_eq!(points.iter().map(|p| p.n).collect::<Vec<_>>(), [32, 1024]);
    assert_eq!(points[0].draws.len(), 2);
    assert_eq!(
        points[0].mean, 1.0,
        "32 random signs are fitted exactly: {:?}",
        points[0]
    );
    assert!(
        points[1].mean < 0.85,
        "1024 signs in 8 epochs are not: {:?}",
        points[1]
    );
    assert!(
        points[1].mean > 0.0,
        "but training still correlates with them: {:?}",
        points[1]
    );
    assert!(out.join("rademacher.png").is_file());
}

#[test]
fn the_imagenet_mini_preset_streams_and_fits_random_labels_into_table_2() {
    if !have_adapter() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let data = dir.path().join("data");
    let stdout = run_ok([
        "sweep",
        "--preset",
        "imagenet-mini",
        "--out",
        out.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(
        data.join("imagenet-mini/train/n01440764").is_dir(),
        "the preset made its dataset"
    );
    let results = read_results(&out).unwrap();
    assert_eq!(results.runs.len(), 2, "{stdout}");
    for record in results.runs.values() {
        let mode = &record.config.corrupt;
        assert!(record.streamed, "{mode}: streamed from disk");
        assert_eq!(record.dataset, "imagenet-mini");
        assert_eq!((record.train_images, record.test_images), (40, 20));
        assert_eq!(record.input_shape, [3, 75, 75]);
        assert_eq!(record.classes, 10);
        assert_eq!(
            record.converged_epoch.map(|_| record.final_train_accuracy),
            Some(1.0),
            "{mode}: fits all 40 training images (evaluated)"
        );
        // Top-5 of 10 classes is measured, not a formality: below 100% on random labels'
        // test set, at or above top-1.
        assert!(record.final_test_top5_accuracy >= record.final_test_accuracy);
        let last = record
            .epochs
            .iter()
            .rev()
            .find(|e| e.test_evaluated)
            .unwrap();
        assert_eq!(last.test_top5_accuracy, record.final_test_top5_accuracy);
    }
    let random = results
        .runs
        .values()
        .find(|r| r.config.corrupt == "random-labels")
        .unwrap();
    assert!(
        random.final_test_accuracy <= 0.3,
        "random labels generalize to nothing: {}",
        random.final_test_accuracy
    );
    let table2 = std::fs::read_to_string(out.join("table2.md")).unwrap();
    let row = |labels: &str| {
        table2
            .lines()
            .find(|l| l.starts_with(&format!("| {labels} | no | no | no | 1 | 100.00 |")))
            .unwrap_or_else(|| panic!("no fitted {labels}-labels row:\n{table2}"))
            .to_owned()
    };
    assert!(row("true").ends_with("| — |"), "{table2}");
    assert!(row("random").ends_with("| 95.20 |"), "{table2}");
}
