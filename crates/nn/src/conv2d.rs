//! 2-D convolution as an implicit GEMM (shaders/_conv2d.wgsl): forward with bias and
//! ReLU, backward-data and backward-filter; NHWC activations, [kh, kw, c, oc] filters.

use shatter_gpu::{ChannelPadding, Dispatch, Gpu, GpuError, Kernel, Tensor, workgroups_for};

use crate::conv_plan::{CONV_BLOCKS, ConvVariant};
use crate::gemm::SUBGROUP_WIDTH;
use crate::geometry::WindowGeometry;
use crate::product::{MirrorSet, OperandSource, ProductBindings, product_dispatches};
use crate::reduce::column_sum_dispatch;
use crate::slice::ChannelSlice;

/// Which product of a convolution a dispatch computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvPass {
    /// y = conv(x, w) + b
    Forward,
    /// dx from dz and w.
    BackwardData,
    /// dw from x and dz.
    BackwardFilter,
}

/// The load width of a convolution kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvLoads {
    /// shaders/conv2d.wgsl: scalar reads, any shape.
    Scalar,
    /// shaders/conv2d_mixed.wgsl: scalar reads of A, 16-byte reads of B (the filter in
    /// forward, dz in backward-filter): a first layer's 1 or 3 input channels.
    Mixed,
    /// shaders/conv2d_vec4.wgsl: 16-byte reads, where the channel counts allow them.
    Vec4,
    /// shaders/conv2d_texels.wgsl: the 16-byte reads of `Vec4` from texel mirrors of A
    /// and B, filled just before the first of the layer's products that reads them (see
    /// [`crate::MirrorSet`]); where the mirrors would not fit a texture, `Vec4` runs
    /// instead.
    Texels,
    /// shaders/conv2d_texels.wgsl on a first layer (1 or 3 input channels, forward and
    /// backward-filter): A's mirror pads each pixel's channels to 4 with zeros, and the
    /// filter's mirror its taps' channels, so every read is a whole texel. The kernel
    /// runs the padded geometry; backward-filter drops the padded channels' rows of dw.
    /// Where the mirrors would not fit a texture, `Mixed` runs instead.
    PaddedTexels,
    /// shaders/conv2d_texels_shared.wgsl: the loads of `Texels`, with each 4-k panel of B
    /// loaded once for a subgroup of 8 lanes and broadcast (see
    /// _conv2d_panels_shared.wgsl). Only on devices with 8-wide subgroups (lavapipe);
    /// elsewhere `Texels` runs instead.
    SharedTexels,
    /// The padded mirrors and geometry of `PaddedTexels` read by the kernel of
    /// `SharedTexels`: a first layer with B's panels shared by a subgroup. Only on devices
    /// with 8-wide subgroups; elsewhere `PaddedTexels` runs instead.
    SharedPaddedTexels,
    /// shaders/conv2d_tiled.wgsl: scalar reads staged through workgroup memory, a 64x64
    /// tile of C per workgroup of 256 invocations (the block and workgroup of its
    /// [`ConvVariant`] are fixed at [`TILED_BLOCK`]), any shape. For GPUs, where the
    /// other kernels' invocations each load their own rows and panels: autotune times it
    /// there, and never on CPU adapters, whose barriers are costly. A browser's CPU
    /// fallback adapter runs it for filter gradients untuned
    /// ([`crate::browser_cpu_fallback`]).
    Tiled,
}

/// The block of C (rows, columns) and the workgroup size of [`ConvLoads::Tiled`]: a
/// 64x64 tile per workgroup of 16x16 invocations.
pub const TILED_BLOCK: (usize, usize, u32) = (64, 64, 256);

impl ConvLoads {
    pub const ALL: [Self; 8] = [
        Self::Scalar,
        Self::Mixed,
        Self::Vec4,
        Self::Texels,
        Self::PaddedTexels,
        Self::SharedTexels,
        Self::SharedPaddedTexels,
        Self::Tiled,
    ];

