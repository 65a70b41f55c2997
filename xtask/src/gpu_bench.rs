//! `cargo xtask gpu-bench`: shatter's training step beside PyTorch's eager step on the same
//! card, in one run and one table. It runs `bench --json --tune --layers` for the models
//! (with the card's fp32 peak, measured by PyTorch unless given), the PyTorch step of the
//! same models (reference/torch_step.py), and the kernel tests on the card; then it writes
//! the table, with each target of the GPU speed work met or missed, to
//! `<out>/report.md` beside the raw JSON lines.
//!
//! Every part runs as a child process, so one that fails (no PyTorch, a test that fails)
//! is reported in the table and the others still run.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result};
use clap::Args;
use serde_json::Value;

use crate::BadInput;
use crate::gpu_bench_table::{Measured, TestRun, Torch, report};

#[derive(Args)]
pub struct GpuBenchArgs {
    /// Models to measure (repeatable); default: the five CIFAR-10 models.
    #[arg(long = "model")]
    models: Vec<String>,
    /// Timed steps per epoch, for shatter and PyTorch alike (the median of three epochs
    /// after an untimed one). A GPU steps an MLP in about a millisecond: 50 steps keep
    /// each epoch long enough to time.
    #[arg(long, default_value_t = 50)]
    steps: usize,
    /// The card's fp32 peak in GFLOP/s. Default: what PyTorch's fp32 matrix product
    /// (TF32 off, 8192^3) reaches on it, measured in this run.
    #[arg(long, value_name = "GFLOPS")]
    peak_gflops: Option<f64>,
    /// The Python that has PyTorch.
    #[arg(long, default_value = "python3")]
    python: String,
    /// Leave PyTorch out (its columns then say so).
    #[arg(long)]
    no_torch: bool,
    /// The kernel tests to run on the card: `cargo` (build and run them with cargo, in
    /// release), a folder of test executables built elsewhere (every executable file in it
    /// runs; for a machine without Rust), or `none`.
    #[arg(long, default_value = "cargo")]
    tests: String,
    /// Where the table and the raw outputs go.
    #[arg(long, default_value = "target/gpu-bench")]
    out: PathBuf,
    #[arg(long)]
    adapter: Option<String>,
    /// Instead of measuring, write into this folder what a machine without Rust needs to
    /// run the benchmark: this xtask, the kernel tests built in release, the PyTorch
    /// script, and `run.sh`, which runs `gpu-bench` there with those tests (arguments
    /// pass through).
    #[arg(long, value_name = "DIR")]
    bundle: Option<PathBuf>,
    /// The shatter commit the report names (set by `run.sh` in a bundle, which is no git
    /// checkout). Default: the checkout's HEAD.
    #[arg(long, hide = true)]
    commit: Option<String>,
}

/// The kernel tests run on the card: every kernel a GPU runs against its CPU reference,
/// the gradients by finite differences, and the kernels inside networks. Left out:
/// gemm_tiles.rs, every generated register tile of the CPU adapters' GEMMs (many kernels
/// to compile, which outran a 10-minute run on an H200; CI runs it on both CPU backends).
pub const KERNEL_TESTS: [&str; 6] = [
    "kernels",
    "conv_kernels",
    "layer_kernels",
    "network_gradients",
    "network_mirrors",
    "batch",
];

pub fn run(args: GpuBenchArgs) -> Result<()> {
    let models = crate::tune::models_or_all(&args.models)?;
    if args.steps == 0 {
        return Err(BadInput("--steps must be at least 1".into()).into());
    }
    if let Some(peak) = args.peak_gflops
        && !(peak.is_finite() && peak > 0.0)
    {
        return Err(BadInput(format!(
            "--peak-gflops must be a positive number, not {peak}"
        ))
        .into());
    }
    if let Some(dir) = &args.bundle {
        return crate::gpu_bench_bundle::write(dir);
    }
    let tests = TestSource::parse(&args.tests)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let gpu = shatter_gpu::Gpu::new(args.adapter.as_deref())?;
    let adapter = gpu.adapter().clone();
    let is_cpu = gpu.is_cpu();
    drop(gpu);
    eprintln!("gpu-bench: adapter {}", adapter.describe());
    let names: Vec<&str> = models.iter().map(|m| m.name()).collect();

    let torch = if args.no_torch {
        Torch::Skipped("left out (--no-torch)".into())
    } else {
        eprintln!("gpu-bench: PyTorch's step ({})", args.python);
        run_torch(&args, &names)
    };
    let peak = args
        .peak_gflops
        .map(|p| (p, "given".to_owned()))
        .or_else(|| {
            torch
                .peak_gflops()
                .map(|(p, device)| (p, format!("PyTorch's fp32 matrix product on {device}")))
        });

    eprintln!("gpu-bench: shatter's step (bench --json --tune --layers)");
    let mut bench = vec![
        "bench".to_owned(),
        "--json".into(),
        "--tune".into(),
        "--layers".into(),
        "--steps".into(),
        args.steps.to_string(),
    ];
    if let Some((p, _)) = &peak {
        bench.extend(["--peak-gflops".into(), p.to_string()]);
    }
    if let Some(a) = &args.adapter {
        bench.extend(["--adapter".into(), a.clone()]);
    }
    for name in &names {
        bench.extend(["--model".into(), (*name).to_owned()]);
    }
    let exe = std::env::current_exe().context("finding the xtask executable")?;
    let shatter_lines = capture(
        Command::new(&exe).args(&bench),
        &args.out.join("shatter.jsonl"),
    )
    .with_context(|| format!("running xtask {}", bench.join(" ")))?;
    let measured = Measured::from_lines(&shatter_lines);

    let tests = match tests {
        TestSource::None => TestRun::Skipped("left out (--tests none)".into()),
        source => {
            eprintln!("gpu-bench: kernel tests on the adapter");
            run_tests(&source, &adapter.backend, &args.out)
        }
    };
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let mut header = String::new();
    let _ = writeln!(header, "- adapter: {}", adapter.describe());
    if is_cpu {
        let _ = writeln!(
            header,
            "- **a CPU adapter**: these figures say nothing of a GPU; run this on a machine with one"
        );
    }
    let commit = args
        .commit
        .clone()
        .unwrap_or_else(shatter::git::commit_marking_changes);
    let _ = writeln!(header, "- shatter commit: {commit}");
    let _ = writeln!(header, "- command: `{command}`");
    let _ = writeln!(
        header,
        "- peak: {}",
        peak.as_ref()
            .map_or("not known: no fraction of the peak".into(), |(p, from)| {
                format!("{p:.0} GFLOP/s ({from})")
            })
    );
    let _ = writeln!(header, "- PyTorch: {}", torch.describe());
    let table = report(&header, &names, &measured, &torch, &tests);
    std::fs::write(args.out.join("report.md"), &table)
        .with_context(|| format!("writing {}", args.out.join("report.md").display()))?;
    println!("{table}");
    Ok(())
}

