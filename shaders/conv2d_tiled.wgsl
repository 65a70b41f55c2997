// The implicit-GEMM convolution (modes, M, N and K as in _conv2d.wgsl) staged through
// workgroup memory, for GPUs: the convolution's counterpart of gemm_tiled.wgsl, with the
// same tiles and product (_workgroup_tiles.wgsl), which every invocation of the workgroup
// reads from workgroup memory. The register-blocked
// kernels of _conv2d.wgsl suit CPU adapters, where barriers are costly; on a GPU each of
// their invocations gathers its own rows and panels, and the workgroup's invocations
// load the same values many times over.
//
// A's values are computed from the geometry as they are loaded (a tap in the padding, or
// a gradient position the stride skips, reads 0), as in _conv2d.wgsl. Each invocation
// loads the same rows (or row) of A at every step of K, so it works out where those rows
// sit once, before the loop, and per step only where its k falls.
//
// Split over K (backward-filter on GPUs, see `filter_gradient_splits`): workgroup z
// multiplies K's range [z * chunk, (z + 1) * chunk), chunk a multiple of DEPTH, and
// stores into slice z of a partial buffer (`store` adds k_split * split_stride).
// The shape, overrides, bias, C and `store` come from _conv2d_common.wgsl.

@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;


// Where one row of A reads from, worked out once. Forward: the output pixel's image and
// the top-left corner of its window (padding included). Backward-data: the input pixel's
// image and its position plus the padding. Backward-filter: the filter tap's offsets
// less the padding (y, z) and its channel (x); `valid` is false past the last row.
struct RowSource {
    image: u32,
    y: i32,
    z: i32,
    valid: bool,
}

fn row_source(row: u32) -> RowSource {
    let s = shape;
    var r: RowSource;
    r.valid = row < s.m;
    if MODE == 0u {
        let plane = s.out_height * s.out_width;
        let pixel = row % plane;
        r.image = row / plane;
        r.y = i32((pixel / s.out_width) * s.stride) - i32(s.pad_top);
        r.z = i32((pixel % s.out_width) * s.stride) - i32(s.pad_left);
    } else if MODE == 1u {
        let plane = s.in_height * s.in_width;
        let pixel = row % plane;
        r.image = row / plane;
        r.y = i32(pixel / s.in_width) + i32(s.pad_top);
        r.z = i32(pixel % s.in_width) + i32(s.pad_left);
    } else {
        let tap = row / s.in_channels;
        r.image = row % s.in_channels;
        r.y = i32(tap / s.window_width) - i32(s.pad_top);
        r.z = i32(tap % s.window_width) - i32(s.pad_left);
    }
    return r;
}

// x[image, ih, iw, channel], or 0 outside the image.
fn input_value(image: u32, ih: i32, iw: i32, channel: u32) -> f32 {
    let s = shape;
    if ih < 0 || iw < 0 || ih >= i32(s.in_height) || iw >= i32(s.in_width) {
        return 0.0;
    }
    return a[((image * s.in_height + u32(ih)) * s.in_width + u32(iw)) * s.in_channels + channel];
}

// Forward's A: the window of `r` at filter tap (kh, kw), input channel `channel`.
fn forward_a(r: RowSource, kh: i32, kw: i32, channel: u32) -> f32 {
    return input_value(r.image, r.y + kh, r.z + kw, channel);
}

// Backward-data's A: dz at the output position filter tap (kh, kw) reaches from the input
// pixel of `r`, when the stride lands on one, at output channel `oc`.
fn backward_data_a(r: RowSource, kh: i32, kw: i32, oc: u32) -> f32 {
    let s = shape;
    let th = r.y - kh;
    let tw = r.z - kw;
    let stride = i32(s.stride);
    if th < 0 || tw < 0 || th % stride != 0 || tw % stride != 0 {
        return 0.0;
    }
    let oh = u32(th / stride);
    let ow = u32(tw / stride);
    if oh >= s.out_height || ow >= s.out_width {
        return 0.0;
    }
    return a[((r.image * s.out_height + oh) * s.out_width + ow) * s.out_channels + oc];
}

// Backward-filter's A: x under the tap and channel of `r` at output position k.
fn backward_filter_a(r: RowSource, k: u32) -> f32 {
    let s = shape;
    let plane = s.out_height * s.out_width;
    let image = k / plane;
    let pixel = k % plane;
    let ih = i32((pixel / s.out_width) * s.stride) + r.y;
    let iw = i32((pixel % s.out_width) * s.stride) + r.z;
    return input_value(image, ih, iw, r.image);
}

