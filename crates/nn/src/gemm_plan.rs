//! Which GEMM kernel each matrix shape of a network runs, and the timing that chooses it.
//!
//! A [`GemmPlan`] maps shapes to variants, with one default for shapes it does not list.
//! The default is fixed per adapter type ([`GemmVariant::for_adapter`]), so a network
//! builds at once with no measurement; `shatter::autotune` fills the map from timings
//! ([`time_variants`]) cached on disk per adapter and driver.

use std::collections::BTreeMap;
use std::time::Instant;

use shatter_gpu::{Dispatch, Gpu, GpuError};

use crate::contenders::contenders;
use crate::gemm::{GemmSpec, GemmVariant, gemm, tiled_k_splits};

/// What a GEMM kernel's speed depends on: C[m, n] = op(A)[m, k] op(B)[k, n] and which
/// operands are stored transposed. (The bias and ReLU epilogue cost one pass over C.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GemmShape {
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub trans_a: bool,
    pub trans_b: bool,
}

impl GemmShape {
    /// `MxNxK`, then `-ta` and `-tb` for transposed operands: the autotune cache's key.
    pub fn key(&self) -> String {
        format!(
            "{}x{}x{}{}{}",
            self.m,
            self.n,
            self.k,
            if self.trans_a { "-ta" } else { "" },
            if self.trans_b { "-tb" } else { "" }
        )
    }

    /// The shape [`GemmShape::key`] wrote, or `None`.
    pub fn from_key(key: &str) -> Option<Self> {
        let (dims, flags) = match key.split_once('-') {
            Some((_, "")) => return None,
            Some(parts) => parts,
            None => (key, ""),
        };
        let mut dims = dims.split('x').map(|d| d.parse::<usize>().ok());
        let (m, n, k) = (dims.next()??, dims.next()??, dims.next()??);
        if dims.next().is_some() {
            return None;
        }
        let (trans_a, trans_b) = match flags {
            "" => (false, false),
            "ta" => (true, false),
            "tb" => (false, true),
            "ta-tb" => (true, true),
            _ => return None,
        };
        Some(Self {
            m,
            n,
            k,
            trans_a,
            trans_b,
        })
    }

    /// The spec running this shape with `variant`, without bias or ReLU.
    pub fn spec(&self, variant: GemmVariant) -> GemmSpec {
        GemmSpec {
            m: self.m,
            n: self.n,
            k: self.k,
            trans_a: self.trans_a,
            trans_b: self.trans_b,
            relu: false,
            variant,
        }
    }
}

/// The GEMM variant for every shape a network runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GemmPlan {
    default: GemmVariant,
    /// Whether shapes with no choice of their own that `Tiled` would leave with too few
    /// workgroups run `TiledSplit` instead ([`tiled_k_splits`]): on GPUs.
    split_long_k: bool,
    chosen: BTreeMap<GemmShape, GemmVariant>,
}

impl GemmPlan {
    /// Every shape runs `default`.
    pub fn fixed(default: GemmVariant) -> Self {
        Self {
            default,
            split_long_k: false,
            chosen: BTreeMap::new(),
        }
    }

    /// The fixed plan for this adapter ([`GemmVariant::for_adapter`]); on GPUs, whose
    /// default is `Tiled`, a shape with few tiles of C and a long K splits K
    /// ([`tiled_k_splits`]). CPU adapters never split: one workgroup per core fills
    /// them already.
    pub fn for_adapter(gpu: &Gpu) -> Self {
        let default = GemmVariant::for_adapter(gpu);
        Self {
            split_long_k: default == GemmVariant::Tiled && !gpu.is_cpu(),
            ..Self::fixed(default)
        }
    }

    /// The plan GPUs get untuned: `Tiled`, split over K where [`tiled_k_splits`] says.
    /// (What [`GemmPlan::for_adapter`] gives on a GPU; tests build it on CPU adapters.)
    pub fn gpu_default() -> Self {
        Self {
            split_long_k: true,
            ..Self::fixed(GemmVariant::Tiled)
        }
    }

    /// The variant `shape` runs where nothing was chosen for it.
    pub fn default_variant(&self, shape: GemmShape) -> GemmVariant {
        match tiled_k_splits(shape.m, shape.n, shape.k) {
            splits if self.split_long_k && splits > 1 => GemmVariant::TiledSplit { splits },
            _ => self.default,
        }
    }

    /// Run `shape` with `variant`.
    pub fn choose(&mut self, shape: GemmShape, variant: GemmVariant) {
        self.chosen.insert(shape, variant);
    }

    /// The variant `shape` runs.
    pub fn variant(&self, shape: GemmShape) -> GemmVariant {
        self.chosen
            .get(&shape)
            .copied()
            .unwrap_or_else(|| self.default_variant(shape))
    }

    /// How many shapes have a variant of their own.
    pub fn chosen_count(&self) -> usize {
        self.chosen.len()
    }