    /// "scalar", "mixed", "vec4", "texels", "padded-texels", "shared-texels",
    /// "shared-padded-texels", "tiled": for variant names.
    pub fn name(self) -> &'static str {
        match self {
            Self::Scalar => "scalar",
            Self::Mixed => "mixed",
            Self::Vec4 => "vec4",
            Self::Texels => "texels",
            Self::PaddedTexels => "padded-texels",
            Self::SharedTexels => "shared-texels",
            Self::SharedPaddedTexels => "shared-padded-texels",
            Self::Tiled => "tiled",
        }
    }

    /// Each load width that reads one way lane by lane, beside the one that reads the same
    /// with a subgroup's lanes sharing B's panels (shaders/_conv2d_panels_shared.wgsl).
    const SHARED: [(Self, Self); 2] = [
        (Self::Texels, Self::SharedTexels),
        (Self::PaddedTexels, Self::SharedPaddedTexels),
    ];

    /// Whether `gpu` runs these loads' own kernel: the shared ones need subgroups of 8.
    pub fn runs_on(self, gpu: &Gpu) -> bool {
        !self.shares_panels() || gpu.subgroup_width() == Some(SUBGROUP_WIDTH as u32)
    }

    /// Whether autotune times these loads only on GPUs: the workgroup-memory tiles.
    pub fn gpu_only(self) -> bool {
        self == Self::Tiled
    }

    fn shares_panels(self) -> bool {
        Self::SHARED.iter().any(|&(_, shared)| shared == self)
    }

    /// The same reads with B's panels shared by a subgroup, where such loads exist.
    pub fn shared(self) -> Self {
        Self::SHARED
            .iter()
            .find(|&&(own, _)| own == self)
            .map_or(self, |&(_, shared)| shared)
    }

    /// The same reads with each lane loading its own panels: what shared loads become on
    /// a device without 8-wide subgroups.
    fn unshared(self) -> Self {
        Self::SHARED
            .iter()
            .find(|&&(_, shared)| shared == self)
            .map_or(self, |&(own, _)| own)
    }

    /// Whether the kernel runs a geometry with the input channels padded to whole texels.
    fn pads_channels(self) -> bool {
        matches!(self, Self::PaddedTexels | Self::SharedPaddedTexels)
    }

    /// The loads [`ConvLoads::name`] names, or `None`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|loads| loads.name() == name)
    }

    /// The fastest loads `pass` of `g` can use. `texels`: whether the adapter reads
    /// texel mirrors faster than storage buffers (CPU adapters, see
    /// [`ConvLoads::prefers_texels`]).
    pub fn best(pass: ConvPass, g: &WindowGeometry, texels: bool) -> Self {
        // Scalar reads of A from a mirror (a texel fetch and a pick of one component per
        // value) ran the AlexNet's first layer 1.2-1.4x slower than Mixed; padding its
        // channels to whole texels instead ran it faster.
        let preferred: &[Self] = if texels {
            &[Self::Texels, Self::PaddedTexels, Self::Mixed]
        } else {
            &[Self::Vec4, Self::Mixed]
        };
        preferred
            .iter()
            .copied()
            .find(|loads| loads.fits(pass, g))
            .unwrap_or(Self::Scalar)
    }

    /// Whether `gpu` should read convolution operands through texel mirrors. On
    /// llvmpipe and lavapipe the AlexNet's second convolution ran 1.2-1.6x faster so
    /// (copies included); GPUs keep storage buffers, which need no copies.
    pub fn prefers_texels(gpu: &Gpu) -> bool {
        gpu.is_cpu()
    }

    /// Whether every load of these widths is whole and aligned for `pass` of `g`. A's
    /// rows run along input channels (forward, backward-filter) or output channels
    /// (backward-data); B's along output channels, in panels of 8 except backward-data's.
    pub fn fits(self, pass: ConvPass, g: &WindowGeometry) -> bool {
        let (a_whole, b_whole) = match pass {
            ConvPass::Forward | ConvPass::BackwardFilter => (
                g.in_channels.is_multiple_of(4),
                g.out_channels.is_multiple_of(8),
            ),
            ConvPass::BackwardData => (
                g.out_channels.is_multiple_of(4),
                g.out_channels.is_multiple_of(4),
            ),
        };
        match self {
            Self::Scalar | Self::Tiled => true,
            Self::Mixed => b_whole,
            Self::Vec4 | Self::Texels | Self::SharedTexels => a_whole && b_whole,
            Self::PaddedTexels | Self::SharedPaddedTexels => {
                pass != ConvPass::BackwardData && !a_whole && g.out_channels.is_multiple_of(8)
            }
        }
    }

    /// Where the kernel reads A and B from for `pass` of `g`.
    fn source(self, pass: ConvPass, g: &WindowGeometry) -> OperandSource {
        match self {
            Self::Scalar | Self::Mixed | Self::Vec4 | Self::Tiled => OperandSource::Buffers,
            Self::Texels | Self::SharedTexels => OperandSource::Texels { a: None, b: None },
            Self::PaddedTexels | Self::SharedPaddedTexels => {
                let padded = g.in_channels.next_multiple_of(4);
                let pixels = ChannelPadding {
                    outer: g.batch * g.in_height * g.in_width,
                    channels: g.in_channels,
                    padded,
                    inner: 1,
                };
                let taps = ChannelPadding {
                    outer: g.window_height * g.window_width,
                    channels: g.in_channels,
                    padded,
                    inner: g.out_channels,
                };
                let b = (pass == ConvPass::Forward).then_some(taps);
                OperandSource::Texels { a: Some(pixels), b }
            }
        }
    }

    fn shader(self) -> &'static str {
        match self {
            Self::Scalar => "conv2d",
            Self::Mixed => "conv2d_mixed",
            Self::Vec4 => "conv2d_vec4",
            Self::Texels | Self::PaddedTexels => "conv2d_texels",
            Self::SharedTexels | Self::SharedPaddedTexels => "conv2d_texels_shared",
            Self::Tiled => "conv2d_tiled",
        }
    }

    fn entry_point(self) -> &'static str {
        match self {
            Self::Tiled => "conv2d_tiled",
            loads if loads.shares_panels() => "conv2d_shared",
            _ => "conv2d",
        }
    }
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct ConvShape {
    batch: u32,
    in_height: u32,
    in_width: u32,
    in_channels: u32,
    out_height: u32,
    out_width: u32,
    out_channels: u32,
    window_height: u32,
    window_width: u32,
    stride: u32,
    pad_top: u32,
    pad_left: u32,
    m: u32,
    n: u32,
    k: u32,
    c_stride: u32,
    c_offset: u32,
    row_group: u32,
    row_keep: u32,
    k_splits: u32,
    split_stride: u32,
    _pad: [u32; 2],
}

