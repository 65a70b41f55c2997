//! Training-step benchmark: the real training path (batch kernel, forward, loss,
//! backward, update) on synthetic 3x28x28 data, as in the paper's CIFAR-10 setting.

use std::time::Instant;

use anyhow::Result;
use clap::Args;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use shatter::{InputCrop, Trainer};
use shatter_data::{Dataset, Split};
use shatter_nn::{LrSchedule, ModelKind, SgdConfig, WeightInit};

use crate::BadInput;

#[derive(Args)]
pub struct BenchArgs {
    /// Models to measure (repeatable); default: the five CIFAR-10 models. inception-v3 runs
    /// on 75x75 inputs (its smallest) unless `--side` says otherwise.
    #[arg(long = "model")]
    models: Vec<String>,
    #[arg(long, default_value_t = 128)]
    batch_size: usize,
    /// The side of the square inputs the networks see (a centre crop of synthetic images
    /// four pixels larger, as CIFAR-10's 28 of 32). Default: 28, or the model's smallest
    /// input where that is larger (75 for inception-v3).
    #[arg(long)]
    side: Option<usize>,
    /// Timed steps per model (after one untimed warm-up epoch of the same length). Default:
    /// 20, or on CPU adapters 8 for alexnet, 3 for the small Inceptions and 2 for
    /// inception-v3 (about 25 s an epoch).
    #[arg(long)]
    steps: Option<usize>,
    /// One JSON object per line instead of text.
    #[arg(long)]
    json: bool,
    #[arg(long)]
    adapter: Option<String>,
    /// Also time each kernel of a training step alone (repeated dispatch; median of
    /// trials), and its first run (pipeline compilation included where the driver compiles
    /// at first dispatch; run with MESA_SHADER_CACHE_DISABLE=true to see it cold on Mesa).
    #[arg(long)]
    profile: bool,
    /// Also time each layer's forward and backward alone, with their GFLOP/s (repeated
    /// dispatch; median of trials).
    #[arg(long)]
    layers: bool,
    /// The adapter's fp32 peak in GFLOP/s (from its datasheet or a measured product): with
    /// `--layers`, each layer's rate and the convolutions' together are also given as a
    /// fraction of it.
    #[arg(long, value_name = "GFLOPS")]
    peak_gflops: Option<f64>,
    /// Also time the GEMM kernels alone (512x512x512 and the MLP's training shapes), every variant.
    #[arg(long)]
    gemm: bool,
    /// Autotune each model's GEMM shapes and convolutions first (only those the cache lacks), and report
    /// the seconds it took.
    #[arg(long)]
    tune: bool,
    /// An earlier `bench --json` output to compare images/s with, workload by workload.
    #[arg(long, value_name = "FILE")]
    baseline: Option<std::path::PathBuf>,
}

/// Random images of `side` x `side` and labels.
fn synthetic(images: usize, side: usize) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let bytes = 3 * side * side;
    let split = |n: usize, rng: &mut ChaCha8Rng| Split {
        images: (0..n * bytes).map(|_| rng.random()).collect(),
        labels: (0..n).map(|_| rng.random_range(0..10)).collect(),
        float_images: None,
    };
    let train = split(images, &mut rng);
    let test = split(1, &mut rng);
    Dataset {
        name: format!("synthetic-3x{side}x{side}"),
        classes: 10,
        channels: 3,
        height: side,
        width: side,
        train,
        test,
    }
}

