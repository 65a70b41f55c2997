//! The autotune cache: the fastest GEMM variant per matrix shape and the fastest
//! convolution kernel per convolution problem, measured once per adapter and driver and
//! kept on disk, so every later run builds its network with them.
//!
//! The cache is one JSON file (see [`cache_path`]), keyed by [`adapter_key`] (adapter
//! name, backend, driver and driver version) and then by [`GemmShape::key`] or
//! [`ConvProblem::key`] (which starts with "conv-"). Without an entry a shape runs the
//! adapter's fixed default, so nothing ever waits for a measurement it did not ask for:
//! `cargo xtask tune` and `cargo xtask sweep` fill the cache, and `SHATTER_AUTOTUNE=off`
//! ignores it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use shatter_gpu::Gpu;
use shatter_nn::{
    ConvProblem, ConvVariant, GemmPlan, GemmShape, GemmVariant, KernelPlan, contenders,
    gemm_candidates, time_conv_variants, time_variants,
};

use crate::atomic_file::write_atomic;

/// Bumped when the meaning of an entry changes; a file of another format is ignored.
const CACHE_FORMAT: u32 = 1;

/// Where the cache lives: `$SHATTER_CACHE_DIR/autotune.json`, else
/// `$XDG_CACHE_HOME/shatter/autotune.json`, else `~/.cache/shatter/autotune.json`.
pub fn cache_path() -> PathBuf {
    let dir = std::env::var_os("SHATTER_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("shatter")))
        .or_else(|| std::env::var_os("HOME").map(|d| PathBuf::from(d).join(".cache/shatter")))
        .unwrap_or_else(|| PathBuf::from(".shatter-cache"));
    dir.join("autotune.json")
}

/// Whether `SHATTER_AUTOTUNE=off` asks for the fixed defaults.
pub fn autotune_disabled() -> bool {
    std::env::var("SHATTER_AUTOTUNE").is_ok_and(|v| v == "off")
}

/// The adapter and driver a timing holds for: "name | backend | driver | driver_info".
pub fn adapter_key(gpu: &Gpu) -> String {
    let a = gpu.adapter();
    format!(
        "{} | {} | {} | {}",
        a.name, a.backend, a.driver, a.driver_info
    )
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct CacheFile {
    format: u32,
    /// adapter key -> shape or convolution key -> variant name.
    adapters: BTreeMap<String, BTreeMap<String, String>>,
}

/// One shape's measurement: every variant's milliseconds per run, and the winner.
#[derive(Clone, Debug)]
pub struct ShapeTiming {
    pub shape: GemmShape,
    pub timings: Vec<(GemmVariant, f64)>,
    pub best: GemmVariant,
}

/// One convolution problem's measurement: every variant's milliseconds per run, and the
/// winner.
#[derive(Clone, Debug)]
pub struct ConvTiming {
    pub problem: ConvProblem,
    pub timings: Vec<(ConvVariant, f64)>,
    pub best: ConvVariant,
}

/// The cache file's contents, read once.
#[derive(Debug)]
pub struct TuneCache {
    path: PathBuf,
    file: CacheFile,
    /// Why the file on disk was not used, when it exists but could not be.
    pub ignored: Option<String>,
}

impl TuneCache {
    /// Read `path`; a missing file is an empty cache, and an unreadable, malformed or
    /// other-format file is an empty cache with the reason in `ignored` (it is replaced
    /// on the next save).
    pub fn load(path: &Path) -> Self {
        let mut cache = Self {
            path: path.to_owned(),
            file: CacheFile {
                format: CACHE_FORMAT,
                ..CacheFile::default()
            },
            ignored: None,
        };
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return cache,
            Err(e) => {
                cache.ignored = Some(format!("{}: {e}", path.display()));
                return cache;
            }
        };
        match serde_json::from_str::<CacheFile>(&text) {
            Ok(file) if file.format == CACHE_FORMAT => cache.file = file,
            Ok(file) => {
                cache.ignored = Some(format!(
                    "{}: format {} (this build reads {CACHE_FORMAT})",
                    path.display(),
                    file.format
                ))
            }
            Err(e) => cache.ignored = Some(format!("{}: {e}", path.display())),
        }
        cache
    }

    /// The plan for `gpu`: its fixed defaults, and every cached shape's and convolution's
    /// variant. Entries naming a variant this build does not have are skipped.
    pub fn plan(&self, gpu: &Gpu) -> KernelPlan {
        let mut plan = KernelPlan::for_adapter(gpu);
        if let Some(shapes) = self.file.adapters.get(&adapter_key(gpu)) {
            for (key, name) in shapes {
                if ConvProblem::is_conv_key(key) {
                    if let Some(variant) = ConvVariant::from_name(name) {
                        plan.conv.choose(key.clone(), variant);
                    }
                } else if let (Some(shape), Some(variant)) =
                    (GemmShape::from_key(key), GemmVariant::from_name(name))
                {
                    plan.gemm.choose(shape, variant);
                }
            }
        }
        plan
    }

    /// The convolution problems of `problems` this cache has no entry for on `gpu`,
    /// without repeats, first use first.
    pub fn missing_convs(&self, gpu: &Gpu, problems: &[ConvProblem]) -> Vec<ConvProblem> {
        let known = self.file.adapters.get(&adapter_key(gpu));
        let mut missing: Vec<ConvProblem> = Vec::new();
        for problem in problems {
            let key = problem.key();
            if known.is_none_or(|k| !k.contains_key(&key))
                && !missing.iter().any(|m| m.key() == key)
            {
                missing.push(*problem);
            }
        }
        missing
    }

    /// Time the convolution kernels on each problem of `problems` not yet cached for
    /// `gpu` and record the winner ([`tune_conv_problem`]); `on_problem` hears of each as
    /// it finishes. Call [`TuneCache::save`] after.
    pub fn tune_convs(
        &mut self,
        gpu: &Gpu,
        problems: &[ConvProblem],
        mut on_problem: impl FnMut(&ConvTiming),
    ) -> Result<Vec<ConvTiming>> {
        let mut results = Vec::new();
        for problem in self.missing_convs(gpu, problems) {
            let timing = tune_conv_problem(gpu, &problem)
                .with_context(|| format!("timing convolution {}", problem.key()))?;
            self.file
                .adapters
                .entry(adapter_key(gpu))
                .or_default()
                .insert(problem.key(), timing.best.name());
            on_problem(&timing);
            results.push(timing);
        }
        Ok(results)
    }

    /// The shapes of `shapes` this cache has no entry for on `gpu`, without repeats.
    pub fn missing(&self, gpu: &Gpu, shapes: &[GemmShape]) -> Vec<GemmShape> {
        let known = self.file.adapters.get(&adapter_key(gpu));
        let mut missing: Vec<GemmShape> = shapes
            .iter()
            .filter(|s| known.is_none_or(|k| !k.contains_key(&s.key())))
            .copied()
            .collect();
        missing.sort();
        missing.dedup();
        missing
    }

    /// Time every variant on each shape of `shapes` not yet cached for `gpu` and record
    /// the winner ([`pick`]); `on_shape` hears of each as it finishes. Call
    /// [`TuneCache::save`] after.
    pub fn tune(
        &mut self,
        gpu: &Gpu,
        shapes: &[GemmShape],
        mut on_shape: impl FnMut(&ShapeTiming),
    ) -> Result<Vec<ShapeTiming>> {
        let untuned = GemmPlan::for_adapter(gpu);
        let mut results = Vec::new();
        for shape in self.missing(gpu, shapes) {
            let timings = robust_timings(gpu, shape)
                .with_context(|| format!("timing GEMM {}", shape.key()))?;
            let best = pick(&timings, untuned.default_variant(shape));
            self.file
                .adapters
                .entry(adapter_key(gpu))
                .or_default()
                .insert(shape.key(), best.name());
            let timing = ShapeTiming {
                shape,
                timings: timings.iter().map(|&(v, s)| (v, s * 1e3)).collect(),
                best,
            };
            on_shape(&timing);
            results.push(timing);
        }
        Ok(results)
    }

    /// Write the cache through a temporary file, merged over what is on disk now, so
    /// entries another process saved meanwhile are kept.
    pub fn save(&self) -> Result<()> {
        let mut merged = Self::load(&self.path).file;
        for (adapter, shapes) in &self.file.adapters {
            merged
                .adapters
                .entry(adapter.clone())
                .or_default()
                .extend(shapes.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        merged.format = CACHE_FORMAT;
        let json = serde_json::to_string_pretty(&merged)?;
        write_atomic(&self.path, json.as_bytes())
    }
}

/// How much faster than the adapter's default a variant must be to replace it.
const REQUIRED_GAIN: f64 = 0.15;

/// Each variant's time on `shape` is the slower of two measurements on operands
/// allocated apart. On CPU adapters a kernel's speed can depend on where its buffers
/// landed in memory (by 2-4x for the biggest register tiles on a 2-core VM), and a run
/// gets placements a tuner never saw, so a variant must be fast in both to win. Only the
/// first measurement's [`contenders`] are measured again; the others keep their first
/// time, too slow to win either way.
fn robust_timings(gpu: &Gpu, shape: GemmShape) -> Result<Vec<(GemmVariant, f64)>> {
    let first = time_variants(gpu, shape, &gemm_candidates(gpu, shape), 3, 3)?;
    let second = time_variants(gpu, shape, &contenders(&first), 3, 3)?;
    Ok(first
        .into_iter()
        .map(|(variant, a)| {
            let b = second
                .iter()
                .find(|&&(again, _)| again == variant)
                .map_or(a, |&(_, b)| b);
            (variant, a.max(b))
        })
        .collect())
}

/// The convolution kernels timed on `problem`, and the winner, found in three stages,
/// each building on the fastest so far: every load width that fits (at its default
/// block), then the fastest at every other block shape, then in the other workgroup
/// sizes. The fastest so far is timed again beside each stage's candidates, so every
/// comparison is like for like. The 15% rule of [`pick`] keeps the default otherwise.
/// Stages instead of every combination: the ranking of load widths held at every block
/// shape on lavapipe, and each kernel compiled costs a second or two there.
pub fn tune_conv_problem(gpu: &Gpu, problem: &ConvProblem) -> Result<ConvTiming> {
    let default = ConvVariant::default_for(gpu, problem);
    let mut timings = time_conv(gpu, problem, &ConvVariant::load_candidates(gpu, problem))?;
    let blocks = fastest(&timings).other_blocks();
    retime_with(gpu, problem, &mut timings, &blocks)?;
    let workgroups = fastest(&timings).other_workgroups(gpu);
    retime_with(gpu, problem, &mut timings, &workgroups)?;
    let best = pick(&timings, default);
    Ok(ConvTiming {
        problem: *problem,
        timings: timings.iter().map(|&(v, s)| (v, s * 1e3)).collect(),
        best,
    })
}

/// Rounds per variant of a convolution timing.
const CONV_TRIALS: usize = 2;

fn time_conv(
    gpu: &Gpu,
    problem: &ConvProblem,
    variants: &[ConvVariant],
) -> Result<Vec<(ConvVariant, f64)>> {
    Ok(time_conv_variants(gpu, problem, variants, CONV_TRIALS)?)
}

fn fastest(timings: &[(ConvVariant, f64)]) -> ConvVariant {
    timings
        .iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .expect("scalar loads fit every convolution")
        .0
}

/// Time `candidates` beside the fastest of `timings`, whose new time replaces its old.
fn retime_with(
    gpu: &Gpu,
    problem: &ConvProblem,
    timings: &mut Vec<(ConvVariant, f64)>,
    candidates: &[ConvVariant],
) -> Result<()> {
    let leader = fastest(timings);
    let mut variants = vec![leader];
    variants.extend_from_slice(candidates);
    let again = time_conv(gpu, problem, &variants)?;
    timings.retain(|(v, _)| *v != leader);
    timings.extend(again);
    Ok(())
}

/// The fastest variant of `timings`, except that `default` stays unless another beats
/// it by `REQUIRED_GAIN`: a marginal win is as likely noise as speed.
pub fn pick<V: Copy + PartialEq>(timings: &[(V, f64)], default: V) -> V {
    let (fastest, fastest_time) = *timings
        .iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .expect("some variant runs every shape");
    match timings.iter().find(|(v, _)| *v == default) {
        Some(&(_, default_time)) if fastest_time > default_time * (1.0 - REQUIRED_GAIN) => default,
        _ => fastest,
    }
}

/// The plan every run uses: the cached choices for this adapter, or the fixed defaults
/// with `SHATTER_AUTOTUNE=off` or no cache.
pub fn kernel_plan(gpu: &Gpu) -> KernelPlan {
    if autotune_disabled() {
        return KernelPlan::for_adapter(gpu);
    }
    TuneCache::load(&cache_path()).plan(gpu)
}

/// What one training step of a model runs that the autotune can choose kernels for.
pub struct ModelProblems {
    /// GEMM shapes, in order, repeats included.
    pub gemm: Vec<GemmShape>,
    /// Convolution products, in order.
    pub conv: Vec<ConvProblem>,
}

/// The GEMM shapes and convolution problems one training step of `kind` runs at
/// `shape`: read off a network built (with the fixed plan) for the purpose.
pub fn model_problems(
    gpu: &Gpu,
    kind: shatter_nn::ModelKind,
    shape: shatter_nn::NetworkShape,
) -> Result<ModelProblems> {
    let cursor = gpu.u32_buffer("tune.cursor", &[0; 4])?;
    let init = shatter_nn::WeightInit {
        seed: 0,
        conv: shatter_nn::ConvInit::default(),
    };
    let network = shatter_nn::Network::build(
        gpu,
        kind,
        shape,
        init,
        &KernelPlan::for_adapter(gpu),
        &cursor.buffer,
    )?;
    Ok(ModelProblems {
        gemm: network.gemm_shapes,
        conv: network.conv_problems,
    })
}
