// Max pooling on NHWC tensors, forward and backward: the shape and helpers shared by
// pool.wgsl (one channel per invocation) and pool_vec4.wgsl (four). The forward writes each output
// into a channel slice of y (rows y_stride apart, from channel y_offset: a branch of a
// concatenation) and records which input it took; the backward gathers: each input
// element sums the gradients of the outputs that took it, so no two invocations write
// one address and the result does not depend on scheduling.

// The lowest f32, written out exactly: the short form -3.4028235e38 lies just past it,
// which naga rounds to it but Tint (browsers' compiler) rejects as no f32.
const LOWEST: f32 = -340282346638528859811704183484516925440.0;

struct PoolShape {
    batch: u32,
    in_height: u32,
    in_width: u32,
    channels: u32,
    out_height: u32,
    out_width: u32,
    window: u32,
    stride: u32,
    pad_top: u32,
    pad_left: u32,
    y_stride: u32,
    y_offset: u32,
}

// Backward: add to dx instead of overwriting it (the input feeds another branch too).
override ACCUMULATE: bool = false;

// Read-only storage rather than uniform, and copied into `shape` as each kernel
// starts: see BindingKind::Params in crates/gpu/src/dispatch.rs.
@group(0) @binding(0) var<storage, read> shape_buffer: PoolShape;
var<private> shape: PoolShape;

fn flat_index(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return gid.x + gid.y * groups.x * 256u;
}

// (image, row, column) of pixel number `pixel` of a [batch, height, width] grid.
fn pixel_position(pixel: u32, height: u32, width: u32) -> vec3<u32> {
    return vec3<u32>(pixel / (width * height), (pixel / width) % height, pixel % width);
}

// First output row (or column) whose window covers input position p, and the last + 1.
fn covering(p: u32, pad: u32, out_size: u32) -> vec2<u32> {
    let s = shape;
    let padded = p + pad;
    // o * stride <= padded and o * stride + window > padded.
    let first = select(0u, (padded + 1u - s.window + s.stride - 1u) / s.stride, padded + 1u > s.window);
    let last = min(padded / s.stride + 1u, out_size);
    return vec2<u32>(first, last);
}