// Forward and backward-filter's B, stored row-major [K, N] (the filter; dz).
fn row_major_b(k: u32, col: u32, k_end: u32) -> f32 {
    if k >= k_end || col >= shape.n {
        return 0.0;
    }
    return b[k * shape.n + col];
}

@compute @workgroup_size(16, 16)
fn conv2d_tiled(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    shape = shape_buffer;
    k_split = wid.z;
    let s = shape;
    let row_base = wid.y * TILE;
    let col_base = wid.x * TILE;
    let thread = lid.y * 16u + lid.x;
    // The loop holds barriers, so its bounds must be uniform: WGSL's analysis (Tint's, in
    // browsers, which naga's does not match) counts a read of the read-only storage buffer
    // as uniform, and one of the private copy `shape` as not.
    let k_total = shape_buffer.k;
    let k_splits = shape_buffer.k_splits;
    var k_begin = 0u;
    var k_end = k_total;
    if k_splits > 1u {
        let chunk = ((k_total + k_splits - 1u) / k_splits + DEPTH - 1u) / DEPTH * DEPTH;
        k_begin = wid.z * chunk;
        k_end = min(k_total, k_begin + chunk);
    }
    // Which values of the tiles this invocation loads. Forward and backward-data walk k
    // along channels, contiguous in memory, so neighbouring invocations take neighbouring
    // k of the same 4 rows (rows thread / 16 + 16i, k thread % 16). Backward-filter's rows
    // run along channels: neighbouring invocations take neighbouring rows, one each
    // (thread % 64), at 4 k (thread / 64 + 4i). B's columns are contiguous except in
    // backward-data (the filter read transposed), which walks k as A does.
    var rows: array<RowSource, 4>;
    if MODE == 2u {
        rows[0] = row_source(row_base + thread % TILE);
    } else {
        for (var i = 0u; i < 4u; i++) {
            rows[i] = row_source(row_base + thread / DEPTH + 16u * i);
        }
    }
    var acc = mat4x4<f32>();
    for (var k0 = k_begin; k0 < k_end; k0 += DEPTH) {
        if MODE == 2u {
            let r = rows[0];
            for (var i = 0u; i < 4u; i++) {
                let kk = thread / TILE + 4u * i;
                let k = k0 + kk;
                var v = 0.0;
                if r.valid && k < k_end {
                    v = backward_filter_a(r, k);
                }
                tile_a[kk * TILE + thread % TILE] = v;
            }
        } else {
            // k = (tap, channel): the tap's position in the window, once per step.
            let kk = thread % DEPTH;
            let k = k0 + kk;
            let channels = select(s.in_channels, s.out_channels, MODE == 1u);
            let tap = k / channels;
            let channel = k % channels;
            let kh = i32(tap / s.window_width);
            let kw = i32(tap % s.window_width);
            for (var i = 0u; i < 4u; i++) {
                let r = rows[i];
                var v = 0.0;
                if r.valid && k < k_end {
                    if MODE == 0u {
                        v = forward_a(r, kh, kw, channel);
                    } else {
                        v = backward_data_a(r, kh, kw, channel);
                    }
                }
                tile_a[kk * TILE + thread / DEPTH + 16u * i] = v;
            }
        }
        if MODE == 1u {
            // B[k = (tap, oc), col = c] = w[(tap * C + c) * OC + oc].
            let kk = thread % DEPTH;
            let k = k0 + kk;
            let tap = k / s.out_channels;
            let oc = k % s.out_channels;
            for (var i = 0u; i < 4u; i++) {
                let col = col_base + thread / DEPTH + 16u * i;
                var v = 0.0;
                if k < k_end && col < s.n {
                    v = b[(tap * s.in_channels + col) * s.out_channels + oc];
                }
                tile_b[kk * TILE + thread / DEPTH + 16u * i] = v;
            }
        } else {
            for (var i = 0u; i < 4u; i++) {
                let kk = thread / TILE + 4u * i;
                tile_b[kk * TILE + thread % TILE] = row_major_b(k0 + kk, col_base + thread % TILE, k_end);
            }
        }
        workgroupBarrier();
        acc = multiply_tiles(acc, lid);
        workgroupBarrier();
    }
    let row0 = row_base + lid.y * 4u;
    let col0 = col_base + lid.x * 4u;
    for (var i = 0u; i < 4u; i++) {
        store(row0 + i, col0, acc[i]);
    }
}
