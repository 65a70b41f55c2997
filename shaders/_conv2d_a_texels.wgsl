// A's loads of the implicit-GEMM convolution from A's texel mirror (_texels.wgsl), 16
// bytes at a time: cheaper than storage-buffer loads on llvmpipe and lavapipe. Same
// shapes as _conv2d_a_vec4.wgsl. Out-of-range texels read as zero or as some texel of
// the mirror, and `count` discards them either way.

@group(0) @binding(1) var a_texels: texture_2d<f32>;

fn load_a(index: u32, count: u32) -> vec4<f32> {
    return select(vec4<f32>(0.0), textureLoad(a_texels, texel_coords(index / 4u), 0), count > 0u);
}