pub fn run(args: BenchArgs) -> Result<()> {
    let models = crate::tune::models_or_all(&args.models)?;
    for &model in &models {
        crate::tune::input_side(model, args.side)?;
    }
    if args.steps == Some(0) || args.batch_size == 0 {
        return Err(BadInput("--steps and --batch-size must be at least 1".into()).into());
    }
    if let Some(peak) = args.peak_gflops
        && !(peak.is_finite() && peak > 0.0)
    {
        return Err(BadInput(format!(
            "--peak-gflops must be a positive number, not {peak}"
        ))
        .into());
    }
    let baseline = args
        .baseline
        .as_deref()
        .map(crate::bench_baseline::Baseline::load)
        .transpose()?;
    let gpu = shatter_gpu::Gpu::new(args.adapter.as_deref())?;
    if !args.json {
        println!("adapter: {}", gpu.adapter().describe());
        if let Some(b) = &baseline {
            println!("baseline: {}", b.source);
        }
    }
    let sgd = SgdConfig {
        schedule: LrSchedule {
            lr0: 0.01,
            decay: 0.95,
            decay_images: 50_000.0,
            staircase: true,
        },
        momentum: 0.9,
        weight_decay: 0.0,
    };
    if args.gemm {
        bench_gemm(&gpu, args.json)?;
    }
    for model in models {
        let steps = args.steps.unwrap_or(match model {
            ModelKind::Alexnet if gpu.is_cpu() => 8,
            ModelKind::Inception | ModelKind::InceptionNoBn if gpu.is_cpu() => 3,
            ModelKind::InceptionV3 if gpu.is_cpu() => 2,
            _ => 20,
        });
        let side = crate::tune::input_side(model, args.side)?;
        let crop = InputCrop {
            size: side,
            random: false,
            flip: false,
        };
        let images = steps * args.batch_size;
        let tune_seconds = if args.tune {
            let start = Instant::now();
            let shape = shatter_nn::NetworkShape {
                input: [3, side, side],
                classes: 10,
                batch: args.batch_size,
            };
            let output = if args.json {
                crate::tune::TuneOutput::Silent
            } else {
                crate::tune::TuneOutput::PerShape
            };
            crate::tune::tune_models(&gpu, &[model], shape, output)?;
            Some(start.elapsed().as_secs_f64())
        } else {
            None
        };
        let first_step =
            time_to_first_step(args.adapter.as_deref(), model, args.batch_size, &sgd, crop)?;
        let dataset = synthetic(images, side + 4);
        let bytes_before = gpu.buffer_bytes();
        let built = Instant::now();
        let trainer = Trainer::build(
            &gpu,
            &dataset,
            model,
            args.batch_size,
            WeightInit {
                seed: 1,
                conv: model.default_conv_init(),
            },
            &sgd,
            crop,
        )?;
        let buffer_bytes = gpu.buffer_bytes() - bytes_before;
        if args.profile {
            profile_step(&gpu, &trainer, model, args.json)?;
        }
        if args.layers {
            profile_layers(&gpu, &trainer, model, args.peak_gflops, args.json)?;
        }
        let order: Vec<u32> = (0..images as u32).collect();
        // The first epoch includes pipeline compilation in the driver: time it apart.
        trainer.train_epoch(&order, 0, &mut |_| {})?;
        let first_epoch = built.elapsed().as_secs_f64();
        // Median of three epochs: CPU adapters on shared machines are noisy.
        let mut trials = Vec::new();
        for _ in 0..3 {
            let start = Instant::now();
            trainer.train_epoch(&order, images as u64, &mut |_| {})?;
            trials.push(start.elapsed().as_secs_f64());
        }
        trials.sort_by(f64::total_cmp);
        let seconds = trials[1];
        let images_per_second = images as f64 / seconds;
        let gflops =
            trainer.network.training_flops_per_step() as f64 * steps as f64 / seconds / 1e9;
        let adapter = gpu.adapter();
        let workload = format!("{}-train", model.name());
        let before = baseline
            .as_ref()
            .and_then(|b| b.images_per_second(&workload));
        if args.json {
            let line = serde_json::json!({
                "workload": workload,
                "model": model.name(),
                "parameters": trainer.network.parameter_count(),
                "batch_norm_parameters": trainer.network.batch_norm_parameter_count(),
                "batch_size": args.batch_size,
                "input": [3, side, side],
                "steps": steps,
                "images_per_second": images_per_second,
                "gflops": gflops,
                "step_ms": seconds * 1e3 / steps as f64,
                "first_epoch_seconds": first_epoch,
                "time_to_first_step_seconds": first_step,
                "gpu_buffer_bytes": buffer_bytes,
                "baseline_images_per_second": before,
                "speedup_over_baseline": before.map(|b| images_per_second / b),
                "gemm_variant": trainer.network.plan.gemm.summary(&trainer.network.gemm_shapes),
                "conv_variant": trainer.network.plan.conv.summary(&gpu, &trainer.network.conv_problems),
                "tune_seconds": tune_seconds,
                "adapter": adapter.name,
                "backend": adapter.backend,
                "device_type": adapter.device_type,
            });
            println!("{line}");
        } else {
            println!(
                "{:<14} {:>9} params  {:>9.0} images/s  {:>7.2} GFLOP/s  {:>8.2} ms/step  first step {:.2}s  {:.1} MiB of buffers  ({}){}",
                model.name(),
                trainer.network.parameter_count(),
                images_per_second,
                gflops,
                seconds * 1e3 / steps as f64,
                first_step,
                buffer_bytes as f64 / (1024.0 * 1024.0),
                kernel_summary(&gpu, &trainer.network),
                before.map_or_else(String::new, |b| format!(
                    "  {:.2}x baseline ({b:.0} images/s)",
                    images_per_second / b
                )),
            );
        }
    }
    Ok(())
}

