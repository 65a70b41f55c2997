//! `cargo xtask tune`: time every GEMM variant on the shapes the given models run, and
//! keep the fastest per shape in the autotune cache, for this adapter and driver.

use std::time::Instant;

use anyhow::Result;
use clap::Args;
use shatter::autotune::{ShapeTiming, TuneCache, cache_path, model_gemm_shapes};
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

/// The models `--model` named (repeatable), or every model when none was named.
pub fn models_or_all(names: &[String]) -> Result<Vec<ModelKind>, BadInput> {
    if names.is_empty() {
        return Ok(ModelKind::ALL.to_vec());
    }
    names.iter().map(|m| m.parse().map_err(BadInput)).collect()
}

pub fn run(args: TuneArgs) -> Result<()> {
    let models = models_or_all(&args.models)?;
    if args.batch_size == 0 || args.classes < 2 {
        return Err(
            BadInput("--batch-size must be at least 1 and --classes at least 2".into()).into(),
        );
    }
    let input = parse_input(&args.input)?;
    let gpu = Gpu::new(args.adapter.as_deref())?;
    println!("adapter: {}", gpu.adapter().describe());
    let shape = NetworkShape {
        input,
        classes: args.classes,
        batch: args.batch_size,
    };
    let tuned = tune_models(&gpu, &models, shape, TuneOutput::PerShape)?;
    println!("{tuned} shapes timed; cache: {}", cache_path().display());
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

/// Tune every shape of `models` at `shape` that the cache lacks for `gpu`, save the
/// cache, and return how many shapes were timed.
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
        let shapes = model_gemm_shapes(gpu, model, shape)?;
        let missing = cache.missing(gpu, &shapes);
        if missing.is_empty() {
            if verbose {
                println!(
                    "{}: all {} GEMM shapes already tuned",
                    model.name(),
                    shapes.len()
                );
            }
            continue;
        }
        let start = Instant::now();
        let results = cache.tune(gpu, &missing, |t| {
            if verbose {
                println!("  {}", describe(t));
            }
        })?;
        cache.save()?;
        timed += results.len();
        if output == TuneOutput::Silent {
            continue;
        }
        println!(
            "{}: tuned {} GEMM shapes in {:.1} s",
            model.name(),
            results.len(),
            start.elapsed().as_secs_f64()
        );
    }
    Ok(timed)
}

/// "128x512x2352: vec4-32x16 (register 61.2 ms, vec4-8x8 17.6 ms, ...)".
fn describe(t: &ShapeTiming) -> String {
    let all: Vec<String> = t
        .timings
        .iter()
        .map(|(v, ms)| format!("{} {ms:.2} ms", v.name()))
        .collect();
    format!(
        "{:<20} {:<12} ({})",
        t.shape.key(),
        t.best.name(),
        all.join(", ")
    )
}
