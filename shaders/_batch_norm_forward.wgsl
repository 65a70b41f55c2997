// Batch normalization forward (see _batch_norm.wgsl): the batch statistics in two
// dispatches (partial, combine), with the running averages updated, then the
// normalization (training or evaluation mode). Composed before batch_norm.wgsl or
// batch_norm_vec4.wgsl, which name `Lanes`.

// Read-only storage rather than uniform, and copied into `shape` as each kernel
// starts: see BindingKind::Params in crates/gpu/src/dispatch.rs.
@group(0) @binding(0) var<storage, read> shape_buffer: NormShape;
var<private> shape: NormShape;
@group(0) @binding(1) var<storage, read> cursor: Cursor;
@group(0) @binding(2) var<storage, read> z: array<Lanes>;
// [gamma; beta], 2 * channels.
@group(0) @binding(3) var<storage, read> affine: array<Lanes>;
// [mean; 1 / sqrt(var + eps)] of this batch, 2 * channels.
@group(0) @binding(4) var<storage, read_write> stats: array<Lanes>;
// [running mean; running unbiased var], 2 * channels.
@group(0) @binding(5) var<storage, read_write> running: array<Lanes>;
@group(0) @binding(6) var<storage, read_write> y: array<Lanes>;

// [chunks, 2, channels]: each chunk's mean, then its sum of squared deviations from it.
@group(0) @binding(7) var<storage, read_write> partials: array<Lanes>;

// Normalize with the running statistics instead of the batch's.
override EVAL: bool = false;

// One chunk of rows for 32 Lanes of channels: its mean, then the squared deviations from
// that mean (two passes over rows that are still in cache: conv outputs can have a mean
// far from zero, where E[z^2] - E[z]^2 would cancel in f32).
@compute @workgroup_size(CHANNEL_LANES, ROW_LANES)
fn batch_norm_partial_statistics(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    shape = shape_buffer;
    let width = row_lanes();
    let ch = wid.x * CHANNEL_LANES + lid.x;
    let range = chunk_range(wid.y);
    let inside = ch < width;
    let zero = Lanes(0.0);
    var sum = zero;
    if inside {
        for (var r = range.x + lid.y; r < range.y; r += ROW_LANES) {
            sum += z[r * width + ch];
        }
    }
    let mean = row_lane_sum(lid, Pair(sum, zero)).a / f32(max(range.y - range.x, 1u));
    var squares = zero;
    if inside {
        for (var r = range.x + lid.y; r < range.y; r += ROW_LANES) {
            let d = z[r * width + ch] - mean;
            squares += d * d;
        }
    }
    let deviations = row_lane_sum(lid, Pair(squares, zero)).a;
    if inside && lid.y == 0u {
        partials[2u * wid.y * width + ch] = mean;
        partials[(2u * wid.y + 1u) * width + ch] = deviations;
    }
}

// One Lanes' chunks combined in order (Chan et al.'s pairwise update: the squared
// deviations about the whole mean are each chunk's own plus its rows times the square of
// its mean's distance from the whole mean), then the running averages.
@compute @workgroup_size(64)
fn batch_norm_combine_statistics(@builtin(global_invocation_id) gid: vec3<u32>) {
    shape = shape_buffer;
    let ch = gid.x;
    let width = row_lanes();
    if ch >= width {
        return;
    }
    let rows = valid_rows();
    var total = Lanes(0.0);
    for (var chunk = 0u; chunk < shape.chunks; chunk++) {
        let range = chunk_range(chunk);
        total += f32(range.y - range.x) * partials[2u * chunk * width + ch];
    }
    let mean = total / f32(max(rows, 1u));
    var deviations = Lanes(0.0);
    for (var chunk = 0u; chunk < shape.chunks; chunk++) {
        let range = chunk_range(chunk);
        let d = partials[2u * chunk * width + ch] - mean;
        deviations += partials[(2u * chunk + 1u) * width + ch] + f32(range.y - range.x) * d * d;
    }
    let variance = deviations / f32(max(rows, 1u));
    stats[ch] = mean;
    stats[width + ch] = inverseSqrt(variance + shape.epsilon);
    let unbiased = variance * f32(rows) / f32(max(rows, 2u) - 1u);
    let m = shape.momentum;
    running[ch] = m * running[ch] + (1.0 - m) * mean;
    running[width + ch] = m * running[width + ch] + (1.0 - m) * unbiased;
}

// y for 8 rows of one Lanes, whose statistics, scale and shift are read once.
@compute @workgroup_size(CHANNEL_LANES, ROW_LANES)
fn batch_norm_apply(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    shape = shape_buffer;
    let width = row_lanes();
    let ch = wid.x * CHANNEL_LANES + lid.x;
    if ch >= width {
        return;
    }
    var mean: Lanes;
    var inv_std: Lanes;
    if EVAL {
        mean = running[ch];
        inv_std = inverseSqrt(running[width + ch] + shape.epsilon);
    } else {
        mean = stats[ch];
        inv_std = stats[width + ch];
    }
    let scale = affine[ch] * inv_std;
    let shift = affine[width + ch];
    let range = apply_range(wid.y);
    for (var r = range.x + lid.y; r < range.y; r += ROW_LANES) {
        var v = (z[r * width + ch] - mean) * scale + shift;
        if RELU {
            v = max(v, Lanes(0.0));
        }
        y[y_index(r, ch)] = v;
    }
}
