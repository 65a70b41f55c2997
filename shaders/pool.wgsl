// Max pooling, one channel per invocation: any channel count and slice (see _pool.wgsl).

// Forward: x. Backward: the gradient of the whole concatenated output (slice as y's).
@group(0) @binding(1) var<storage, read> source: array<f32>;
// Flat index into x of the input each output took; [batch, out_h, out_w, channels].
@group(0) @binding(2) var<storage, read_write> argmax: array<u32>;
// Forward: y. Backward: dx.
@group(0) @binding(3) var<storage, read_write> destination: array<f32>;

@compute @workgroup_size(256)
fn max_pool_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    shape = shape_buffer;
    let s = shape;
    let i = flat_index(gid, groups);
    if i >= s.batch * s.out_height * s.out_width * s.channels {
        return;
    }
    let ch = i % s.channels;
    let pixel = i / s.channels;
    let at = pixel_position(pixel, s.out_height, s.out_width);
    let image = at.x;
    let oh = at.y;
    let ow = at.z;
    let top = i32(oh * s.stride) - i32(s.pad_top);
    let left = i32(ow * s.stride) - i32(s.pad_left);
    // Padding never wins: start below every value, keep the first maximum in scan order.
    var best = LOWEST;
    var best_index = 0xffffffffu;
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
            let index = ((image * s.in_height + u32(ih)) * s.in_width + u32(iw)) * s.channels + ch;
            let v = source[index];
            if v > best || best_index == 0xffffffffu {
                best = v;
                best_index = index;
            }
        }
    }
    argmax[i] = best_index;
    destination[pixel * s.y_stride + s.y_offset + ch] = best;
}

@compute @workgroup_size(256)
fn max_pool_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    shape = shape_buffer;
    let s = shape;
    let i = flat_index(gid, groups);
    if i >= s.batch * s.in_height * s.in_width * s.channels {
        return;
    }
    let ch = i % s.channels;
    let pixel = i / s.channels;
    let at = pixel_position(pixel, s.in_height, s.in_width);
    let image = at.x;
    let h = at.y;
    let w = at.z;
    let rows = covering(h, s.pad_top, s.out_height);
    let cols = covering(w, s.pad_left, s.out_width);
    var sum = 0.0;
    for (var oh = rows.x; oh < rows.y; oh++) {
        for (var ow = cols.x; ow < cols.y; ow++) {
            let out_pixel = (image * s.out_height + oh) * s.out_width + ow;
            if argmax[out_pixel * s.channels + ch] == i {
                sum += source[out_pixel * s.y_stride + s.y_offset + ch];
            }
        }
    }
    if ACCUMULATE {
        sum += destination[i];
    }
    destination[i] = sum;
}
