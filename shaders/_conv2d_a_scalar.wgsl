// A's loads of the implicit-GEMM convolution (_conv2d.wgsl) with scalar reads: any
// channel count, e.g. a first layer with 1 or 3 input channels. Indices are clamped into
// the buffer and values past `count` replaced by 0, so the loads have no branches.

@group(0) @binding(1) var<storage, read> a: array<f32>;

// a[index .. index + count], zero-filled to four values.
fn load_a(index: u32, count: u32) -> vec4<f32> {
    let last = arrayLength(&a) - 1u;
    return vec4<f32>(
        select(0.0, a[min(index, last)], count > 0u),
        select(0.0, a[min(index + 1u, last)], count > 1u),
        select(0.0, a[min(index + 2u, last)], count > 2u),
        select(0.0, a[min(index + 3u, last)], count > 3u),
    );
}

// One x value per row of the group at output position (image, ih row, iw column of the tap).
fn filter_column(t: TapRows, image: u32, ih: vec4<i32>, iw: vec4<i32>, valid: bool) -> vec4<f32> {
    let last = arrayLength(&a) - 1u;
    let p0 = input_pixel(image, ih.x, iw.x);
    let p1 = input_pixel(image, ih.y, iw.y);
    let p2 = input_pixel(image, ih.z, iw.z);
    let p3 = input_pixel(image, ih.w, iw.w);
    return vec4<f32>(
        select(0.0, a[min(p0.x + t.channel.x, last)], valid && p0.y == 1u),
        select(0.0, a[min(p1.x + t.channel.y, last)], valid && p1.y == 1u),
        select(0.0, a[min(p2.x + t.channel.z, last)], valid && p2.y == 1u),
        select(0.0, a[min(p3.x + t.channel.w, last)], valid && p3.y == 1u),
    );
}

// Backward-filter's A for four rows (each its own tap and channel) and the output
// positions (image, oh, ow + j), j < count: column j holds the four rows' values.
fn a_tile_filter(t: TapRows, image: u32, oh: u32, ow: u32, count: u32) -> mat4x4<f32> {
    let s = shape.stride;
    let ih = vec4<i32>(i32(oh * s)) + t.dh;
    return mat4x4<f32>(
        filter_column(t, image, ih, vec4<i32>(i32(ow * s)) + t.dw, 0u < count),
        filter_column(t, image, ih, vec4<i32>(i32((ow + 1u) * s)) + t.dw, 1u < count),
        filter_column(t, image, ih, vec4<i32>(i32((ow + 2u) * s)) + t.dw, 2u < count),
        filter_column(t, image, ih, vec4<i32>(i32((ow + 3u) * s)) + t.dw, 3u < count),
    );
}
