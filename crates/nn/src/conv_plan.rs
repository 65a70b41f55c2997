//! Which convolution kernel each convolution of a network runs, and the timing that
//! chooses it.
//!
//! A [`ConvVariant`] is a load width ([`ConvLoads`]), the block of C (rows x columns) per
//! invocation and the workgroup size. A [`ConvPlan`] maps problems (a pass over a
//! geometry, [`ConvProblem`]) to variants; a problem it does not list runs
//! [`ConvVariant::default_for`], so a network builds at once with no measurement.
//! `shatter::autotune` fills the plan from timings ([`time_conv_variants`]) cached on
//! disk per adapter and driver, as for GEMMs.

use std::collections::BTreeMap;
use std::time::Instant;

use shatter_gpu::{Dispatch, Gpu, GpuError};

use crate::contenders::contenders;
use crate::conv2d::{
    ConvLoads, ConvPass, TILED_BLOCK, conv2d_backward_data, conv2d_backward_filter, conv2d_forward,
};
use crate::geometry::WindowGeometry;
use crate::product::MirrorSet;
use crate::slice::ChannelSlice;

/// The blocks of C one invocation can compute, rows x columns (BLOCK_ROWS and BLOCK_COLS
/// in shaders/_conv2d.wgsl; 32 columns only with 8 rows).
pub const CONV_BLOCKS: [(usize, usize); 5] = [(8, 8), (8, 16), (16, 8), (16, 16), (8, 32)];

/// One convolution kernel: how it loads, how much of C each invocation holds, and how
/// many invocations share a workgroup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvVariant {
    pub loads: ConvLoads,
    /// With `block_cols`, one of [`CONV_BLOCKS`].
    pub block_rows: usize,
    pub block_cols: usize,
    pub workgroup: u32,
}

impl ConvVariant {
    /// `loads` with the block and workgroup it runs best with on `gpu` untuned. Where A
    /// is read 16 bytes at a time: 16x16 on CPU adapters (on lavapipe the AlexNet's
    /// second convolution ran 1.04x, 1.11x and 1.23x faster forward, input and filter
    /// gradient than at 16x8), 16x8 elsewhere. With B's panels shared by a subgroup, A's
    /// gathers are most of the loads: 8x32, which ran that convolution 1.1-1.7x as fast
    /// as shared panels at 16x16 in all three passes (1.5-2.0x as fast as `Texels`), and
    /// the first layer's forward 1.5x as fast as `PaddedTexels`. Scalar reads of A keep
    /// more registers live: 8x8 (16 rows ran 1.2-1.5x slower there on lavapipe).
    pub fn new(gpu: &Gpu, loads: ConvLoads) -> Self {
        let (block_rows, block_cols) = match loads {
            ConvLoads::SharedTexels | ConvLoads::SharedPaddedTexels => (8, 32),
            ConvLoads::Vec4 | ConvLoads::Texels | ConvLoads::PaddedTexels if gpu.is_cpu() => {
                (16, 16)
            }
            ConvLoads::Vec4 | ConvLoads::Texels | ConvLoads::PaddedTexels => (16, 8),
            ConvLoads::Scalar | ConvLoads::Mixed => (8, 8),
            ConvLoads::Tiled => return Self::tiled(),
        };
        Self {
            loads,
            block_rows,
            block_cols,
            workgroup: default_workgroup(gpu),
        }
    }

    /// The workgroup-memory tiles ([`ConvLoads::Tiled`]), whose block and workgroup are
    /// fixed ([`TILED_BLOCK`]).
    pub fn tiled() -> Self {
        let (block_rows, block_cols, workgroup) = TILED_BLOCK;
        Self {
            loads: ConvLoads::Tiled,
            block_rows,
            block_cols,
            workgroup,
        }
    }

