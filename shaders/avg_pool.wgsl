// Average pooling on NHWC tensors, one channel per invocation, as TensorFlow's avg_pool:
// each output is the mean of the window's taps inside the image (padding is left out of
// the count). The forward writes into a channel slice of y (a branch of a concatenation,
// see _pool.wgsl); the backward gathers: each input sums the shares of the outputs whose
// windows hold it, so no two invocations write one address.

// Forward: x. Backward: the gradient of the whole concatenated output (slice as y's).
@group(0) @binding(1) var<storage, read> source: array<f32>;
// Forward: y. Backward: dx.
@group(0) @binding(2) var<storage, read_write> destination: array<f32>;

// Taps of a window starting at `start` (may be negative) that lie in [0, size).
fn inside(start: i32, size: u32) -> u32 {
    let first = max(start, 0);
    let last = min(start + i32(shape.window), i32(size));
    return u32(max(last - first, 0));
}

@compute @workgroup_size(256)
fn avg_pool_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    shape = shape_buffer;
    let s = shape;
    let i = flat_index(gid, groups);
    if i >= s.batch * s.out_height * s.out_width * s.channels {
        return;
    }
    let ch = i % s.channels;
    let pixel = i / s.channels;
    let at = pixel_position(pixel, s.out_height, s.out_width);
    let top = i32(at.y * s.stride) - i32(s.pad_top);
    let left = i32(at.z * s.stride) - i32(s.pad_left);
    var sum = 0.0;
    for (var dh = 0u; dh < s.window; dh++) {
        let ih = top + i32(dh);
        if ih < 0 || ih >= i32(s.in_height) {
            continue;
        }
        for (var dw = 0u; dw < s.window; dw++) {
            let iw = left + i32(dw);
            if iw < 0 || iw >= i32(s.in_width) {
                continue;
            }
            sum += source[((at.x * s.in_height + u32(ih)) * s.in_width + u32(iw)) * s.channels + ch];
        }
    }
    let count = inside(top, s.in_height) * inside(left, s.in_width);
    destination[pixel * s.y_stride + s.y_offset + ch] = sum / f32(count);
}

@compute @workgroup_size(256)
fn avg_pool_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    shape = shape_buffer;
    let s = shape;
    let i = flat_index(gid, groups);
    if i >= s.batch * s.in_height * s.in_width * s.channels {
        return;
    }
    let ch = i % s.channels;
    let pixel = i / s.channels;
    let at = pixel_position(pixel, s.in_height, s.in_width);
    let rows = covering(at.y, s.pad_top, s.out_height);
    let cols = covering(at.z, s.pad_left, s.out_width);
    var sum = 0.0;
    for (var oh = rows.x; oh < rows.y; oh++) {
        let top = i32(oh * s.stride) - i32(s.pad_top);
        for (var ow = cols.x; ow < cols.y; ow++) {
            let left = i32(ow * s.stride) - i32(s.pad_left);
            let count = inside(top, s.in_height) * inside(left, s.in_width);
            let out_pixel = (at.x * s.out_height + oh) * s.out_width + ow;
            sum += source[out_pixel * s.y_stride + s.y_offset + ch] / f32(count);
        }
    }
    if ACCUMULATE {
        sum += destination[i];
    }
    destination[i] = sum;
}