/// The GEMM (M, N, K) of `pass`.
pub fn conv_gemm_shape(pass: ConvPass, g: &WindowGeometry) -> (usize, usize, usize) {
    let taps = g.window_height * g.window_width;
    match pass {
        ConvPass::Forward => (g.output_pixels(), g.out_channels, taps * g.in_channels),
        ConvPass::BackwardData => (
            g.batch * g.in_height * g.in_width,
            g.in_channels,
            taps * g.out_channels,
        ),
        ConvPass::BackwardFilter => (taps * g.in_channels, g.out_channels, g.output_pixels()),
    }
}

/// Options of one convolution dispatch beyond its tensors.
#[derive(Clone, Copy, Debug)]
struct Epilogue {
    relu: bool,
    accumulate: bool,
    variant: ConvVariant,
    /// Ranges of K for a backward-filter pass; `None`: [`filter_gradient_splits`] chooses.
    k_splits: Option<usize>,
}

#[allow(clippy::too_many_arguments)]
fn conv_dispatch(
    gpu: &Gpu,
    label: &str,
    pass: ConvPass,
    g: &WindowGeometry,
    a: &Tensor,
    b: &Tensor,
    bias: Option<&Tensor>,
    c: ChannelSlice<'_>,
    epilogue: Epilogue,
    mirrors: &mut MirrorSet,
) -> Result<Vec<Dispatch>, GpuError> {
    let (real_m, n, _) = conv_gemm_shape(pass, g);
    assert_eq!(
        c.channels, n,
        "{label}: output slice has {} channels, not {n}",
        c.channels
    );
    assert_eq!(
        c.pixels(),
        real_m,
        "{label}: output has {} rows, not {real_m}",
        c.pixels()
    );
    let ConvVariant {
        loads,
        block_rows,
        block_cols,
        workgroup,
    } = epilogue.variant;
    assert!(
        loads.fits(pass, g),
        "{label}: {loads:?} loads do not fit {g:?}"
    );
    // The shader computes only these blocks (32 columns reuse the bottom row's registers);
    // the tiled kernel only its own.
    assert!(
        if loads == ConvLoads::Tiled {
            (block_rows, block_cols, workgroup) == TILED_BLOCK
        } else {
            CONV_BLOCKS.contains(&(block_rows, block_cols))
        },
        "{label}: no {block_rows}x{block_cols} convolution block with {loads:?} loads"
    );
    let mode = match pass {
        ConvPass::Forward => 0.0,
        ConvPass::BackwardData => 1.0,
        ConvPass::BackwardFilter => 2.0,
    };
    let flag = |on: bool| if on { 1.0 } else { 0.0 };
    // Without 8-wide subgroups, the same loads lane by lane.
    let loads = if loads.runs_on(gpu) {
        loads
    } else {
        loads.unshared()
    };
    // Where the mirrors would not fit a texture, the same reads from buffers.
    let loads = match loads {
        loads if loads.source(pass, g).fits(gpu, a, b) => loads,
        ConvLoads::Texels | ConvLoads::SharedTexels => ConvLoads::Vec4,
        ConvLoads::PaddedTexels | ConvLoads::SharedPaddedTexels => ConvLoads::Mixed,
        // Buffer reads always fit (matched by the first arm).
        buffers @ (ConvLoads::Scalar | ConvLoads::Mixed | ConvLoads::Vec4 | ConvLoads::Tiled) => {
            buffers
        }
    };
    // The kernel sees the padded channels; C keeps the real ones (see `row_group`).
    let kernel_g = if loads.pads_channels() {
        WindowGeometry {
            in_channels: g.in_channels.next_multiple_of(4),
            ..*g
        }
    } else {
        *g
    };
    let (m, _, k) = conv_gemm_shape(pass, &kernel_g);
    let (row_group, row_keep) = match (loads, pass) {
        (ConvLoads::PaddedTexels | ConvLoads::SharedPaddedTexels, ConvPass::BackwardFilter) => {
            (kernel_g.in_channels, g.in_channels)
        }
        _ => (1, 1),
    };
    let mut kernel = Kernel::new(loads.shader(), loads.entry_point())
        .with("MODE", mode)
        .with("BIAS", flag(bias.is_some()))
        .with("RELU", flag(epilogue.relu))
        .with("ACCUMULATE", flag(epilogue.accumulate));
    // The tiled kernel's block and workgroup are constants of its own.
    if loads != ConvLoads::Tiled {
        kernel = kernel
            .with("BLOCK_ROWS", block_rows as f64)
            .with("BLOCK_COLS", block_cols as f64)
            .with("WORKGROUP", workgroup as f64);
    }
    // One invocation per block of C (see shaders/_conv2d_panels.wgsl); with shared
    // panels, whole subgroups of 8 row blocks at one column block
    // (_conv2d_panels_shared.wgsl).
    let row_blocks = m.div_ceil(block_rows);
    // Invocations for the tiled kernel, whose tiles are 64 of the others' 8x8 blocks'
    // worth of C on 256 invocations: what `filter_gradient_splits` weighs.
    let blocks = match loads {
        ConvLoads::Tiled => row_blocks * n.div_ceil(block_cols) * workgroup as usize,
        ConvLoads::SharedTexels | ConvLoads::SharedPaddedTexels => {
            let width = SUBGROUP_WIDTH;
            assert!(
                (workgroup as usize).is_multiple_of(width),
                "{label}: workgroup {workgroup} is not whole subgroups"
            );
            row_blocks.div_ceil(width) * width * n.div_ceil(block_cols)
        }
        _ => row_blocks * n.div_ceil(block_cols),
    };
    let k_splits = match pass {
        ConvPass::BackwardFilter => epilogue
            .k_splits
            .unwrap_or_else(|| filter_gradient_splits(gpu, &kernel_g, blocks)),
        _ => 1,
    };
    assert!(k_splits >= 1, "{label}: K split into no ranges");
    // Partial sums are stored apart and summed after: nothing adds them to C's old values.
    assert!(
        k_splits == 1 || !epilogue.accumulate,
        "{label}: a split product cannot accumulate"
    );
    let u = |v: usize| v as u32;
    let shape = gpu.params(
        &format!("{label}.shape"),
        &ConvShape {
            batch: u(kernel_g.batch),
            in_height: u(kernel_g.in_height),
            in_width: u(kernel_g.in_width),
            in_channels: u(kernel_g.in_channels),
            out_height: u(kernel_g.out_height),
            out_width: u(kernel_g.out_width),
            out_channels: u(kernel_g.out_channels),
            window_height: u(kernel_g.window_height),
            window_width: u(kernel_g.window_width),
            stride: u(kernel_g.stride),
            pad_top: u(kernel_g.pad_top),
            pad_left: u(kernel_g.pad_left),
            m: u(m),
            n: u(n),
            k: u(k),
            c_stride: u(c.stride()),
            c_offset: u(c.offset),
            row_group: u(row_group),
            row_keep: u(row_keep),
            k_splits: u(k_splits),
            split_stride: u(c.tensor.len()),
            _pad: [0; 2],
        },
    );
    let [x, y, _] = if loads == ConvLoads::Tiled {
        [n.div_ceil(block_cols) as u32, row_blocks as u32, 1]
    } else {
        workgroups_for(blocks, workgroup)
    };
    // Split K's ranges store into a scratch tensor, one copy of C each, then summed into C.
    let partial = if k_splits > 1 {
        Some(gpu.zeros(&format!("{label}.partial"), &[k_splits, c.tensor.len()])?)
    } else {
        None
    };
    let operands = ProductBindings {
        shape: &shape,
        a,
        b,
        bias,
        c: partial.as_ref().unwrap_or(c.tensor),
        workgroups: [x, y, k_splits as u32],
    };
    let mut dispatches = product_dispatches(
        gpu,
        label,
        &kernel,
        operands,
        loads.source(pass, g),
        mirrors,
    )?;
    if let Some(partial) = &partial {
        dispatches.push(column_sum_dispatch(
            gpu,
            &format!("{label}.split_sum"),
            partial,
            k_splits,
            c.tensor.len(),
            c.tensor,
        )?);
    }
    Ok(dispatches)
}