/// "gemm texels-8x8 (5 of 5 shapes tuned)", and "; conv ..." for a model with
/// convolutions.
fn kernel_summary(gpu: &shatter_gpu::Gpu, network: &shatter_nn::Network) -> String {
    let gemm = network.plan.gemm.summary(&network.gemm_shapes);
    let conv = network.plan.conv.summary(gpu, &network.conv_problems);
    if conv.is_empty() {
        format!("gemm {gemm}")
    } else {
        format!("gemm {gemm}; conv {conv}")
    }
}

/// Seconds from opening the adapter (an empty pipeline cache) to the end of the first
/// training step of `model`: device, buffers, pipelines, upload, and one step.
fn time_to_first_step(
    adapter: Option<&str>,
    model: ModelKind,
    batch: usize,
    sgd: &SgdConfig,
    crop: InputCrop,
) -> Result<f64> {
    let start = Instant::now();
    let gpu = shatter_gpu::Gpu::new(adapter)?;
    let trainer = Trainer::build(
        &gpu,
        &synthetic(batch, crop.size + 4),
        model,
        batch,
        WeightInit {
            seed: 1,
            conv: model.default_conv_init(),
        },
        sgd,
        crop,
    )?;
    let order: Vec<u32> = (0..batch as u32).collect();
    trainer.train_epoch(&order, 0, &mut |_| {})?;
    Ok(start.elapsed().as_secs_f64())
}

/// GEMM alone: each variant autotune would time (on GPUs, the split products too) on a
/// square shape and the shapes of an MLP training step (batch 128, 2352 -> 512): forward,
/// weight gradient (A transposed), input gradient (B transposed).
fn bench_gemm(gpu: &shatter_gpu::Gpu, json: bool) -> Result<()> {
    use shatter_nn::{GemmShape, GemmSpec, gemm, gemm_candidates};
    let shapes: [(&str, usize, usize, usize, bool, bool); 4] = [
        ("square-512", 512, 512, 512, false, false),
        ("forward-128x512x2352", 128, 512, 2352, false, false),
        ("weight-grad-2352x512x128", 2352, 512, 128, true, false),
        ("input-grad-128x2352x512", 128, 2352, 512, false, true),
    ];
    for &(name, m, n, k, trans_a, trans_b) in &shapes {
        let shape = GemmShape {
            m,
            n,
            k,
            trans_a,
            trans_b,
        };
        // A variant the adapter cannot run would time its fallback under its own name.
        let variants = gemm_candidates(gpu, shape);
        for variant in variants.into_iter().filter(|v| v.runs_on(gpu)) {
            let a = gpu.tensor("a", &[m * k], &vec![0.5; m * k])?;
            let b = gpu.tensor("b", &[k * n], &vec![0.25; k * n])?;
            let c = gpu.zeros("c", &[m, n])?;
            let spec = GemmSpec {
                m,
                n,
                k,
                trans_a,
                trans_b,
                relu: false,
                variant,
            };
            // With the copies into texel mirrors where the variant needs them.
            let d = gemm(gpu, name, spec, &a, &b, None, &c)?;
            let seconds = time_dispatches(gpu, &d.iter().collect::<Vec<_>>(), 4)?;
            let gflops = spec.flops() as f64 / seconds / 1e9;
            let workload = format!("gemm-{name}-{}", variant.name());
            if json {
                let line = serde_json::json!({
                    "workload": workload, "parameters": 0, "images_per_second": 0.0,
                    "gflops": gflops, "ms": seconds * 1e3, "adapter": gpu.adapter().name,
                });
                println!("{line}");
            } else {
                println!(
                    "{workload:<40} {gflops:>8.2} GFLOP/s  {:>8.2} ms",
                    seconds * 1e3
                );
            }
        }
    }
    Ok(())
}

