// B's loads of the implicit-GEMM convolution with scalar reads: any shape.

@group(0) @binding(2) var<storage, read> b: array<f32>;

fn load_b(index: u32, count: u32) -> vec4<f32> {
    let last = arrayLength(&b) - 1u;
    return vec4<f32>(
        select(0.0, b[min(index, last)], count > 0u),
        select(0.0, b[min(index + 1u, last)], count > 1u),
        select(0.0, b[min(index + 2u, last)], count > 2u),
        select(0.0, b[min(index + 3u, last)], count > 3u),
    );
}
