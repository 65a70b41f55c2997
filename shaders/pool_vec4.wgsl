// Max pooling, four channels per invocation: 16-byte loads and stores, a quarter of the
// load instructions of pool.wgsl (on CPU adapters each one is a loop over the lanes).
// For channel counts, slice strides and slice offsets that are multiples of 4; the same
// results as pool.wgsl, argmax included (see _pool.wgsl).

// Forward: x. Backward: the gradient of the whole concatenated output (slice as y's).
@group(0) @binding(1) var<storage, read> source: array<vec4<f32>>;
// Flat index into x of the input each output took; [batch, out_h, out_w, channels].
@group(0) @binding(2) var<storage, read_write> argmax: array<vec4<u32>>;
// Forward: y. Backward: dx.
@group(0) @binding(3) var<storage, read_write> destination: array<vec4<f32>>;

const LANES = vec4<u32>(0u, 1u, 2u, 3u);

@compute @workgroup_size(256)
fn max_pool_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    shape = shape_buffer;
    let s = shape;
    let quads = s.channels / 4u;
    let i = flat_index(gid, groups);
    if i >= s.batch * s.out_height * s.out_width * quads {
        return;
    }
    let ch = (i % quads) * 4u;
    let pixel = i / quads;
    let at = pixel_position(pixel, s.out_height, s.out_width);
    let image = at.x;
    let oh = at.y;
    let ow = at.z;
    let top = i32(oh * s.stride) - i32(s.pad_top);
    let left = i32(ow * s.stride) - i32(s.pad_left);
    // As pool.wgsl, per channel: padding never wins, the first maximum in scan order stays.
    var best = vec4<f32>(LOWEST);
    var best_index = vec4<u32>(0xffffffffu);
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
            let v = source[index / 4u];
            let take = (v > best) | (best_index == vec4<u32>(0xffffffffu));
            best = select(best, v, take);
            best_index = select(best_index, vec4<u32>(index) + LANES, take);
        }
    }
    argmax[i] = best_index;
    destination[(pixel * s.y_stride + s.y_offset + ch) / 4u] = best;
}

@compute @workgroup_size(256)
fn max_pool_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    shape = shape_buffer;
    let s = shape;
    let quads = s.channels / 4u;
    let i = flat_index(gid, groups);
    if i >= s.batch * s.in_height * s.in_width * quads {
        return;
    }
    let ch = (i % quads) * 4u;
    let pixel = i / quads;
    let at = pixel_position(pixel, s.in_height, s.in_width);
    let image = at.x;
    let h = at.y;
    let w = at.z;
    let rows = covering(h, s.pad_top, s.out_height);
    let cols = covering(w, s.pad_left, s.out_width);
    let mine = vec4<u32>(i * 4u) + LANES;
    var sum = vec4<f32>(0.0);
    // One flat loop over the covering outputs, the position kept by counters: llvmpipe
    // pays for every loop entered, and nested loops (one or two outputs each way in the
    // AlexNet) ran this pass 1.1x slower.
    let width = select(0u, cols.y - cols.x, cols.y > cols.x);
    let covered = select(0u, rows.y - rows.x, rows.y > rows.x) * width;
    var oh = rows.x;
    var ow = cols.x;
    for (var n = 0u; n < covered; n++) {
        let out_pixel = (image * s.out_height + oh) * s.out_width + ow;
        let took = argmax[(out_pixel * s.channels + ch) / 4u] == mine;
        let gradient = source[(out_pixel * s.y_stride + s.y_offset + ch) / 4u];
        sum += select(vec4<f32>(0.0), gradient, took);
        ow += 1u;
        if ow == cols.y {
            ow = cols.x;
            oh += 1u;
        }
    }
    if ACCUMULATE {
        sum += destination[i];
    }
    destination[i] = sum;
}
