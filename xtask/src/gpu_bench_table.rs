//! The table `cargo xtask gpu-bench` writes: shatter's bench records beside PyTorch's
//! step and the kernel tests, with the GPU speed targets met or missed. Pure functions of
//! the parts' outputs, so they are tested on recorded lines.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use crate::gpu_bench::json_lines;

/// shatter's `bench --json --layers` records, by model: the training step's (workload
/// `MODEL-train`) and the layers' summary (`MODEL-layers`).
#[derive(Debug, Default)]
pub struct Measured {
    train: BTreeMap<String, Value>,
    layers: BTreeMap<String, Value>,
}

impl Measured {
    pub fn from_lines(lines: &[String]) -> Self {
        let mut m = Self::default();
        for v in json_lines(lines) {
            let Some(workload) = v["workload"].as_str() else {
                continue;
            };
            if let Some(model) = workload.strip_suffix("-train") {
                m.train.insert(model.to_owned(), v.clone());
            } else if let Some(model) = workload.strip_suffix("-layers") {
                m.layers.insert(model.to_owned(), v.clone());
            }
        }
        m
    }
}

/// PyTorch's side: its records by model and the peak it measured, or why there are none.
#[derive(Debug)]
pub enum Torch {
    Measured {
        models: BTreeMap<String, Value>,
        peak: Option<(f64, String)>,
        version: String,
        device: String,
    },
    Skipped(String),
}

impl Torch {
    /// reference/torch_step.py's `--json --peak` lines.
    pub fn from_lines(lines: &[String]) -> Self {
        let mut models = BTreeMap::new();
        let mut peak = None;
        let (mut version, mut device) = (String::new(), String::new());
        for v in json_lines(lines) {
            let name = v["device_name"].as_str().unwrap_or("?").to_owned();
            if let Some(p) = v["peak_gflops"].as_f64() {
                peak = Some((p, name));
            } else if let Some(model) = v["model"].as_str() {
                version = v["torch"].as_str().unwrap_or("?").to_owned();
                device = format!("{} ({name})", v["device"].as_str().unwrap_or("?"));
                models.insert(model.to_owned(), v.clone());
            }
        }
        if models.is_empty() {
            return Self::Skipped("not measured: its script printed no model".into());
        }
        Self::Measured {
            models,
            peak,
            version,
            device,
        }
    }

    /// The fp32 peak PyTorch measured and the device it ran on.
    pub fn peak_gflops(&self) -> Option<(f64, String)> {
        match self {
            Self::Measured { peak, .. } => peak.clone(),
            Self::Skipped(_) => None,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Self::Measured {
                version, device, ..
            } => format!("{version}, eager fp32 (TF32 off), on {device}"),
            Self::Skipped(why) => why.clone(),
        }
    }

    fn model(&self, name: &str) -> Option<&Value> {
        match self {
            Self::Measured { models, .. } => models.get(name),
            Self::Skipped(_) => None,
        }
    }
}

/// The kernel tests' outcome.
#[derive(Debug, PartialEq)]
pub enum TestRun {
    /// Tests passed and failed over every "test result" line, and the runs that failed.
    Ran {
        passed: usize,
        failed: usize,
        failures: Vec<String>,
    },
    Failed(String),
    Skipped(String),
}

impl TestRun {
    /// From the tests' output and the runs that exited with an error.
    pub fn from_log(log: &str, failures: Vec<String>) -> Self {
        let (mut passed, mut failed) = (0, 0);
        for line in log.lines().filter(|l| l.starts_with("test result:")) {
            let count = |what: &str| {
                line.split(';')
                    .find_map(|part| part.trim().strip_suffix(what))
                    .and_then(|n| n.trim().rsplit(' ').next()?.parse::<usize>().ok())
                    .unwrap_or(0)
            };
            passed += count(" passed");
            failed += count(" failed");
        }
        if passed + failed == 0 && failures.is_empty() {
            return Self::Failed("no test ran".into());
        }
        Self::Ran {
            passed,
            failed,
            failures,
        }
    }

