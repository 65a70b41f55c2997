//! Every WGSL kernel file in shaders/, embedded so a built binary needs no files at run
//! time. WGSL has no include, so a kernel may be composed: fragments (files named `_*.wgsl`)
//! are placed before the kernel's file. Kernels that `cargo xtask gen-gemm` writes live in
//! shaders/generated/ and are marked `generated` here. The naga test checks that this list,
//! the composition and the folders agree.

/// One WGSL kernel module.
#[derive(Clone, Copy, Debug)]
pub struct Shader {
    /// The kernel's file name without `.wgsl`.
    pub name: &'static str,
    /// Whether `cargo xtask gen-gemm` writes it (in shaders/generated/).
    pub generated: bool,
    /// The fragments placed before it, by file name without `.wgsl`.
    pub fragments: &'static [&'static str],
    /// The fragments and the file, concatenated.
    pub source: &'static str,
}

macro_rules! shaders {
    (@generated) => { false };
    (@generated generated) => { true };
    (@folder) => { "" };
    (@folder generated) => { "generated/" };
    ($($($generated:ident)? $name:literal $(after [$($fragment:literal),+])?),* $(,)?) => {
        /// All of shatter's kernel modules.
        pub const SHADERS: &[Shader] = &[
            $(Shader {
                name: $name,
                generated: shaders!(@generated $($generated)?),
                fragments: &[$($($fragment),+)?],
                source: concat!(
                    $($(include_str!(concat!("../../../shaders/", $fragment, ".wgsl")),)+)?
                    include_str!(concat!(
                        "../../../shaders/", shaders!(@folder $($generated)?), $name, ".wgsl"
                    ))
                ),
            },)*
        ];
    };
}

shaders![
    "avg_pool" after ["_pool"],
    "batch",
    "batch_norm" after ["_batch_norm", "_batch_norm_forward"],
    "batch_norm_backward" after ["_batch_norm", "_batch_norm_backward"],
    "batch_norm_backward_vec4" after ["_batch_norm", "_batch_norm_backward"],
    "batch_norm_vec4" after ["_batch_norm", "_batch_norm_forward"],
    "channel_slice" after ["_channel_slice"],
    "channel_slice_vec4" after ["_channel_slice", "_channel_slice_vec4"],
    "channel_slice_vec4_mirrored" after ["_channel_slice", "_channel_slice_vec4", "_texels"],
    "conv2d" after ["_conv2d_common", "_conv2d", "_conv2d_panels", "_conv2d_a_scalar", "_conv2d_b_scalar"],
    "conv2d_mixed" after ["_conv2d_common", "_conv2d", "_conv2d_panels", "_conv2d_a_scalar", "_conv2d_b_vec4"],
    "conv2d_texels" after ["_conv2d_common", "_conv2d", "_conv2d_panels", "_texels", "_conv2d_a_texels", "_conv2d_a_quads", "_conv2d_b_texels"],
    "conv2d_texels_shared" after ["_conv2d_common", "_conv2d", "_conv2d_panels_shared", "_texels", "_conv2d_a_texels", "_conv2d_a_quads", "_conv2d_b_texels"],
    "conv2d_tiled" after ["_conv2d_common", "_workgroup_tiles"],
    "conv2d_vec4" after ["_conv2d_common", "_conv2d", "_conv2d_panels", "_conv2d_a_vec4", "_conv2d_a_quads", "_conv2d_b_vec4"],
    "cursor",
    "dropout",
    "elementwise",
    "gemm" after ["_gemm_common"],
    "gemm_split_sum" after ["_gemm_common"],
    generated "gemm_subgroup" after ["_gemm_common"],
    generated "gemm_subgroup_texels" after ["_gemm_common", "_texels"],
    generated "gemm_texels" after ["_gemm_common", "_texels"],
    "gemm_tiled" after ["_gemm_common", "_workgroup_tiles"],
    generated "gemm_vec4" after ["_gemm_common"],
    "lrn" after ["_lrn"],
    "lrn_vec4" after ["_lrn"],
    "mean_pool",
    "pack_texels" after ["_texels"],
    "pack_texels_padded" after ["_texels"],
    "pool" after ["_pool"],
    "pool_vec4" after ["_pool"],
    "reduce" after ["_reduce"],
    "reduce_vec4" after ["_reduce"],
    "sgd" after ["_sgd", "_sgd_velocity_buffer"],
    "sgd_vec4" after ["_sgd", "_sgd_velocity_buffer"],
    "sgd_vec4_mirrored" after ["_sgd", "_sgd_velocity_buffer", "_texels"],
    "sgd_vec4_texel_state" after ["_sgd", "_texels"],
    "softmax_xent",
];

impl Shader {
    /// Whether the kernel calls subgroup operations, which a device must offer
    /// ([`crate::Gpu::subgroup_width`]; never in a browser).
    pub fn uses_subgroups(&self) -> bool {
        self.source.contains("subgroupBroadcast")
    }

    /// Whether the kernel reads and writes an rgba32float storage texture, which a device
    /// must offer ([`crate::Gpu::read_write_texels`]; WebGPU allows it for no four-channel
    /// format).
    pub fn uses_read_write_texels(&self) -> bool {
        self.source
            .contains("texture_storage_2d<rgba32float, read_write>")
    }
}

/// The shader of that name; panics on a name that is not in the list (a programming error).
pub fn shader(name: &str) -> Shader {
    *SHADERS
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no shader named '{name}' in shaders/"))
}