    /// The variants `shapes` run, first use first, and how many shapes had their own:
    /// "vec4-32x16, vec4-16x32 (2 of 3 shapes tuned)". Recorded in run records.
    pub fn summary(&self, shapes: &[GemmShape]) -> String {
        let mut names: Vec<String> = Vec::new();
        for &shape in shapes {
            let name = self.variant(shape).name();
            if !names.contains(&name) {
                names.push(name);
            }
        }
        if names.is_empty() {
            names.push(self.default.name());
        }
        let mut distinct = shapes.to_vec();
        distinct.sort();
        distinct.dedup();
        let tuned = distinct
            .iter()
            .filter(|s| self.chosen.contains_key(s))
            .count();
        format!(
            "{} ({tuned} of {} shapes tuned)",
            names.join(", "),
            distinct.len()
        )
    }

    /// A spec of `shape` with this plan's variant for it.
    pub fn spec(&self, shape: GemmShape) -> GemmSpec {
        shape.spec(self.variant(shape))
    }
}

/// The variants autotune times for `shape` on `gpu`: every variant of
/// [`GemmVariant::all`], and on GPUs `TiledSplit` at the split count [`tiled_k_splits`]
/// gives, half and twice it (where K is long enough for them). CPU adapters never get the
/// split kernels: a workgroup per core fills them already, and each kernel timed adds to
/// tuning time.
pub fn candidates(gpu: &Gpu, shape: GemmShape) -> Vec<GemmVariant> {
    let mut variants = GemmVariant::all();
    if !gpu.is_cpu() {
        let splits = tiled_k_splits(shape.m, shape.n, shape.k);
        for s in [splits / 2, splits, splits * 2] {
            let new = GemmVariant::TiledSplit { splits: s };
            if (2..=crate::gemm::MAX_GEMM_SPLITS).contains(&s)
                && shape.k >= 16 * s
                && !variants.contains(&new)
            {
                variants.push(new);
            }
        }
    }
    variants
}

/// Seconds per run of `shape` under each of `variants` that runs it itself (variants
/// that would fall back to another are left out, and on GL the biggest tiles), on
/// made-up operands. Each variant runs once untimed (which also compiles its pipeline);
/// then `trials` rounds time `reps` runs of every variant in turn, and each keeps its
/// best round. Taking turns spreads a noisy machine's slow moments over all variants
/// instead of penalizing whichever ran then. After the first round only the
/// [`contenders`] go on: on lavapipe the `register` and `tiled` kernels of mlp1x512's
/// big products ran 11-22x slower than the fastest, and their rounds took most of the
/// time its tuning took.
pub fn time_variants(
    gpu: &Gpu,
    shape: GemmShape,
    variants: &[GemmVariant],
    reps: usize,
    trials: usize,
) -> Result<Vec<(GemmVariant, f64)>, GpuError> {
    let GemmShape { m, n, k, .. } = shape;
    let a = gpu.tensor("tune.a", &[m * k], &vec![0.5; m * k])?;
    let b = gpu.tensor("tune.b", &[k * n], &vec![0.25; k * n])?;
    let c = gpu.zeros("tune.c", &[m, n])?;
    // On the GL backend every driver call holds one context lock, and wgpu gives up on
    // it after 6 s: a tile that compiles for longer (the 512-output tiles on llvmpipe's
    // GL) could fail another thread's call, such as a second sweep worker's.
    let gl = gpu.adapter().backend == "gl";
    let mut candidates = Vec::new();
    for &variant in variants {
        let too_slow_to_compile =
            gl && matches!(variant.tile(), Some((rows, cols)) if rows * cols > 256);
        let spec = shape.spec(variant);
        if spec.fits(variant) && variant.runs_on(gpu) && !too_slow_to_compile {
            let dispatches = gemm(gpu, "tune", spec, &a, &b, None, &c)?;
            gpu.run(&dispatches)?;
            candidates.push((variant, dispatches, f64::INFINITY));
        }
    }
    // A variant's time includes the copies into texel mirrors it needs.
    let time_round = |dispatches: &[Dispatch], best: &mut f64| -> Result<(), GpuError> {
        let start = Instant::now();
        gpu.run(std::iter::repeat_n(dispatches.iter(), reps).flatten())?;
        *best = best.min(start.elapsed().as_secs_f64() / reps as f64);
        Ok(())
    };
    for (_, dispatches, best) in &mut candidates {
        time_round(dispatches, best)?;
    }
    let first_round: Vec<(GemmVariant, f64)> = candidates.iter().map(|c| (c.0, c.2)).collect();
    let contenders = contenders(&first_round);
    for _ in 1..trials {
        for (variant, dispatches, best) in &mut candidates {
            if contenders.contains(variant) {
                time_round(dispatches, best)?;
            }
        }
    }
    Ok(candidates
        .into_iter()
        .map(|(variant, _, best)| (variant, best))
        .collect())
}