/// Each kernel of a training step timed alone: run 4 times per submit, median of 5 submits.
fn profile_step(
    gpu: &shatter_gpu::Gpu,
    trainer: &Trainer,
    model: ModelKind,
    json: bool,
) -> Result<()> {
    let step = trainer.train_step();
    // The step's first run, one kernel a submit: on adapters that compile a pipeline at
    // its first dispatch (llvmpipe, lavapipe), with the driver's shader cache cold
    // (MESA_SHADER_CACHE_DISABLE=true), this is what each kernel adds to the time to the
    // first step.
    let mut first_ms = Vec::with_capacity(step.len());
    for d in &step {
        let start = Instant::now();
        gpu.run([*d])?;
        first_ms.push(start.elapsed().as_secs_f64() * 1e3);
    }
    if !json {
        println!("  {:<28} {:>8} {:>11}", "kernel", "time", "first run");
    }
    let (mut total, mut first_total) = (0.0, 0.0);
    for (d, first) in step.iter().zip(first_ms) {
        trainer.rewind()?;
        let ms = time_dispatches(gpu, &[*d], 4)? * 1e3;
        total += ms;
        first_total += first;
        if json {
            println!(
                "{}",
                serde_json::json!({"workload": format!("{}-kernel", model.name()), "kernel": d.label, "ms": ms, "first_run_ms": first, "adapter": gpu.adapter().name})
            );
        } else {
            println!("  {:<28} {ms:>8.3} ms {first:>8.1} ms", d.label);
        }
    }
    if !json {
        println!(
            "  {:<28} {total:>8.3} ms {first_total:>8.1} ms (kernels one at a time, each with a submit's overhead)",
            "sum"
        );
    }
    Ok(())
}

/// Median seconds of one run of `dispatches` over five submits. Each submit repeats them
/// enough times to last about 20 ms, and at least `min_reps` times: a GPU runs a layer in
/// microseconds, where one submit's own overhead would swamp it.
fn time_dispatches(
    gpu: &shatter_gpu::Gpu,
    dispatches: &[&shatter_gpu::Dispatch],
    min_reps: usize,
) -> Result<f64> {
    // The first run compiles the pipelines, so only the second says how long a run takes.
    gpu.run(dispatches.iter().copied())?;
    let start = Instant::now();
    gpu.run(dispatches.iter().copied())?;
    let once = start.elapsed().as_secs_f64();
    let reps = ((0.02 / once.max(1e-7)).ceil() as usize).clamp(min_reps, 2000);
    let mut trials: Vec<f64> = (0..5)
        .map(|_| {
            let start = Instant::now();
            let all = (0..reps).flat_map(|_| dispatches.iter().copied());
            gpu.run(all)
                .map(|()| start.elapsed().as_secs_f64() / reps as f64)
        })
        .collect::<Result<_, _>>()?;
    trials.sort_by(f64::total_cmp);
    Ok(trials[2])
}

