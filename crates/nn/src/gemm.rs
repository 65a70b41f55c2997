//! The GEMM op behind dense layers: C = op(A) op(B) (+ bias) (ReLU), in two kernel variants.

use shatter_gpu::{Binding, Dispatch, Gpu, GpuError, Kernel, Tensor};

/// Which GEMM kernel family a device runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GemmVariant {
    /// shaders/gemm.wgsl: 4x4 register blocks with scalar loads; any shape.
    Register,
    /// shaders/gemm_vec4.wgsl: register blocks fed by 16-byte loads, no workgroup memory.
    /// Best on CPU adapters, where barriers are costly and every load is issued per lane.
    /// Shapes it does not fit run `Register`.
    Vec4,
    /// shaders/gemm_tiled.wgsl: 64x64 tiles staged in workgroup memory. Best on GPUs.
    Tiled,
}

impl GemmVariant {
    /// The variant for this adapter: `SHATTER_GEMM=register|vec4|tiled` if set, else by device type.
    pub fn for_adapter(gpu: &Gpu) -> Self {
        match std::env::var("SHATTER_GEMM").as_deref() {
            Ok("register") => Self::Register,
            Ok("vec4") => Self::Vec4,
            Ok("tiled") => Self::Tiled,
            _ if gpu.is_cpu() => Self::Vec4,
            _ => Self::Tiled,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::Vec4 => "vec4",
            Self::Tiled => "tiled",
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
    pub fn new(m: usize, n: usize, k: usize, variant: GemmVariant) -> Self {
        Self {
            m,
            n,
            k,
            trans_a: false,
            trans_b: false,
            relu: false,
            variant,
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
    let vec4_fits = spec.k.is_multiple_of(4)
        && (!spec.trans_a || spec.m.is_multiple_of(4))
        && (spec.trans_b || spec.n.is_multiple_of(8));
    let (entry, workgroups) = match spec.variant {
        GemmVariant::Vec4 if vec4_fits => (
            Kernel::new("gemm_vec4", "gemm_vec4_8x8"),
            [spec.n.div_ceil(64) as u32, spec.m.div_ceil(64) as u32, 1],
        ),
        GemmVariant::Register | GemmVariant::Vec4 => (
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
