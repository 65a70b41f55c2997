//! The GEMM op behind dense layers: C = op(A) op(B) (+ bias) (ReLU), in two kernel variants.

use shatter_gpu::{Binding, Dispatch, Gpu, GpuError, Kernel, Tensor};

/// Blocks of C, rows x columns, that one invocation of shaders/gemm_vec4.wgsl computes:
/// one entry point `gemm_vec4_RxC` each (the file is generated from this list by
/// `cargo xtask gen-gemm`). Bigger blocks need fewer loads per multiply-add but spill more
/// registers and compile for longer; which is fastest depends on the shape and adapter.
pub const VEC4_TILES: [(usize, usize); 4] = [(8, 8), (16, 16), (32, 16), (16, 32)];

/// The vec4 tile CPU adapters run when no autotune result exists. On lavapipe a 16x16
/// tile ran the MLPs' big GEMMs 1.3-1.4x faster in a training step, but each of its
/// pipelines took about a second to compile, which tripled the time to a first step with
/// a cold shader cache; 8x8 compiles in a fraction of that. Autotune picks the bigger
/// tiles per shape where they pay.
pub const DEFAULT_VEC4_TILE: (usize, usize) = (8, 8);

/// Which GEMM kernel runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GemmVariant {
    /// shaders/gemm.wgsl: 4x4 register blocks with scalar loads; any shape.
    Register,
    /// shaders/gemm_vec4.wgsl: a `rows` x `cols` register block per invocation fed by
    /// 16-byte loads, no workgroup memory (one of [`VEC4_TILES`]). Best on CPU adapters,
    /// where barriers are costly and every load is issued per lane. Shapes it does not fit
    /// run `Register`.
    Vec4 { rows: usize, cols: usize },
    /// shaders/gemm_tiled.wgsl: 64x64 tiles staged in workgroup memory. Best on GPUs.
    Tiled,
}

impl GemmVariant {
    /// The variant for this adapter when nothing was tuned: `SHATTER_GEMM=<name>` if set
    /// (see [`GemmVariant::from_name`]), else by device type.
    pub fn for_adapter(gpu: &Gpu) -> Self {
        if let Some(variant) = std::env::var("SHATTER_GEMM")
            .ok()
            .and_then(|name| Self::from_name(&name))
        {
            return variant;
        }
        if gpu.is_cpu() {
            Self::default_vec4()
        } else {
            Self::Tiled
        }
    }

    pub fn default_vec4() -> Self {
        let (rows, cols) = DEFAULT_VEC4_TILE;
        Self::Vec4 { rows, cols }
    }

    /// Every variant, in the order autotune tries them.
    pub fn all() -> Vec<Self> {
        let mut all = vec![Self::Register, Self::Tiled];
        all.extend(
            VEC4_TILES
                .iter()
                .map(|&(rows, cols)| Self::Vec4 { rows, cols }),
        );
        all
    }

    /// `register`, `tiled` or `vec4-RxC`.
    pub fn name(self) -> String {
        match self {
            Self::Register => "register".into(),
            Self::Vec4 { rows, cols } => format!("vec4-{rows}x{cols}"),
            Self::Tiled => "tiled".into(),
        }
    }

    /// The variant [`GemmVariant::name`] gives, or `vec4` for the default tile; `None` for
    /// anything else, including tiles this build no longer has.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "register" => Some(Self::Register),
            "tiled" => Some(Self::Tiled),
            "vec4" => Some(Self::default_vec4()),
            _ => Self::all().into_iter().find(|v| v.name() == name),
        }
    }
}

/// The shape and form of one GEMM: C[m, n] = op(A)[m, k] op(B)[k, n].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GemmSpec {
    pub m: usize,
    pub n: usize,
    pub k: usize,
    /// A is stored [k, m].
    pub trans_a: bool,
    /// B is stored [n, k].
    pub trans_b: bool,
    pub relu: bool,
    pub variant: GemmVariant,
}

