//! The GEMM op behind dense layers: C = op(A) op(B) (+ bias) (ReLU), in several kernel variants.

use shatter_gpu::{Dispatch, Gpu, GpuError, Kernel, Tensor};

use crate::product::{MirrorSet, OperandSource, ProductBindings, product_dispatches};

/// Blocks of C, rows x columns, that one invocation of shaders/gemm_vec4.wgsl and
/// shaders/gemm_texels.wgsl computes: one entry point `gemm_vec4_RxC` and `gemm_texels_RxC`
/// each (the files are generated from this list by `cargo xtask gen-gemm`). Bigger blocks need fewer loads per multiply-add but spill more
/// registers and compile for longer; which is fastest depends on the shape and adapter.
pub const VEC4_TILES: [(usize, usize); 4] = [(8, 8), (16, 16), (32, 16), (16, 32)];

/// The tile CPU adapters run when no autotune result exists, as `Texels` (texel fetches
/// beat storage loads there; see shaders/_texels.wgsl). On lavapipe a 16x16 tile ran the
/// MLPs' big GEMMs 1.3-1.4x faster in a training step, but each of its pipelines took
/// about a second to compile, which tripled the time to a first step with a cold shader
/// cache; 8x8 compiles in a fraction of that. Autotune picks the bigger tiles per shape
/// where they pay.
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
    /// shaders/gemm_texels.wgsl: the `Vec4` kernel of the same tile reading A and B from
    /// texel mirrors, filled just before the first of the layer's products that reads
    /// them (see [`crate::MirrorSet`]). Faster on
    /// llvmpipe and lavapipe, whose texel fetches are gathers and storage loads are not.
    /// Shapes whose operands would not fit a texture run `Vec4`.
    Texels { rows: usize, cols: usize },
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
            let (rows, cols) = DEFAULT_VEC4_TILE;
            Self::Texels { rows, cols }
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
        all.extend(
            VEC4_TILES
                .iter()
                .map(|&(rows, cols)| Self::Texels { rows, cols }),
        );
        all
    }

    /// `register`, `tiled`, `vec4-RxC` or `texels-RxC`.
    pub fn name(self) -> String {
        match self {
            Self::Register => "register".into(),
            Self::Vec4 { rows, cols } => format!("vec4-{rows}x{cols}"),
            Self::Texels { rows, cols } => format!("texels-{rows}x{cols}"),
            Self::Tiled => "tiled".into(),
        }
    }

    /// The register block of C per invocation, for the variants that have one.
    pub fn tile(self) -> Option<(usize, usize)> {
        match self {
            Self::Vec4 { rows, cols } | Self::Texels { rows, cols } => Some((rows, cols)),
            Self::Register | Self::Tiled => None,
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
            GemmVariant::Vec4 { .. } | GemmVariant::Texels { .. } => {
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

/// Build the dispatches computing `c = op(a) op(b) (+ bias)`, to record in order: the
/// GEMM, preceded for the `Texels` variant by the copies of A and B into their mirrors.
pub fn gemm(
    gpu: &Gpu,
    label: &str,
    spec: GemmSpec,
    a: &Tensor,
    b: &Tensor,
    bias: Option<&Tensor>,
    c: &Tensor,
) -> Result<Vec<Dispatch>, GpuError> {
    gemm_mirrored(gpu, label, spec, a, b, bias, c, &mut MirrorSet::default())
}

/// [`gemm`], with the texel mirrors of a layer's products shared through `mirrors`: an
/// operand already mirrored there is not copied again.
#[allow(clippy::too_many_arguments)]
pub fn gemm_mirrored(
    gpu: &Gpu,
    label: &str,
    spec: GemmSpec,
    a: &Tensor,
    b: &Tensor,
    bias: Option<&Tensor>,
    c: &Tensor,
    mirrors: &mut MirrorSet,
) -> Result<Vec<Dispatch>, GpuError> {
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
    let variant = match spec.variant {
        v if !spec.fits(v) => GemmVariant::Register,
        GemmVariant::Texels { rows, cols } if !operand_source(spec.variant).fits(gpu, a, b) => {
            GemmVariant::Vec4 { rows, cols }
        }
        v => v,
    };
    let tile_grid = |rows: usize, cols: usize| {
        [
            spec.n.div_ceil(8 * cols) as u32,
            spec.m.div_ceil(8 * rows) as u32,
            1,
        ]
    };
    let (entry, workgroups) = match variant {
        GemmVariant::Vec4 { rows, cols } => (
            Kernel::new("gemm_vec4", tile_entry(variant)),
            tile_grid(rows, cols),
        ),
        GemmVariant::Texels { rows, cols } => (
            Kernel::new("gemm_texels", tile_entry(variant)),
            tile_grid(rows, cols),
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
    let operands = ProductBindings {
        shape: &shape,
        a,
        b,
        bias,
        c,
        workgroups,
    };
    product_dispatches(
        gpu,
        label,
        &kernel,
        operands,
        operand_source(variant),
        mirrors,
    )
}

/// Where `variant` reads A and B from.
fn operand_source(variant: GemmVariant) -> OperandSource {
    match variant {
        GemmVariant::Texels { .. } => OperandSource::Texels { a: None, b: None },
        GemmVariant::Register | GemmVariant::Tiled | GemmVariant::Vec4 { .. } => {
            OperandSource::Buffers
        }
    }
}

/// The entry point of shaders/gemm_vec4.wgsl or shaders/gemm_texels.wgsl for a variant
/// with a tile of [`VEC4_TILES`].
fn tile_entry(variant: GemmVariant) -> &'static str {
    match variant {
        GemmVariant::Vec4 { rows: 8, cols: 8 } => "gemm_vec4_8x8",
        GemmVariant::Vec4 { rows: 16, cols: 16 } => "gemm_vec4_16x16",
        GemmVariant::Vec4 { rows: 32, cols: 16 } => "gemm_vec4_32x16",
        GemmVariant::Vec4 { rows: 16, cols: 32 } => "gemm_vec4_16x32",
        GemmVariant::Texels { rows: 8, cols: 8 } => "gemm_texels_8x8",
        GemmVariant::Texels { rows: 16, cols: 16 } => "gemm_texels_16x16",
        GemmVariant::Texels { rows: 32, cols: 16 } => "gemm_texels_32x16",
        GemmVariant::Texels { rows: 16, cols: 32 } => "gemm_texels_16x32",
        _ => panic!("no generated GEMM entry point for {}", variant.name()),
    }
}
