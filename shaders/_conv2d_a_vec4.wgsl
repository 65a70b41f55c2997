// A's loads of the implicit-GEMM convolution as 16-byte reads of a storage buffer (see
// gemm_vec4.wgsl for why they pay on CPU adapters); the rest of A's access is in
// _conv2d_a_quads.wgsl.

@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;

fn load_a(index: u32, count: u32) -> vec4<f32> {
    return select(vec4<f32>(0.0), a[min(index / 4u, arrayLength(&a) - 1u)], count > 0u);
}