    /// What `problem` runs on `gpu` without a timing: the fastest loads that fit it
    /// ([`ConvLoads::best`]), shared where the device can share B's panels, with their
    /// default block.
    pub fn default_for(gpu: &Gpu, problem: &ConvProblem) -> Self {
        if browser_cpu_fallback(gpu) && problem.pass == ConvPass::BackwardFilter {
            return Self::tiled();
        }
        let texels = ConvLoads::prefers_texels(gpu);
        let loads = ConvLoads::best(problem.pass, &problem.geometry, texels);
        let shared = loads.shared();
        Self::new(gpu, if shared.runs_on(gpu) { shared } else { loads })
    }

    /// "texels-16x8-wg8": loads, block (rows x columns of C), workgroup size.
    pub fn name(&self) -> String {
        format!(
            "{}-{}x{}-wg{}",
            self.loads.name(),
            self.block_rows,
            self.block_cols,
            self.workgroup
        )
    }

    /// The variant [`ConvVariant::name`] wrote, or `None`.
    pub fn from_name(name: &str) -> Option<Self> {
        let (rest, workgroup) = name.rsplit_once("-wg")?;
        let (loads, block) = rest.rsplit_once('-')?;
        let (rows, cols) = block.split_once('x')?;
        let (block_rows, block_cols) = (rows.parse().ok()?, cols.parse().ok()?);
        let workgroup: u32 = workgroup.parse().ok()?;
        let loads = ConvLoads::from_name(loads)?;
        let valid = if loads == ConvLoads::Tiled {
            (block_rows, block_cols, workgroup) == TILED_BLOCK
        } else {
            CONV_BLOCKS.contains(&(block_rows, block_cols)) && (1..=1024).contains(&workgroup)
        };
        valid.then_some(Self {
            loads,
            block_rows,
            block_cols,
            workgroup,
        })
    }

    /// Each load width that fits `problem`, with its default block and workgroup; the
    /// workgroup-memory tiles on GPUs only.
    pub fn load_candidates(gpu: &Gpu, problem: &ConvProblem) -> Vec<Self> {
        ConvLoads::ALL
            .into_iter()
            .filter(|loads| loads.fits(problem.pass, &problem.geometry) && loads.runs_on(gpu))
            .filter(|loads| !loads.gpu_only() || !gpu.is_cpu())
            .map(|loads| Self::new(gpu, loads))
            .collect()
    }

    /// These loads and workgroup at every other block shape (none for the tiled kernel,
    /// whose tile is fixed).
    pub fn other_blocks(self) -> Vec<Self> {
        if self.loads == ConvLoads::Tiled {
            return Vec::new();
        }
        CONV_BLOCKS
            .into_iter()
            .map(|(block_rows, block_cols)| Self {
                block_rows,
                block_cols,
                ..self
            })
            .filter(|&variant| variant != self)
            .collect()
    }

    /// These loads and block in the other workgroup sizes the autotune tries: 32 and 64
    /// on CPU adapters, 32 and 256 on GPUs.
    pub fn other_workgroups(self, gpu: &Gpu) -> Vec<Self> {
        if self.loads == ConvLoads::Tiled {
            return Vec::new();
        }
        let sizes = if gpu.is_cpu() { [32, 64] } else { [32, 256] };
        sizes
            .into_iter()
            .filter(|&workgroup| workgroup != self.workgroup)
            .map(|workgroup| Self { workgroup, ..self })
            .collect()
    }
}

/// Whether `gpu` is a browser's CPU fallback adapter (SwiftShader in Chromium). Its
/// convolutions are the workgroup tiles: in headless Chromium 156 the register-blocked
/// kernels' filter gradient at the AlexNet's shapes never completed (the GPU process exited
/// after 1.5-2.5 minutes, whatever their loads), while the tiles' completes.
pub fn browser_cpu_fallback(gpu: &Gpu) -> bool {
    gpu.is_cpu() && gpu.adapter().backend == "browserwebgpu"
}

