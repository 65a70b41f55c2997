// A's access of the implicit-GEMM convolution in whole groups of four, over a `load_a`
// that reads 16 bytes (_conv2d_a_vec4.wgsl or _conv2d_a_texels.wgsl). Used where input
// channels are a multiple of 4 (forward, backward-filter) or output channels are
// (backward-data): then `count` is always 0 or 4, and the four rows of a backward-filter
// group are four consecutive channels of one tap.

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
