//! `cargo xtask bench --json` keeps stdout to one JSON object per line, autotuning
//! included, so machines can read it.

use std::process::Command;

#[test]
fn bench_json_with_tuning_is_one_json_object_per_line() {
    if shatter_tests::gpu().is_none() {
        return;
    }
    let cache = tempfile::tempdir().unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .env("SHATTER_CACHE_DIR", cache.path())
        .args([
            "bench",
            "--model",
            "mlp1x512",
            "--batch-size",
            "8",
            "--steps",
            "1",
            "--tune",
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
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    let record: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(record["workload"], "mlp1x512-train");
    assert!(record["tune_seconds"].as_f64().unwrap() > 0.0, "{record}");
    assert!(
        record["images_per_second"].as_f64().unwrap() > 0.0,
        "{record}"
    );
    // Batch 8: all 5 GEMM shapes were tuned and used.
    assert!(
        record["gemm_variant"]
            .as_str()
            .unwrap()
            .ends_with("(5 of 5 shapes tuned)"),
        "{record}"
    );
    assert!(cache.path().join("autotune.json").exists());
}