/// Invocations per workgroup without a timing: one SIMD batch on CPU adapters, so few
/// blocks still spread over the threads (the AlexNet's first filter gradient ran 1.8x
/// faster on lavapipe); two or more SIMD groups' worth on GPUs.
fn default_workgroup(gpu: &Gpu) -> u32 {
    if gpu.is_cpu() { 8 } else { 64 }
}

/// One product of one convolution layer: what a convolution kernel's speed depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvProblem {
    pub pass: ConvPass,
    pub geometry: WindowGeometry,
}

impl ConvProblem {
    /// The autotune cache's key: "conv-forward-128x28x28x3-5x5s1p2x2-28x28x64", that is
    /// the pass, batch x input height x width x channels, window, stride, top x left
    /// padding, and output height x width x filters (the padding below and right of the
    /// image is not in the key; the output size it decides is).
    pub fn key(&self) -> String {
        let g = &self.geometry;
        let pass = match self.pass {
            ConvPass::Forward => "forward",
            ConvPass::BackwardData => "data",
            ConvPass::BackwardFilter => "filter",
        };
        format!(
            "conv-{pass}-{}x{}x{}x{}-{}x{}s{}p{}x{}-{}x{}x{}",
            g.batch,
            g.in_height,
            g.in_width,
            g.in_channels,
            g.window_height,
            g.window_width,
            g.stride,
            g.pad_top,
            g.pad_left,
            g.out_height,
            g.out_width,
            g.out_channels
        )
    }

    /// Whether an autotune cache key names a convolution (the others name GEMM shapes).
    pub fn is_conv_key(key: &str) -> bool {
        key.starts_with("conv-")
    }
}

/// The convolution variant of every problem a network runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConvPlan {
    /// Problem key -> variant.
    chosen: BTreeMap<String, ConvVariant>,
}

impl ConvPlan {
    /// Run the problem of key `key` with `variant`.
    pub fn choose(&mut self, key: String, variant: ConvVariant) {
        self.chosen.insert(key, variant);
    }

    /// The variant `problem` runs on `gpu`: its own, where it has one that fits the
    /// problem and the adapter's workgroup limit, else the default.
    pub fn variant(&self, gpu: &Gpu, problem: &ConvProblem) -> ConvVariant {
        let limit = gpu.limits().max_compute_invocations_per_workgroup;
        match self.chosen.get(&problem.key()) {
            Some(v) if v.loads.fits(problem.pass, &problem.geometry) && v.workgroup <= limit => *v,
            _ => ConvVariant::default_for(gpu, problem),
        }
    }

    /// Whether `problem` has a variant of its own.
    pub fn is_tuned(&self, problem: &ConvProblem) -> bool {
        self.chosen.contains_key(&problem.key())
    }

    /// "texels-16x8-wg8, mixed-8x8-wg8 (3 of 5 convolutions tuned)", first use first; empty
    /// for a network without convolutions. Recorded in run records.
    pub fn summary(&self, gpu: &Gpu, problems: &[ConvProblem]) -> String {
        if problems.is_empty() {
            return String::new();
        }
        let mut names: Vec<String> = Vec::new();
        let mut keys: Vec<String> = Vec::new();
        for problem in problems {
            let name = self.variant(gpu, problem).name();
            if !names.contains(&name) {
                names.push(name);
            }
            if !keys.contains(&problem.key()) {
                keys.push(problem.key());
            }
        }
        let tuned = keys
            .iter()
            .filter(|k| self.chosen.contains_key(k.as_str()))
            .count();
        format!(
            "{} ({tuned} of {} convolutions tuned)",
            names.join(", "),
            keys.len()
        )
    }
}

