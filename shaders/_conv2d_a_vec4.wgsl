// A's loads of the implicit-GEMM convolution as 16-byte reads (see gemm_vec4.wgsl for
// why they pay on CPU adapters). Used where input channels are a multiple of 4 (forward,
// backward-filter) or output channels are (backward-data): then `count` is always 0 or 4,
// and the four rows of a backward-filter group are four consecutive channels of one tap.

@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;

fn load_a(index: u32, count: u32) -> vec4<f32> {
    return select(vec4<f32>(0.0), a[min(index / 4u, arrayLength(&a) - 1u)], count > 0u);
}

fn filter_column(t: TapRows, image: u32, ih: i32, iw: i32, valid: bool) -> vec4<f32> {
    let p = input_pixel(image, ih, iw);
    return load_a(p.x + t.channel.x, select(0u, 4u, valid && p.y == 1u));
}

fn a_tile_filter(t: TapRows, image: u32, oh: u32, ow: u32, count: u32) -> mat4x4<f32> {
    let s = shape.stride;
    let ih = i32(oh * s) + t.dh.x;
    return mat4x4<f32>(
        filter_column(t, image, ih, i32(ow * s) + t.dw.x, 0u < count),
        filter_column(t, image, ih, i32((ow + 1u) * s) + t.dw.x, 1u < count),
        filter_column(t, image, ih, i32((ow + 2u) * s) + t.dw.x, 2u < count),
        filter_column(t, image, ih, i32((ow + 3u) * s) + t.dw.x, 3u < count),
    );
}
