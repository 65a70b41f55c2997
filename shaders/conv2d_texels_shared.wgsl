// The implicit-GEMM convolution (_conv2d.wgsl) with 16-byte loads of A and B from their
// texel mirrors (as conv2d_texels.wgsl), B's panels shared by a subgroup's lanes
// (_conv2d_panels_shared.wgsl): for devices with 8-wide subgroups.