/// The dispatches of `problem` under `variant`, on operands of `tensors`.
fn problem_dispatches(
    gpu: &Gpu,
    problem: &ConvProblem,
    variant: ConvVariant,
    tensors: &ProblemTensors,
) -> Result<Vec<Dispatch>, GpuError> {
    let g = &problem.geometry;
    let mut mirrors = MirrorSet::default();
    let t = tensors;
    match problem.pass {
        ConvPass::Forward => conv2d_forward(
            gpu,
            "tune",
            g,
            &t.x,
            &t.w,
            &t.bias,
            true,
            ChannelSlice::whole(&t.y),
            variant,
            &mut mirrors,
        ),
        ConvPass::BackwardData => conv2d_backward_data(
            gpu,
            "tune",
            g,
            &t.y,
            &t.w,
            &t.x,
            false,
            variant,
            &mut mirrors,
        ),
        ConvPass::BackwardFilter => conv2d_backward_filter(
            gpu,
            "tune",
            g,
            &t.x,
            &t.y,
            &t.w,
            variant,
            None,
            &mut mirrors,
        ),
    }
}

/// Made-up operands of one geometry: input, output and filter (as [rows, channels], the
/// shape channel slices read), and bias.
struct ProblemTensors {
    x: shatter_gpu::Tensor,
    y: shatter_gpu::Tensor,
    w: shatter_gpu::Tensor,
    bias: shatter_gpu::Tensor,
}

/// Seconds per run of `problem` under each of `variants`, on made-up operands. Each
/// variant runs once untimed (which also compiles its pipeline) and once timed, which
/// sets how many runs a round needs to last about 20 ms. Variants more than
/// [`crate::PRUNE_FACTOR`] slower than the fastest keep that one time (see [`contenders`];
/// convolutions take a tenth of a second or more on CPU adapters, where scalar loads ran
/// 3x slower than texel loads); the others are timed in
/// `trials` rounds, every variant in turn, and each keeps its best round. Taking turns
/// spreads a noisy machine's slow moments over all variants. A variant's time includes
/// the copies into texel mirrors it needs.
pub fn time_conv_variants(
    gpu: &Gpu,
    problem: &ConvProblem,
    variants: &[ConvVariant],
    trials: usize,
) -> Result<Vec<(ConvVariant, f64)>, GpuError> {
    let g = &problem.geometry;
    let tensors = ProblemTensors {
        x: gpu.tensor(
            "tune.x",
            &[g.batch * g.in_height * g.in_width, g.in_channels],
            &vec![0.5; g.input_len()],
        )?,
        y: gpu.tensor(
            "tune.y",
            &[g.output_pixels(), g.out_channels],
            &vec![0.25; g.output_len()],
        )?,
        w: gpu.tensor(
            "tune.w",
            &[g.filter_len() / g.out_channels, g.out_channels],
            &vec![0.125; g.filter_len()],
        )?,
        bias: gpu.zeros("tune.bias", &[g.out_channels])?,
    };
    let mut candidates = Vec::new();
    for &variant in variants {
        let dispatches = problem_dispatches(gpu, problem, variant, &tensors)?;
        gpu.run(&dispatches)?;
        let start = Instant::now();
        gpu.run(&dispatches)?;
        let once = start.elapsed().as_secs_f64();
        let reps = ((0.02 / once.max(1e-6)).ceil() as usize).clamp(1, 64);
        candidates.push((variant, dispatches, reps, once));
    }
    let timed_once: Vec<(ConvVariant, f64)> = candidates.iter().map(|c| (c.0, c.3)).collect();
    let contenders = contenders(&timed_once);
    for _ in 0..trials {
        for (variant, dispatches, reps, best) in &mut candidates {
            if !contenders.contains(variant) {
                continue;
            }
            let start = Instant::now();
            gpu.run(std::iter::repeat_n(dispatches.iter(), *reps).flatten())?;
            *best = best.min(start.elapsed().as_secs_f64() / *reps as f64);
        }
    }
    Ok(candidates
        .into_iter()
        .map(|(variant, _, _, best)| (variant, best))
        .collect())
}
