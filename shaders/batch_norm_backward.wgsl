// Batch normalization backward in training mode (see _batch_norm.wgsl). With g the
// gradient at the normalized value (dy through the ReLU), xhat = (z - mean) * inv_std and
// n the valid rows:
//   dbeta = sum g,  dgamma = sum g * xhat,
//   dz = gamma * inv_std * (g - (dbeta + xhat * dgamma) / n)   (0 on rows without an image)

@group(0) @binding(0) var<uniform> shape: NormShape;
@group(0) @binding(1) var<storage, read> cursor: Cursor;
@group(0) @binding(2) var<storage, read> z: array<f32>;
@group(0) @binding(3) var<storage, read> affine: array<f32>;
@group(0) @binding(4) var<storage, read> stats: array<f32>;
// The gradient of the whole concatenated output and that output (slice as in the forward).
@group(0) @binding(5) var<storage, read> dy: array<f32>;
@group(0) @binding(6) var<storage, read> y: array<f32>;
// [dgamma; dbeta]: written by batch_norm_backward_combine, read by batch_norm_backward_apply.
@group(0) @binding(7) var<storage, read_write> affine_grad: array<f32>;
@group(0) @binding(8) var<storage, read_write> dz: array<f32>;
// [chunks, channels] of (sum g, sum g * xhat) over each chunk's rows.
@group(0) @binding(9) var<storage, read_write> partials: array<vec2<f32>>;

// The gradient at the normalized value of row `row`, channel `ch`.
fn gradient_at(row: u32, ch: u32) -> f32 {
    let at = row * shape.y_stride + shape.y_offset + ch;
    var g = dy[at];
    if RELU {
        g = select(0.0, g, y[at] > 0.0);
    }
    return g;
}

// One chunk of rows for 32 channels: its sums of g and g * xhat.
@compute @workgroup_size(CHANNEL_LANES, ROW_LANES)
fn batch_norm_backward_partial_sums(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let channels = shape.channels;
    let ch = wid.x * CHANNEL_LANES + lid.x;
    let range = chunk_range(wid.y);
    let inside = ch < channels;
    var sums = vec2<f32>(0.0);
    if inside {
        let mean = stats[ch];
        let inv_std = stats[channels + ch];
        for (var r = range.x + lid.y; r < range.y; r += ROW_LANES) {
            let g = gradient_at(r, ch);
            sums += vec2<f32>(g, g * (z[r * channels + ch] - mean) * inv_std);
        }
    }
    let total = row_lane_sum(lid, sums);
    if inside && lid.y == 0u {
        partials[wid.y * channels + ch] = total;
    }
}

// One channel's chunks summed in order into dgamma and dbeta.
@compute @workgroup_size(64)
fn batch_norm_backward_combine(@builtin(global_invocation_id) gid: vec3<u32>) {
    let ch = gid.x;
    let channels = shape.channels;
    if ch >= channels {
        return;
    }
    var total = vec2<f32>(0.0);
    for (var chunk = 0u; chunk < shape.chunks; chunk++) {
        total += partials[chunk * channels + ch];
    }
    affine_grad[ch] = total.y;
    affine_grad[channels + ch] = total.x;
}

@compute @workgroup_size(CHANNEL_LANES, ROW_LANES)
fn batch_norm_backward_apply(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let channels = shape.channels;
    let ch = wid.x * CHANNEL_LANES + lid.x;
    if ch >= channels {
        return;
    }
    let rows = valid_rows();
    let mean = stats[ch];
    let inv_std = stats[channels + ch];
    let scale = affine[ch] * inv_std;
    let dgamma = affine_grad[ch];
    let dbeta = affine_grad[channels + ch];
    let range = apply_range(wid.y);
    for (var r = range.x + lid.y; r < range.y; r += ROW_LANES) {
        let i = r * channels + ch;
        if r >= rows {
            dz[i] = 0.0;
        } else {
            let xhat = (z[i] - mean) * inv_std;
            dz[i] = scale * (gradient_at(r, ch) - (dbeta + xhat * dgamma) / f32(rows));
        }
    }
}
