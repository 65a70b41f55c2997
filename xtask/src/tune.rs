//! `cargo xtask tune`: time every GEMM variant on the shapes the given models run, and
//! the convolution kernels on their convolutions, and keep the fastest of each in the
//! autotune cache, for this adapter and driver.

use std::time::Instant;

use anyhow::Result;
use clap::Args;
use shatter::autotune::{ConvTiming, ShapeTiming, TuneCache, cache_path, model_problems};
use shatter_gpu::Gpu;
use shatter_nn::{ModelKind, NetworkShape};

use crate::BadInput;

#[derive(Args)]
pub struct TuneArgs {
    /// Models whose shapes to tune (repeatable); default: all.
    #[arg(long = "model")]
    models: Vec<String>,
    #[arg(long, default_value_t = 128)]
    batch_size: usize,
    /// Input images as CHANNELSxHEIGHTxWIDTH (the network's input, after cropping).
    #[arg(long, default_value = "3x28x28")]
    input: String,
    #[arg(long, default_value_t = 10)]
    classes: usize,
    #[arg(long)]
    adapter: Option<String>,
}

fn parse_input(text: &str) -> Result<[usize; 3], BadInput> {
    let dims: Option<Vec<usize>> = text
        .split('x')
        .map(|d| d.parse::<usize>().ok().filter(|&d| d > 0))
        .collect();
    dims.and_then(|d| <[usize; 3]>::try_from(d).ok())
        .ok_or_else(|| {
            BadInput(format!(
                "--input {text}: expected CHANNELSxHEIGHTxWIDTH, e.g. 3x28x28"
            ))
        })
}

/// The models `--model` named (repeatable), or the five CIFAR-10 models when none was
/// named (inception-v3 needs larger inputs than theirs: name it to measure it).
pub fn models_or_all(names: &[String]) -> Result<Vec<ModelKind>, BadInput> {
    if names.is_empty() {
        return Ok(ModelKind::CIFAR.to_vec());
    }
    names.iter().map(|m| m.parse().map_err(BadInput)).collect()
}

/// The input side to measure `model` at: `asked` (`--side`), else 28 or the model's
/// smallest input where that is larger; one that is too small for the model is bad input.
pub fn input_side(model: ModelKind, asked: Option<usize>) -> Result<usize, BadInput> {
    let least = model.min_input_side().unwrap_or(1);
    let side = asked.unwrap_or(least.max(28));
    check_input_side(model, [side, side])?;
    Ok(side)
}

/// `model` can take inputs of [height, width].
pub fn check_input_side(model: ModelKind, [height, width]: [usize; 2]) -> Result<(), BadInput> {
    match model.min_input_side() {
        Some(least) if height.min(width) < least => Err(BadInput(format!(
            "{model} takes inputs of at least {least}x{least}, not {height}x{width}"
        ))),
        _ if height == 0 || width == 0 => Err(BadInput(format!(
            "inputs of {height}x{width} have no pixels"
        ))),
        _ => Ok(()),
    }
}

pub fn run(args: TuneArgs) -> Result<()> {
    let models = models_or_all(&args.models)?;
    if args.batch_size == 0 || args.classes < 2 {
        return Err(
            BadInput("--batch-size must be at least 1 and --classes at least 2".into()).into(),
        );
    }
    let input = parse_input(&args.input)?;
    for &model in &models {
        check_input_side(model, [input[1], input[2]])?;
    }
    let gpu = Gpu::new(args.adapter.as_deref())?;
    println!("adapter: {}", gpu.adapter().describe());
    let shape = NetworkShape {
        input,
        classes: args.classes,
        batch: args.batch_size,
    };
    let tuned = tune_models(&gpu, &models, shape, TuneOutput::PerShape)?;
    println!(
        "{tuned} shapes and convolutions timed; cache: {}",
        cache_path().display()
    );
    Ok(())
}

/// What `tune_models` prints on stdout.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TuneOutput {
    /// A line per shape and per model.
    PerShape,
    /// A line per model that needed tuning.
    PerModel,
    /// Nothing (stdout carries JSON).
    Silent,
}

/// Tune every GEMM shape and convolution of `models` at `shape` that the cache lacks for
/// `gpu`, save the cache, and return how many were timed.
pub fn tune_models(
    gpu: &Gpu,
    models: &[ModelKind],
    shape: NetworkShape,
    output: TuneOutput,
) -> Result<usize> {
    let verbose = output == TuneOutput::PerShape;
    let mut cache = TuneCache::load(&cache_path());
    if let Some(reason) = &cache.ignored {
        eprintln!("note: autotune cache not used and will be replaced: {reason}");
    }
    let mut timed = 0;
    for &model in models {
        let problems = model_problems(gpu, model, shape)?;
        let missing = cache.missing(gpu, &problems.gemm);
        let missing_convs = cache.missing_convs(gpu, &problems.conv);
        if missing.is_empty() && missing_convs.is_empty() {
            if verbose {
                println!(
                    "{}: all {} GEMM shapes and {} convolutions already tuned",
                    model.name(),
                    problems.gemm.len(),
                    problems.conv.len()
                );
            }
            continue;
        }
        let start = Instant::now();
        let shapes = cache.tune(gpu, &missing, |t| {
            if verbose {
                println!("  {}", describe(t));
            }
        })?;
        // Saved between the two, so a long convolution tuning cut short keeps the GEMMs.
        cache.save()?;
        let convs = cache.tune_convs(gpu, &missing_convs, |t| {
            if verbose {
                println!("  {}", describe_conv(t));
            }
        })?;
        cache.save()?;
        timed += shapes.len() + convs.len();
        if output == TuneOutput::Silent {
            continue;
        }
        println!(
            "{}: tuned {} GEMM shapes and {} convolutions in {:.1} s",
            model.name(),
            shapes.len(),
            convs.len(),
            start.elapsed().as_secs_f64()
        );
    }
    Ok(timed)
}

/// "128x512x2352  vec4-32x16  (register 61.20 ms, vec4-8x8 17.60 ms, ...)".
fn describe(t: &ShapeTiming) -> String {
    let timings = t.timings.iter().map(|(v, ms)| (v.name(), *ms));
    describe_timings(&t.shape.key(), 20, &t.best.name(), 12, timings)
}

/// "conv-forward-128x14x14x64-5x5s1p2x2-14x14x64  texels-16x16-wg8  (scalar-8x8-wg8 468.79 ms, ...)".
fn describe_conv(t: &ConvTiming) -> String {
    let timings = t.timings.iter().map(|(v, ms)| (v.name(), *ms));
    describe_timings(&t.problem.key(), 44, &t.best.name(), 20, timings)
}

/// A tuning line: the key and the winner padded to columns, then every time.
fn describe_timings(
    key: &str,
    key_width: usize,
    best: &str,
    best_width: usize,
    timings: impl Iterator<Item = (String, f64)>,
) -> String {
    let all: Vec<String> = timings
        .map(|(name, ms)| format!("{name} {ms:.2} ms"))
        .collect();
    format!("{key:<key_width$} {best:<best_width$} ({})", all.join(", "))
}