/// Invocations a GPU needs in flight to fill its cores (an H200 has 132 multiprocessors;
/// with the convolution's 64-float blocks, a few hundred invocations fit on each).
const GPU_INVOCATIONS: usize = 32_768;

/// Groups of 4 output positions each range of a split filter gradient sums at the least,
/// so that the partial results stay a small fraction of the work.
const MIN_GROUPS_PER_SPLIT: usize = 32;

/// Ranges of K to split a backward-filter pass of `g` into on `gpu`, whose `blocks` blocks
/// of C are too few to fill a GPU: a first layer's filter gradient has a hundred blocks
/// and K = batch x height x width (100,352 in the AlexNet), so unsplit its few
/// invocations each walk all of K (19 ms on an H200, against 0.17 ms for cuDNN's whole
/// backward). CPU adapters run a workgroup per core, which a hundred blocks already fill,
/// and keep 1.
pub fn filter_gradient_splits(gpu: &Gpu, g: &WindowGeometry, blocks: usize) -> usize {
    if gpu.is_cpu() {
        1
    } else {
        gpu_k_splits(g.batch * g.out_height * g.out_width.div_ceil(4), blocks)
    }
}

/// Ranges to cut `groups` groups of K into on a GPU, for a product of `blocks` blocks:
/// enough for `GPU_INVOCATIONS` invocations, each range at least
/// `MIN_GROUPS_PER_SPLIT` groups, at most 256 ranges.
pub fn gpu_k_splits(groups: usize, blocks: usize) -> usize {
    GPU_INVOCATIONS
        .div_ceil(blocks.max(1))
        .min(groups / MIN_GROUPS_PER_SPLIT)
        .clamp(1, 256)
}

