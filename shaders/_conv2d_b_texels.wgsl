// B's loads of the implicit-GEMM convolution from B's texel mirror (_texels.wgsl), 16
// bytes at a time. Same shapes as _conv2d_b_vec4.wgsl.

@group(0) @binding(2) var b_texels: texture_2d<f32>;

fn load_b(index: u32, count: u32) -> vec4<f32> {
    return select(vec4<f32>(0.0), textureLoad(b_texels, texel_coords(index / 4u), 0), count > 0u);
}