/// Each layer's forward and backward timed alone, with the GFLOP/s of its conv or dense
/// products (pooling, normalization and elementwise layers show time only), and with
/// `peak_gflops` also their fraction of it, and the convolutions' together.
fn profile_layers(
    gpu: &shatter_gpu::Gpu,
    trainer: &Trainer,
    model: ModelKind,
    peak_gflops: Option<f64>,
    json: bool,
) -> Result<()> {
    // One whole step first, so every buffer holds the values of a real step.
    gpu.run(trainer.train_step())?;
    let gflops = |flops: u64, seconds: f64| {
        if flops == 0 || seconds == 0.0 {
            0.0
        } else {
            flops as f64 / seconds / 1e9
        }
    };
    let fraction = |rate: f64| peak_gflops.map(|peak| rate / peak);
    let (mut forward_total, mut backward_total) = (0.0, 0.0);
    let (mut conv_flops, mut conv_seconds) = (0, 0.0);
    for layer in &trainer.network.layers {
        trainer.rewind()?;
        let forward: Vec<_> = layer.forward.iter().collect();
        let backward: Vec<_> = layer.backward.iter().collect();
        let f = time_dispatches(gpu, &forward, 3)?;
        let b = if backward.is_empty() {
            0.0
        } else {
            time_dispatches(gpu, &backward, 3)?
        };
        forward_total += f;
        backward_total += b;
        if layer.convolution {
            conv_flops += layer.forward_flops + layer.backward_flops;
            conv_seconds += f + b;
        }
        let (forward_rate, backward_rate) = (
            gflops(layer.forward_flops, f),
            gflops(layer.backward_flops, b),
        );
        if json {
            let line = serde_json::json!({
                "workload": format!("{}-layer", model.name()),
                "layer": layer.name,
                "convolution": layer.convolution,
                "forward_ms": f * 1e3,
                "backward_ms": b * 1e3,
                "forward_gflops": forward_rate,
                "backward_gflops": backward_rate,
                "forward_fraction_of_peak": fraction(forward_rate),
                "backward_fraction_of_peak": fraction(backward_rate),
                "adapter": gpu.adapter().name,
            });
            println!("{line}");
        } else {
            let rate = |r: f64| {
                if r == 0.0 {
                    String::from("      -")
                } else {
                    format!("{r:>7.2}")
                }
            };
            let share = |r: f64| match fraction(r) {
                Some(x) if r > 0.0 => format!(" ({:>5.1}% of peak)", x * 100.0),
                Some(_) => " ".repeat(17),
                None => String::new(),
            };
            println!(
                "  {:<22} forward {:>9.3} ms {} GFLOP/s{}   backward {:>9.3} ms {} GFLOP/s{}",
                layer.name,
                f * 1e3,
                rate(forward_rate),
                share(forward_rate),
                b * 1e3,
                rate(backward_rate),
                share(backward_rate),
            );
        }
    }
    let conv_rate = gflops(conv_flops, conv_seconds);
    if json {
        let line = serde_json::json!({
            "workload": format!("{}-layers", model.name()),
            "forward_ms": forward_total * 1e3,
            "backward_ms": backward_total * 1e3,
            "convolution_ms": conv_seconds * 1e3,
            "convolution_gflops": conv_rate,
            "convolution_fraction_of_peak": fraction(conv_rate),
            "peak_gflops": peak_gflops,
            "adapter": gpu.adapter().name,
        });
        println!("{line}");
    } else {
        println!(
            "  {:<22} forward {:>9.3} ms                 backward {:>9.3} ms (layers one at a time)",
            "sum",
            forward_total * 1e3,
            backward_total * 1e3
        );
        if conv_flops > 0 {
            println!(
                "  {:<22} {:>9.3} ms forward and backward, {conv_rate:.2} GFLOP/s{}",
                "convolutions",
                conv_seconds * 1e3,
                fraction(conv_rate).map_or_else(String::new, |x| format!(
                    ", {:.1}% of the {:.0} GFLOP/s peak",
                    x * 100.0,
                    peak_gflops.unwrap_or_default()
                )),
            );
        }
    }
    Ok(())
}