/// y = conv(x, w) + b, then ReLU when `relu`, written into the channel slice `y`.
#[allow(clippy::too_many_arguments)]
pub fn conv2d_forward(
    gpu: &Gpu,
    label: &str,
    g: &WindowGeometry,
    x: &Tensor,
    w: &Tensor,
    b: &Tensor,
    relu: bool,
    y: ChannelSlice<'_>,
    variant: ConvVariant,
    mirrors: &mut MirrorSet,
) -> Result<Vec<Dispatch>, GpuError> {
    assert_eq!(x.len(), g.input_len(), "{label}: input length");
    assert_eq!(w.len(), g.filter_len(), "{label}: filter length");
    conv_dispatch(
        gpu,
        label,
        ConvPass::Forward,
        g,
        x,
        w,
        Some(b),
        y,
        Epilogue {
            relu,
            accumulate: false,
            variant,
            k_splits: None,
        },
        mirrors,
    )
}

/// dx = the gradient of the input from dz (the gradient of the convolution's output,
/// [batch, out_h, out_w, out_c]); added to dx when `accumulate`.
#[allow(clippy::too_many_arguments)]
pub fn conv2d_backward_data(
    gpu: &Gpu,
    label: &str,
    g: &WindowGeometry,
    dz: &Tensor,
    w: &Tensor,
    dx: &Tensor,
    accumulate: bool,
    variant: ConvVariant,
    mirrors: &mut MirrorSet,
) -> Result<Vec<Dispatch>, GpuError> {
    assert_eq!(dz.len(), g.output_len(), "{label}: output-gradient length");
    assert_eq!(dx.len(), g.input_len(), "{label}: input-gradient length");
    conv_dispatch(
        gpu,
        label,
        ConvPass::BackwardData,
        g,
        dz,
        w,
        None,
        ChannelSlice::whole(dx),
        Epilogue {
            relu: false,
            accumulate,
            variant,
            k_splits: None,
        },
        mirrors,
    )
}

/// dw = the gradient of the filter from x and dz, with K cut into `k_splits` ranges
/// summed apart and then added up (`None`: as [`filter_gradient_splits`] chooses for
/// `gpu`; tests pass a count so that CPU adapters run split products too).
#[allow(clippy::too_many_arguments)]
pub fn conv2d_backward_filter(
    gpu: &Gpu,
    label: &str,
    g: &WindowGeometry,
    x: &Tensor,
    dz: &Tensor,
    dw: &Tensor,
    variant: ConvVariant,
    k_splits: Option<usize>,
    mirrors: &mut MirrorSet,
) -> Result<Vec<Dispatch>, GpuError> {
    assert_eq!(x.len(), g.input_len(), "{label}: input length");
    assert_eq!(dz.len(), g.output_len(), "{label}: output-gradient length");
    assert_eq!(dw.len(), g.filter_len(), "{label}: filter-gradient length");
    conv_dispatch(
        gpu,
        label,
        ConvPass::BackwardFilter,
        g,
        x,
        dz,
        None,
        ChannelSlice {
            tensor: dw,
            offset: 0,
            channels: g.out_channels,
        },
        Epilogue {
            relu: false,
            accumulate: false,
            variant,
            k_splits,
        },
        mirrors,
    )
}