impl GemmSpec {
    /// Whether `variant` runs this spec itself rather than falling back to `Register`.
    pub fn fits(&self, variant: GemmVariant) -> bool {
        match variant {
            GemmVariant::Register | GemmVariant::Tiled => true,
            GemmVariant::Vec4 { .. } => {
                self.k.is_multiple_of(4)
                    && (!self.trans_a || self.m.is_multiple_of(4))
                    && (self.trans_b || self.n.is_multiple_of(4))
            }
        }
    }

    /// Floating-point operations of one run (a multiply and an add per term).
    pub fn flops(&self) -> u64 {
        2 * (self.m * self.n * self.k) as u64
    }
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Shape {
    m: u32,
    n: u32,
    k: u32,
    _pad: u32,
}

fn flag(on: bool) -> f64 {
    if on { 1.0 } else { 0.0 }
}

/// Build the dispatch computing `c = op(a) op(b) (+ bias)`.
pub fn gemm(
    gpu: &Gpu,
    label: &str,
    spec: GemmSpec,
    a: &Tensor,
    b: &Tensor,
    bias: Option<&Tensor>,
    c: &Tensor,
) -> Result<Dispatch, GpuError> {
    assert_eq!(
        a.len(),
        spec.m * spec.k,
        "{label}: A holds {} values, spec {spec:?}",
        a.len()
    );
    assert_eq!(
        b.len(),
        spec.k * spec.n,
        "{label}: B holds {} values, spec {spec:?}",
        b.len()
    );
    assert_eq!(
        c.len(),
        spec.m * spec.n,
        "{label}: C holds {} values, spec {spec:?}",
        c.len()
    );
    let variant = if spec.fits(spec.variant) {
        spec.variant
    } else {
        GemmVariant::Register
    };
    let (entry, workgroups) = match variant {
        GemmVariant::Vec4 { rows, cols } => (
            Kernel::new("gemm_vec4", vec4_entry(rows, cols)),
            [
                spec.n.div_ceil(8 * cols) as u32,
                spec.m.div_ceil(8 * rows) as u32,
                1,
            ],
        ),
        GemmVariant::Register => (
            Kernel::new("gemm", "gemm"),
            [spec.n.div_ceil(32) as u32, spec.m.div_ceil(32) as u32, 1],
        ),
        GemmVariant::Tiled => (
            Kernel::new("gemm_tiled", "gemm_tiled"),
            [spec.n.div_ceil(64) as u32, spec.m.div_ceil(64) as u32, 1],
        ),
    };
    let kernel = entry
        .with("TRANS_A", flag(spec.trans_a))
        .with("TRANS_B", flag(spec.trans_b))
        .with("BIAS", flag(bias.is_some()))
        .with("RELU", flag(spec.relu));
    let shape = gpu.uniform(
        &format!("{label}.shape"),
        &Shape {
            m: spec.m as u32,
            n: spec.n as u32,
            k: spec.k as u32,
            _pad: 0,
        },
    );
    // Without a bias the kernel never reads binding 3, but the layout still has it: bind
    // B there again (two read-only bindings of one buffer are allowed), so no buffer is made.
    let bias_buffer = bias.map_or(&b.buffer, |t| &t.buffer);
    gpu.dispatch(
        label,
        &kernel,
        &[
            Binding::uniform(&shape),
            Binding::read(&a.buffer),
            Binding::read(&b.buffer),
            Binding::read(bias_buffer),
            Binding::write(&c.buffer),
        ],
        workgroups,
    )
}

/// The entry point of shaders/gemm_vec4.wgsl for a tile of [`VEC4_TILES`].
fn vec4_entry(rows: usize, cols: usize) -> &'static str {
    match (rows, cols) {
        (8, 8) => "gemm_vec4_8x8",
        (16, 16) => "gemm_vec4_16x16",
        (32, 16) => "gemm_vec4_32x16",
        (16, 32) => "gemm_vec4_16x32",
        _ => panic!("no gemm_vec4 entry point for a {rows}x{cols} tile"),
    }
}
