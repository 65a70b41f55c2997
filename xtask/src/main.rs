//! `cargo xtask`: shatter's command line. Thin: it parses, calls the crates, prints, and
//! maps failures to exit codes (2 for bad input, 1 for everything else).
//!
//! How the crates fit together, a training step's data flow and where each kernel lives:
//! docs/architecture.md in the repository.

mod adapters;
mod bench;
mod bench_baseline;
mod bench_decode;
mod download_command;
mod gpu_bench;
mod gpu_bench_bundle;
mod gpu_bench_table;
mod interrupt;
mod make_mini;
mod make_synthetic;
mod progress;
mod rademacher;
mod report_command;
mod show_data;
mod slurm;
mod sweep;
mod train;
mod tune;
mod web;
mod web_server;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "shatter: the randomization tests of Zhang et al. (ICLR 2017) on any GPU"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the GPU adapters this machine offers (honours WGPU_BACKEND) and the one shatter would choose.
    Adapters,
    /// Run a grid of experiments (default: the quick preset) into <out>/runs/, then write the report.
    Sweep(Box<sweep::SweepArgs>),
    /// Write (and with --submit, submit) a sweep as a Slurm job array and a report job.
    Slurm(Box<slurm::SlurmArgs>),
    /// Rebuild the figures, Table 1 and report.md of a sweep's results folder.
    Report(report_command::ReportArgs),
    /// Estimate a model's empirical Rademacher complexity by fitting random signs (section 2.2).
    Rademacher(Box<rademacher::RademacherArgs>),
    /// Train one model on one (possibly randomized) dataset and write <out>/run.json.
    Train(Box<train::TrainArgs>),
    /// Measure training-step speed (images/s, GFLOP/s) on synthetic 3x28x28 data.
    Bench(bench::BenchArgs),
    /// Measure shatter's training step beside PyTorch's on this machine's GPU, with the kernel
    /// tests, in one table (target/gpu-bench/report.md).
    GpuBench(gpu_bench::GpuBenchArgs),
    /// Measure how fast an image folder's files decode and resize into training images, per thread.
    BenchDecode(bench_decode::BenchDecodeArgs),
    /// Fetch a dataset (cifar10, fashion-mnist, mnist) into the data directory, verified.
    Download(download_command::DownloadArgs),
    /// Draw a PNG grid of training images as randomized, with their labels.
    ShowData(show_data::ShowDataArgs),
    /// Pick the fastest GEMM and convolution kernels for this adapter and the given models, cached on disk.
    Tune(tune::TuneArgs),
    /// Rewrite the generated GEMM shaders (gemm_vec4, gemm_texels, gemm_subgroup, gemm_subgroup_texels) after changing a tile list.
    GenGemm,
    /// Rebuild assets/fashion-mnist-mini from the full Fashion-MNIST files.
    MakeMini(make_mini::MakeMiniArgs),
    /// Write a CIFAR-10 stand-in of random records at full size (50,000 + 10,000), to try the
    /// pipeline at that scale without the download.
    MakeSyntheticCifar10(make_synthetic::MakeSyntheticArgs),
    /// Build the browser page (WebAssembly through WebGPU) and serve it on 127.0.0.1.
    Web(web::WebArgs),
}

pub use xtask::BadInput;

fn main() -> ExitCode {
    // Rust ignores SIGPIPE, so `println!` into a closed pipe (`cargo xtask sweep --dry-run |
    // head`) would panic; restore the default, ending quietly as other command-line tools do.
    #[cfg(unix)]
    // SAFETY: called before any thread starts; SIG_DFL is a valid disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Adapters => adapters::run(),
        Command::Sweep(args) => sweep::run(*args),
        Command::Slurm(args) => slurm::run(*args),
        Command::Report(args) => report_command::run(args),
        Command::Rademacher(args) => rademacher::run(*args),
        Command::Train(args) => train::run(*args),
        Command::Bench(args) => bench::run(args),
        Command::BenchDecode(args) => bench_decode::run(args),
        Command::GpuBench(args) => gpu_bench::run(args),
        Command::Tune(args) => tune::run(args),
        Command::GenGemm => xtask::gen_gemm::run(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .expect("xtask sits in the workspace"),
        ),
        Command::MakeMini(args) => make_mini::run(args),
        Command::MakeSyntheticCifar10(args) => make_synthetic::run(args),
        Command::Download(args) => download_command::run(args),
        Command::ShowData(args) => show_data::run(args),
        Command::Web(args) => web::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // Stopped on request, its checkpoint saved: not a failure, and said as such.
        Err(error) if error.chain().any(|c| c.is::<shatter::Interrupted>()) => {
            let message: Vec<String> = error.chain().map(|c| c.to_string()).collect();
            eprintln!("{}", message.join(": "));
            ExitCode::from(130)
        }
        Err(error) => {
            let bad_input = error.chain().any(|cause| {
                cause.is::<BadInput>()
                    || cause.is::<shatter::ConfigError>()
                    || cause.is::<shatter_data::DataError>()
                    || matches!(
                        cause.downcast_ref::<shatter_gpu::GpuError>(),
                        Some(shatter_gpu::GpuError::AdapterNotFound { .. })
                    )
            });
            // One line: the outermost context and its causes, joined.
            let message: Vec<String> = error.chain().map(|c| c.to_string()).collect();
            eprintln!("error: {}", message.join(": "));
            ExitCode::from(if bad_input { 2 } else { 1 })
        }
    }
}
