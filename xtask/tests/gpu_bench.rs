#![cfg(unix)]
//! `cargo xtask gpu-bench` on the machine's adapter with PyTorch left out: the bench runs,
//! the kernel tests come from a folder of executables (here a stand-in that prints a
//! test summary), and the table is printed and written to `<out>/report.md`. On a GPU the
//! same command adds PyTorch's columns (reference/torch_step.py) and judges the targets.

use std::process::Command;

#[test]
fn gpu_bench_writes_one_table_with_the_parts_that_ran() {
    if shatter_tests::gpu().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let tests = dir.path().join("tests");
    std::fs::create_dir(&tests).unwrap();
    let stand_in = tests.join("kernels");
    std::fs::write(
        &stand_in,
        "#!/bin/sh\necho \"backend $WGPU_BACKEND\"\necho 'test result: ok. 7 passed; 0 failed; 0 ignored'\n",
    )
    .unwrap();
    std::fs::write(tests.join("notes.txt"), "not a test: not executable").unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&stand_in, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let out = dir.path().join("out");
    let run = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .env("SHATTER_CACHE_DIR", dir.path().join("cache"))
        .args([
            "gpu-bench",
            "--model",
            "mlp1x512",
            "--steps",
            "1",
            "--no-torch",
        ])
        .arg("--tests")
        .arg(&tests)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stdout}\n{stderr}");
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert_eq!(stdout.trim_end(), report.trim_end(), "stdout is the report");
    let row = report
        .lines()
        .find(|l| l.starts_with("| mlp1x512 | "))
        .unwrap_or_else(|| panic!("no mlp1x512 row:\n{report}"));
    let cells: Vec<&str> = row.split(" | ").collect();
    let images_per_second: f64 = cells[1].replace(',', "").parse().unwrap();
    assert!(images_per_second > 0.0, "{row}");
    assert_eq!(cells[2], "-", "no PyTorch figure: {row}");
    assert_eq!(cells[3], "- (1.5x: not judged)", "{row}");
    assert!(
        report.contains("- PyTorch: left out (--no-torch)"),
        "{report}"
    );
    // Run in this checkout: its commit, marked where tracked files differ from it.
    let commit = format!(
        "- shatter commit: {}\n",
        shatter::git::commit_marking_changes()
    );
    assert!(report.contains(&commit), "{commit}in\n{report}");
    assert!(report.contains("- peak: not known"), "{report}");
    assert!(report.contains("Targets met: 0 of 0 judged."), "{report}");
    assert!(
        report.contains("Kernel tests on the card: 7 passed, 0 failed"),
        "{report}"
    );
    // The tests ran on the backend the bench measured.
    let log = std::fs::read_to_string(out.join("tests.log")).unwrap();
    let adapter = shatter_tests::gpu().unwrap().adapter().backend.clone();
    assert!(log.contains(&format!("backend {adapter}")), "{log}");
    // The bench's raw records are kept beside the table.
    let raw = std::fs::read_to_string(out.join("shatter.jsonl")).unwrap();
    assert!(raw.contains(r#""workload":"mlp1x512-train""#), "{raw}");
    assert!(raw.contains(r#""workload":"mlp1x512-layers""#), "{raw}");
}

/// reference/torch_step.py builds the five models with shatter's layer shapes: each
/// model's parameter counts (weights and biases, batch norm's apart) equal
/// `ModelKind::parameter_counts`. It needs a Python with PyTorch (about 5 GB, which CI
/// does not install), so it is ignored unless asked for:
/// `SHATTER_TORCH_PYTHON=path/to/python cargo test -p xtask --test gpu_bench -- --ignored`
/// (default `python3`). The script checks the same counts itself before it times a model.
#[test]
#[ignore = "needs a Python with PyTorch: SHATTER_TORCH_PYTHON=... cargo test -- --ignored"]
fn pytorch_models_have_shatters_parameter_counts() {
    let python = std::env::var("SHATTER_TORCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../reference/torch_step.py");
    let run = Command::new(&python)
        .args([
            script,
            "--device",
            "cpu",
            "--steps",
            "1",
            "--batch-size",
            "2",
            "--json",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let records: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let models = [
        shatter_nn::ModelKind::Mlp1x512,
        shatter_nn::ModelKind::Mlp3x512,
        shatter_nn::ModelKind::Alexnet,
        shatter_nn::ModelKind::Inception,
        shatter_nn::ModelKind::InceptionNoBn,
    ];
    assert_eq!(records.len(), models.len(), "{stdout}");
    for model in models {
        let record = records
            .iter()
            .find(|r| r["model"] == model.name())
            .unwrap_or_else(|| panic!("no {} record: {stdout}", model.name()));
        let (weights, batch_norm) = model.parameter_counts([28, 28, 3], 10);
        assert_eq!(record["parameters"], weights, "{}", model.name());
        assert_eq!(
            record["batch_norm_parameters"],
            batch_norm,
            "{}",
            model.name()
        );
        assert!(record["images_per_second"].as_f64().unwrap() > 0.0);
    }
}
