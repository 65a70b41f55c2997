//! `cargo xtask slurm` without a cluster: the script it writes is the one docs/slurm.md
//! shows, and bad settings are one line naming them, exit code 2, before anything is written.

use std::path::Path;
use std::process::Command;

fn xtask(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .unwrap()
}

/// The first ```bash block of docs/slurm.md.
fn documented_script() -> String {
    let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/slurm.md");
    let text = std::fs::read_to_string(doc).unwrap();
    let start = text
        .find("```bash\n")
        .expect("docs/slurm.md shows the script")
        + 8;
    let end = start + text[start..].find("```").unwrap();
    text[start..end].to_owned()
}

#[test]
fn the_script_for_figure1_is_the_one_the_docs_show() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("figure1");
    let run = xtask(&[
        "slurm",
        "--preset",
        "figure1",
        "--out",
        out.to_str().unwrap(),
        "--partition",
        "gpu",
        "--time",
        "2-00:00:00",
        "--tasks",
        "9",
        "--binary",
        "/shared/shatter/target/release/xtask",
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let written = std::fs::read_to_string(out.join("slurm/figure1.sbatch")).unwrap();
    let shown = written.replace(dir.path().to_str().unwrap(), "/shared/results");
    assert_eq!(shown, documented_script());
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(stdout.starts_with(&written), "the script is printed");
    let report = std::fs::read_to_string(out.join("slurm/figure1-report.sbatch")).unwrap();
    assert!(report.contains(&format!(
        "exec '/shared/shatter/target/release/xtask' report '{}'",
        out.display()
    )));
    let copy = std::fs::read_to_string(out.join("slurm/figure1.toml")).unwrap();
    assert!(
        copy.contains("name = \"figure1\""),
        "the tasks read their own copy"
    );
}

#[test]
fn bad_settings_are_one_line_and_exit_2_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let out_arg = out.to_str().unwrap();
    let missing = dir.path().join("no/such/folder");
    for (args, message) in [
        (
            vec!["--tasks", "0"],
            "--tasks must be at least 1 (got 0)".to_owned(),
        ),
        (
            vec!["--time", "-5"],
            "--time '-5': expected minutes or [D-]HH:MM:SS, e.g. 90 or 1-12:00:00".to_owned(),
        ),
        (
            vec!["--mem", "lots"],
            "--mem 'lots': expected a size as sbatch takes it, e.g. 16G or 4000M".to_owned(),
        ),
        (
            vec!["--checkpoint-every", "0"],
            "--checkpoint-every must be a number of seconds > 0 (got 0): tasks that are preempted continue from checkpoints".to_owned(),
        ),
    ] {
        let mut all = vec!["slurm", "--preset", "quick", "--out", out_arg];
        all.extend(&args);
        let run = xtask(&all);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end(), format!("error: {message}"), "{args:?}");
        assert!(!out.exists(), "{args:?} wrote the results folder");
    }
    let run = xtask(&[
        "slurm",
        "--preset",
        "quick",
        "--out",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&run.stderr).trim_end(),
        format!(
            "error: --out {}: {} does not exist (the results folder goes on a file system every node shares)",
            missing.display(),
            missing.parent().unwrap().display()
        )
    );
    let run = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["slurm", "--preset", "quick", "--out", out_arg, "--submit"])
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.starts_with("error: sbatch: cannot run it (")
            && stderr.trim_end().ends_with(
                "); run `cargo xtask slurm --submit` on a Slurm login node, or leave out --submit"
            ),
        "{stderr}"
    );
}
