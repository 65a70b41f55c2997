// B's loads of the implicit-GEMM convolution as 16-byte reads. Used where output
// channels are a multiple of 8 (forward, backward-filter: a panel's two column groups
// are whole) or of 4 (backward-data).

@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;

fn load_b(index: u32, count: u32) -> vec4<f32> {
    return select(vec4<f32>(0.0), b[min(index / 4u, arrayLength(&b) - 1u)], count > 0u);
}
