//! One results folder, many writers at once, as on a cluster's shared file system: three
//! shards of a sweep, one of them started twice (a task rerun while its first sitting still
//! runs), and a second sweep with another file, all writing runs/ and checkpoints/ at the
//! same time. No run may be lost or written twice, no record torn, no temporary file left.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command};

use shatter::sweep::Sweep;

const FIRST: &str = r#"
[sweep]
name = "first"
dataset = "fashion-mnist-mini"
subset = 256
test_subset = 64
models = ["mlp1x512"]
corruptions = ["none", "random-labels", "shuffled-pixels", "random-pixels"]
seeds = [1, 2]

[train]
batch_size = 32
epochs = 6
"#;

const SECOND: &str = r#"
[sweep]
name = "second"
dataset = "fashion-mnist-mini"
subset = 256
test_subset = 64
models = ["mlp1x512"]
corruptions = ["labels:0.5", "gaussian"]
seeds = [1, 2]

[train]
batch_size = 32
epochs = 6
"#;

fn sweep(file: &Path, out: &Path, cache: &Path, shard: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["sweep", "--config"])
        .arg(file)
        .arg("--out")
        .arg(out)
        .args([
            "--shard",
            shard,
            "--no-report",
            "--no-tune",
            "--progress",
            "none",
            "--checkpoint-every",
            "0.05",
        ])
        .env("SHATTER_CACHE_DIR", cache)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Every file below `dir`, as paths relative to it.
fn files(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        for entry in std::fs::read_dir(&at).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                found.push(path.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    found
}

#[test]
fn many_writers_on_one_folder_lose_nothing_and_duplicate_nothing() {
    if shatter_tests::gpu().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (
        dir.path().join("first.toml"),
        dir.path().join("second.toml"),
    );
    std::fs::write(&first, FIRST).unwrap();
    std::fs::write(&second, SECOND).unwrap();
    let out = dir.path().join("shared");
    let cache = dir.path().join("cache");
    let writers = vec![
        sweep(&first, &out, &cache, "1/3"),
        sweep(&first, &out, &cache, "2/3"),
        sweep(&first, &out, &cache, "3/3"),
        sweep(&first, &out, &cache, "1/3"),
        sweep(&second, &out, &cache, "1/1"),
    ];
    for writer in writers {
        let done = writer.wait_with_output().unwrap();
        assert!(
            done.status.success(),
            "{}",
            String::from_utf8_lossy(&done.stderr)
        );
    }

    let results = shatter::sweep::read_results(&out).unwrap();
    assert!(results.skipped.is_empty(), "{:?}", results.skipped);
    let expected: BTreeSet<String> = [FIRST, SECOND]
        .iter()
        .flat_map(|text| Sweep::parse(text, "sweep").unwrap().runs)
        .map(|run| run.id)
        .collect();
    let found: BTreeSet<String> = results.runs.keys().cloned().collect();
    assert_eq!(found, expected, "every run of both sweeps, once");
    for (id, record) in &results.runs {
        assert_eq!(shatter::sweep::run_id(&record.config), *id);
        assert!(!record.epochs.is_empty(), "{id}: a whole record");
    }
    let leftovers: Vec<String> = files(&out)
        .into_iter()
        .filter(|f| f.ends_with(".tmp") || f.starts_with("checkpoints/"))
        .collect();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
    let runs = std::fs::read_dir(out.join("runs")).unwrap().count();
    assert_eq!(runs, expected.len(), "nothing in runs/ but the records");
}
