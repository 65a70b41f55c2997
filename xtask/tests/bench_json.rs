//! `cargo xtask bench --json` keeps stdout to one JSON object per line, autotuning
//! included, so machines can read it.

use std::path::Path;
use std::process::Command;

/// The stdout of `xtask bench ARGS` with its autotune cache in `cache`, which must succeed.
fn bench(args: &[&str], cache: &Path) -> String {
    let run = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .env("SHATTER_CACHE_DIR", cache)
        .arg("bench")
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    stdout
}

#[test]
fn bench_json_with_tuning_is_one_json_object_per_line() {
    if shatter_tests::gpu().is_none() {
        return;
    }
    let cache = tempfile::tempdir().unwrap();
    let stdout = bench(
        &[
            "--model",
            "mlp1x512",
            "--batch-size",
            "8",
            "--steps",
            "1",
            "--tune",
            "--json",
        ],
        cache.path(),
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

/// The record names the input the networks saw: a `--side` crop, not always 28.
#[test]
fn bench_json_names_the_input_side_it_ran() {
    if shatter_tests::gpu().is_none() {
        return;
    }
    let cache = tempfile::tempdir().unwrap();
    let stdout = bench(
        &[
            "--model",
            "mlp1x512",
            "--batch-size",
            "8",
            "--steps",
            "1",
            "--side",
            "20",
            "--json",
        ],
        cache.path(),
    );
    let record: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(record["input"], serde_json::json!([3, 20, 20]), "{record}");
    // 3 x 20 x 20 = 1,200 inputs into 512, then 512 into 10.
    assert_eq!(record["parameters"], 1200 * 512 + 512 + 512 * 10 + 10);
}

/// `bench --layers --peak-gflops` gives each layer's rate as a fraction of the peak, marks
/// the convolutions, and sums them in one line: their time is the sum of theirs, their
/// fraction their rate over the peak.
#[test]
fn bench_layers_give_the_convolutions_fraction_of_a_peak() {
    if shatter_tests::gpu().is_none() {
        return;
    }
    let peak = 250.0;
    let cache = tempfile::tempdir().unwrap();
    let stdout = bench(
        &[
            "--model",
            "alexnet",
            "--batch-size",
            "4",
            "--steps",
            "1",
            "--layers",
            "--peak-gflops",
            "250",
            "--json",
        ],
        cache.path(),
    );
    let records: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let layers: Vec<&serde_json::Value> = records
        .iter()
        .filter(|r| r["workload"] == "alexnet-layer")
        .collect();
    let names: Vec<&str> = layers
        .iter()
        .map(|r| r["layer"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "conv1", "pool1", "lrn1", "conv2", "pool2", "lrn2", "dense1", "dense2", "logits"
        ]
    );
    let mut conv_ms = 0.0;
    for layer in &layers {
        let f = |key: &str| layer[key].as_f64().unwrap();
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1.0);
        assert!(
            close(f("forward_fraction_of_peak"), f("forward_gflops") / peak),
            "{layer}"
        );
        assert!(
            close(f("backward_fraction_of_peak"), f("backward_gflops") / peak),
            "{layer}"
        );
        let convolution = layer["convolution"].as_bool().unwrap();
        assert_eq!(
            convolution,
            layer["layer"].as_str().unwrap().starts_with("conv"),
            "{layer}"
        );
        if convolution {
            assert!(
                f("forward_gflops") > 0.0 && f("backward_gflops") > 0.0,
                "{layer}"
            );
            conv_ms += f("forward_ms") + f("backward_ms");
        }
    }
    let total = records
        .iter()
        .find(|r| r["workload"] == "alexnet-layers")
        .expect("the layers' summary line");
    let g = |key: &str| total[key].as_f64().unwrap();
    assert!(
        (g("convolution_ms") - conv_ms).abs() < 1e-6 * conv_ms,
        "{total}"
    );
    assert!(g("convolution_gflops") > 0.0, "{total}");
    assert!(
        (g("convolution_fraction_of_peak") - g("convolution_gflops") / peak).abs() < 1e-12,
        "{total}"
    );
    assert_eq!(g("peak_gflops"), peak);
}