/// Where the kernel tests come from.
enum TestSource {
    Cargo,
    Folder(PathBuf),
    None,
}

impl TestSource {
    fn parse(text: &str) -> Result<Self> {
        match text {
            "cargo" => Ok(Self::Cargo),
            "none" => Ok(Self::None),
            folder if Path::new(folder).is_dir() => Ok(Self::Folder(folder.into())),
            other => Err(BadInput(format!(
                "--tests {other}: expected cargo, none or a folder of test executables"
            ))
            .into()),
        }
    }
}

/// Run `command`, saving its stdout to `path` (stderr passes through); the stdout's lines.
fn capture(command: &mut Command, path: &Path) -> Result<Vec<String>> {
    let output = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    std::fs::write(path, &stdout).with_context(|| format!("writing {}", path.display()))?;
    anyhow::ensure!(output.status.success(), "exited with {}", output.status);
    Ok(stdout.lines().map(str::to_owned).collect())
}

/// reference/torch_step.py: in the working directory's reference/ (a checkout copied to
/// another machine), else in the workspace this xtask was built from.
fn torch_script() -> PathBuf {
    let here = Path::new("reference/torch_step.py");
    if here.is_file() {
        return here.to_owned();
    }
    xtask::wasm_tools::workspace_root().join("reference/torch_step.py")
}

fn run_torch(args: &GpuBenchArgs, names: &[&str]) -> Torch {
    let mut command = Command::new(&args.python);
    command
        .arg(torch_script())
        .args(["--json", "--peak", "--steps", &args.steps.to_string()]);
    for name in names {
        command.args(["--model", name]);
    }
    match capture(&mut command, &args.out.join("torch.jsonl")) {
        Ok(lines) => Torch::from_lines(&lines),
        Err(e) => Torch::Skipped(format!("not measured: {} failed: {e:#}", args.python)),
    }
}

fn run_tests(source: &TestSource, backend: &str, out: &Path) -> TestRun {
    let log_path = out.join("tests.log");
    let commands: Vec<(String, Command)> = match source {
        TestSource::Cargo => {
            let mut c = Command::new("cargo");
            c.args(["test", "--release", "-p", "shatter-tests"]);
            for t in KERNEL_TESTS {
                c.args(["--test", t]);
            }
            vec![("cargo test --release".into(), c)]
        }
        TestSource::Folder(dir) => match executables(dir) {
            Ok(files) => files
                .into_iter()
                .map(|f| (f.display().to_string(), Command::new(f)))
                .collect(),
            Err(e) => return TestRun::Failed(format!("{}: {e}", dir.display())),
        },
        TestSource::None => unreachable!("no tests to run"),
    };
    let mut log = String::new();
    let mut failures = Vec::new();
    for (name, mut command) in commands {
        // The adapter the bench measured: its backend, chosen the way shatter chooses.
        let output = command.env("WGPU_BACKEND", backend).output();
        match output {
            Ok(o) => {
                log.push_str(&String::from_utf8_lossy(&o.stdout));
                log.push_str(&String::from_utf8_lossy(&o.stderr));
                if !o.status.success() {
                    failures.push(format!("{name} exited with {}", o.status));
                }
            }
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    let _ = std::fs::write(&log_path, &log);
    TestRun::from_log(&log, failures)
}

/// The executable files in `dir`, sorted.
fn executables(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let meta = std::fs::metadata(&path)?;
        if meta.is_file() && is_executable(&path, &meta) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(unix)]
fn is_executable(_: &Path, meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(path: &Path, _: &std::fs::Metadata) -> bool {
    path.extension().is_some_and(|e| e == "exe")
}

/// The JSON objects among `lines` (other lines, such as a warning, are skipped).
pub fn json_lines(lines: &[String]) -> Vec<Value> {
    lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(Value::is_object)
        .collect()
}
