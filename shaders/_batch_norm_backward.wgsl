// Batch normalization backward in training mode (see _batch_norm.wgsl). With g the
// gradient at the normalized value (dy through the ReLU), xhat = (z - mean) * inv_std and
// n the valid rows:
//   dbeta = sum g,  dgamma = sum g * xhat,
//   dz = gamma * inv_std * (g - (dbeta + xhat * dgamma) / n)   (0 on rows without an image)
// Composed before batch_norm_backward.wgsl or batch_norm_backward_vec4.wgsl, which name
// `Lanes`.

// Read-only storage rather than uniform, and copied into `shape` as each kernel
// starts: see BindingKind::Params in crates/gpu/src/dispatch.rs.
@group(0) @binding(0) var<storage, read> shape_buffer: NormShape;
var<private> shape: NormShape;
@group(0) @binding(1) var<storage, read> cursor: Cursor;
@group(0) @binding(2) var<storage, read> z: array<Lanes>;
@group(0) @binding(3) var<storage, read> affine: array<Lanes>;
@group(0) @binding(4) var<storage, read> stats: array<Lanes>;
// The gradient of the whole concatenated output and that output (slice as in the forward).
@group(0) @binding(5) var<storage, read> dy: array<Lanes>;
@group(0) @binding(6) var<storage, read> y: array<Lanes>;
// [dgamma; dbeta]: written by batch_norm_backward_combine, read by batch_norm_backward_apply.
@group(0) @binding(7) var<storage, read_write> affine_grad: array<Lanes>;
@group(0) @binding(8) var<storage, read_write> dz: array<Lanes>;
// [chunks, 2, channels]: each chunk's sum of g, then its sum of g * xhat.
@group(0) @binding(9) var<storage, read_write> partials: array<Lanes>;

// The gradient at the normalized value of row `row`, lane `ch`.
fn gradient_at(row: u32, ch: u32) -> Lanes {
    let at = y_index(row, ch);
    var g = dy[at];
    if RELU {
        g = select(Lanes(0.0), g, y[at] > Lanes(0.0));
    }
    return g;
}

// One chunk of rows for 32 Lanes of channels: its sums of g and g * xhat.
@compute @workgroup_size(CHANNEL_LANES, ROW_LANES)
fn batch_norm_backward_partial_sums(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    shape = shape_buffer;
    let width = row_lanes();
    let ch = wid.x * CHANNEL_LANES + lid.x;
    let range = chunk_range(wid.y);
    let inside = ch < width;
    var sum_g = Lanes(0.0);
    var sum_g_xhat = Lanes(0.0);
    if inside {
        let mean = stats[ch];
        let inv_std = stats[width + ch];
        for (var r = range.x + lid.y; r < range.y; r += ROW_LANES) {
            let g = gradient_at(r, ch);
            sum_g += g;
            sum_g_xhat += g * (z[r * width + ch] - mean) * inv_std;
        }
    }
    let total = row_lane_sum(lid, Pair(sum_g, sum_g_xhat));
    if inside && lid.y == 0u {
        partials[2u * wid.y * width + ch] = total.a;
        partials[(2u * wid.y + 1u) * width + ch] = total.b;
    }
}

// One Lanes' chunks summed in order into dgamma and dbeta.
@compute @workgroup_size(64)
fn batch_norm_backward_combine(@builtin(global_invocation_id) gid: vec3<u32>) {
    shape = shape_buffer;
    let ch = gid.x;
    let width = row_lanes();
    if ch >= width {
        return;
    }
    var sum_g = Lanes(0.0);
    var sum_g_xhat = Lanes(0.0);
    for (var chunk = 0u; chunk < shape.chunks; chunk++) {
        sum_g += partials[2u * chunk * width + ch];
        sum_g_xhat += partials[(2u * chunk + 1u) * width + ch];
    }
    affine_grad[ch] = sum_g_xhat;
    affine_grad[width + ch] = sum_g;
}

// dz for 8 rows of one Lanes, whose statistics and sums are read once.
@compute @workgroup_size(CHANNEL_LANES, ROW_LANES)
fn batch_norm_backward_apply(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    shape = shape_buffer;
    let width = row_lanes();
    let ch = wid.x * CHANNEL_LANES + lid.x;
    if ch >= width {
        return;
    }
    let rows = valid_rows();
    let mean = stats[ch];
    let inv_std = stats[width + ch];
    let scale = affine[ch] * inv_std;
    let dgamma = affine_grad[ch];
    let dbeta = affine_grad[width + ch];
    let range = apply_range(wid.y);
    for (var r = range.x + lid.y; r < range.y; r += ROW_LANES) {
        let i = r * width + ch;
        if r >= rows {
            dz[i] = Lanes(0.0);
        } else {
            let xhat = (z[i] - mean) * inv_std;
            dz[i] = scale * (gradient_at(r, ch) - (dbeta + xhat * dgamma) / f32(rows));
        }
    }
}