    fn describe(&self) -> String {
        match self {
            Self::Ran {
                passed,
                failed,
                failures,
            } if *failed == 0 && failures.is_empty() => {
                format!("{passed} passed, 0 failed")
            }
            Self::Ran {
                passed,
                failed,
                failures,
            } => format!(
                "**{failed} failed**, {passed} passed{}",
                if failures.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", failures.join("; "))
                }
            ),
            Self::Failed(why) => format!("**did not run**: {why}"),
            Self::Skipped(why) => why.clone(),
        }
    }
}

/// The speed targets of a model: its images/s as a multiple of PyTorch eager's, and the
/// fraction of the fp32 peak its convolutions reach together (for the convolutional
/// models).
pub fn targets(model: &str) -> (f64, Option<f64>) {
    match model {
        "alexnet" => (1.5, Some(0.50)),
        "inception" | "inception-nobn" => (1.0, Some(0.35)),
        _ => (1.5, None),
    }
}

fn number(v: &Value, key: &str) -> Option<f64> {
    v.get(key)?.as_f64()
}

/// 192323.4 -> "192,323".
fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x.round());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) && c != '-' {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn mib(bytes: f64) -> String {
    format!("{:.1}", bytes / (1024.0 * 1024.0))
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "**missed**" }
}

/// The report: `header` (adapter, commit, command ...), then one row per model of
/// `models`, the kernels that ran, the tests, and how many targets were met.
pub fn report(
    header: &str,
    models: &[&str],
    measured: &Measured,
    torch: &Torch,
    tests: &TestRun,
) -> String {
    let mut out =
        String::from("# shatter beside PyTorch on one card (`cargo xtask gpu-bench`)\n\n");
    out.push_str(header);
    out.push('\n');
    out.push_str(
        "| model | shatter, images/s | PyTorch, images/s | shatter / PyTorch (target) | \
         convolutions, % of peak (target) | first step, shatter / PyTorch | \
         memory, shatter / PyTorch (MiB) |\n|---|---|---|---|---|---|---|\n",
    );
    let (mut met, mut judged) = (0, 0);
    let mut kernels = String::new();
    for &model in models {
        let train = measured.train.get(model);
        let layers = measured.layers.get(model);
        let theirs = torch.model(model);
        let (speed_target, conv_target) = targets(model);
        let ours_ips = train.and_then(|t| number(t, "images_per_second"));
        let their_ips = theirs.and_then(|t| number(t, "images_per_second"));
        let ratio = match (ours_ips, their_ips) {
            (Some(a), Some(b)) if b > 0.0 => {
                let ok = a / b >= speed_target;
                judged += 1;
                met += usize::from(ok);
                format!("{:.2}x ({speed_target}x: {})", a / b, verdict(ok))
            }
            _ => format!("- ({speed_target}x: not judged)"),
        };
        let conv = match (
            conv_target,
            layers.and_then(|l| number(l, "convolution_fraction_of_peak")),
        ) {
            (Some(target), Some(fraction)) => {
                let ok = fraction >= target;
                judged += 1;
                met += usize::from(ok);
                format!(
                    "{:.1}% ({:.0}%: {})",
                    fraction * 100.0,
                    target * 100.0,
                    verdict(ok)
                )
            }
            (Some(target), None) => format!("- ({:.0}%: not judged, no peak)", target * 100.0),
            (None, _) => "-".into(),
        };
        let seconds = |v: Option<&Value>| {
            v.and_then(|v| number(v, "time_to_first_step_seconds"))
                .map_or("-".into(), |s| format!("{s:.2} s"))
        };
        let ours_mem = train
            .and_then(|t| number(t, "gpu_buffer_bytes"))
            .map_or("-".into(), mib);
        let their_mem = theirs
            .and_then(|t| number(t, "peak_memory_bytes"))
            .map_or("-".into(), mib);
        let _ = writeln!(
            out,
            "| {model} | {} | {} | {ratio} | {conv} | {} / {} | {ours_mem} / {their_mem} |",
            ours_ips.map_or("**no result**".into(), thousands),
            their_ips.map_or("-".into(), thousands),
            seconds(train),
            seconds(theirs),
        );
        if let Some(t) = train {
            let _ = writeln!(
                kernels,
                "- {model}: GEMMs {}; convolutions {}",
                t["gemm_variant"].as_str().unwrap_or("?"),
                match t["conv_variant"].as_str() {
                    Some("") | None => "none",
                    Some(c) => c,
                }
            );
        }
    }
    let _ = write!(
        out,
        "\nTargets met: {met} of {judged} judged.\n\nKernels (autotuned on the card):\n{kernels}\
         \nKernel tests on the card: {}\n",
        tests.describe()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_owned).collect()
    }

    const SHATTER: &str = r#"{"workload":"alexnet-layers","convolution_fraction_of_peak":0.188,"convolution_ms":1.81}
{"workload":"alexnet-train","model":"alexnet","images_per_second":41377.2,"time_to_first_step_seconds":0.21,"gpu_buffer_bytes":192937984,"gemm_variant":"tiled (0 of 9 shapes tuned)","conv_variant":"vec4-16x8-wg64 (5 of 5 convolutions tuned)"}
{"workload":"mlp1x512-train","model":"mlp1x512","images_per_second":192323.0,"time_to_first_step_seconds":0.11,"gpu_buffer_bytes":24431820,"gemm_variant":"tiled-split-9, tiled (2 of 3 shapes tuned)","conv_variant":""}"#;

    const TORCH: &str = r#"{"peak_gflops":51070.0,"device_name":"NVIDIA H200","matrix_side":8192}
{"workload":"mlp1x512-train","model":"mlp1x512","device":"cuda","device_name":"NVIDIA H200","torch":"2.11.0","images_per_second":119950.0,"time_to_first_step_seconds":2.5,"peak_memory_bytes":52428800}
{"workload":"alexnet-train","model":"alexnet","device":"cuda","device_name":"NVIDIA H200","torch":"2.11.0","images_per_second":41000.0,"time_to_first_step_seconds":3.1,"peak_memory_bytes":104857600}
not json: a warning"#;

    #[test]
    fn the_table_judges_each_target_from_both_sides() {
        let measured = Measured::from_lines(&lines(SHATTER));
        let torch = Torch::from_lines(&lines(TORCH));
        assert_eq!(
            torch.peak_gflops(),
            Some((51070.0, "NVIDIA H200".to_owned()))
        );
        let tests = TestRun::from_log(
            "test result: ok. 12 passed; 0 failed; 0 ignored\ntest result: ok. 4 passed; 0 failed;",
            vec![],
        );
        let table = report(
            "- adapter: x\n",
            &["mlp1x512", "alexnet", "inception"],
            &measured,
            &torch,
            &tests,
        );
        assert!(
            table.contains(
                "| mlp1x512 | 192,323 | 119,950 | 1.60x (1.5x: met) | - | 0.11 s / 2.50 s | 23.3 / 50.0 |"
            ),
            "{table}"
        );
        assert!(
            table.contains(
                "| alexnet | 41,377 | 41,000 | 1.01x (1.5x: **missed**) | 18.8% (50%: **missed**) | 0.21 s / 3.10 s | 184.0 / 100.0 |"
            ),
            "{table}"
        );
        assert!(
            table.contains("| inception | **no result** | - | - (1x: not judged) | - (35%: not judged, no peak) | - / - | - / - |"),
            "{table}"
        );
        assert!(table.contains("Targets met: 1 of 3 judged."), "{table}");
        assert!(
            table.contains(
                "- mlp1x512: GEMMs tiled-split-9, tiled (2 of 3 shapes tuned); convolutions none"
            ),
            "{table}"
        );
        assert!(
            table.contains("Kernel tests on the card: 16 passed, 0 failed"),
            "{table}"
        );
    }

    #[test]
    fn missing_parts_say_why() {
        assert_eq!(
            Torch::from_lines(&lines("Traceback (most recent call last):")).describe(),
            "not measured: its script printed no model"
        );
        assert_eq!(
            TestRun::from_log("", vec![]),
            TestRun::Failed("no test ran".into())
        );
        let failed = TestRun::from_log(
            "test result: FAILED. 3 passed; 2 failed; 0 ignored",
            vec!["conv_kernels exited with exit status: 101".into()],
        );
        assert_eq!(
            failed.describe(),
            "**2 failed**, 3 passed (conv_kernels exited with exit status: 101)"
        );
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(192323.4), "192,323");
        assert_eq!(thousands(999.6), "1,000");
        assert_eq!(thousands(41.0), "41");
        assert_eq!(thousands(1_234_567.0), "1,234,567");
    }
}
