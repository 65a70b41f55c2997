// Batch normalization forward (see _batch_norm.wgsl): the batch statistics in two
// dispatches (partial, combine), with the running averages updated, then the
// normalization (training or evaluation mode).

@group(0) @binding(0) var<uniform> shape: NormShape;
@group(0) @binding(1) var<storage, read> cursor: Cursor;
@group(0) @binding(2) var<storage, read> z: array<f32>;
// [gamma; beta], 2 * channels.
@group(0) @binding(3) var<storage, read> affine: array<f32>;
// [mean; 1 / sqrt(var + eps)] of this batch, 2 * channels.
@group(0) @binding(4) var<storage, read_write> stats: array<f32>;
// [running mean; running unbiased var], 2 * channels.
@group(0) @binding(5) var<storage, read_write> running: array<f32>;
@group(0) @binding(6) var<storage, read_write> y: array<f32>;

// [chunks, channels] of (mean, sum of squared deviations from it) over each chunk's rows.
@group(0) @binding(7) var<storage, read_write> partials: array<vec2<f32>>;

// Normalize with the running statistics instead of the batch's.
override EVAL: bool = false;

// One chunk of rows for 32 channels: its mean, then the squared deviations from that mean
// (two passes over rows that are still in cache: conv outputs can have a mean far from
// zero, where E[z^2] - E[z]^2 would cancel in f32).
@compute @workgroup_size(CHANNEL_LANES, ROW_LANES)
fn batch_norm_partial_statistics(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let channels = shape.channels;
    let ch = wid.x * CHANNEL_LANES + lid.x;
    let range = chunk_range(wid.y);
    let inside = ch < channels;
    var sum = 0.0;
    if inside {
        for (var r = range.x + lid.y; r < range.y; r += ROW_LANES) {
            sum += z[r * channels + ch];
        }
    }
    let mean = row_lane_sum(lid, vec2<f32>(sum, 0.0)).x / f32(max(range.y - range.x, 1u));
    var squares = 0.0;
    if inside {
        for (var r = range.x + lid.y; r < range.y; r += ROW_LANES) {
            let d = z[r * channels + ch] - mean;
            squares += d * d;
        }
    }
    let deviations = row_lane_sum(lid, vec2<f32>(squares, 0.0)).x;
    if inside && lid.y == 0u {
        partials[wid.y * channels + ch] = vec2<f32>(mean, deviations);
    }
}

// One channel's chunks combined in order (Chan et al.'s pairwise update: the squared
// deviations about the whole mean are each chunk's own plus its rows times the square of
// its mean's distance from the whole mean), then the running averages.
@compute @workgroup_size(64)
fn batch_norm_combine_statistics(@builtin(global_invocation_id) gid: vec3<u32>) {
    let ch = gid.x;
    let channels = shape.channels;
    if ch >= channels {
        return;
    }
    let rows = valid_rows();
    var total = 0.0;
    for (var chunk = 0u; chunk < shape.chunks; chunk++) {
        let range = chunk_range(chunk);
        total += f32(range.y - range.x) * partials[chunk * channels + ch].x;
    }
    let mean = total / f32(max(rows, 1u));
    var deviations = 0.0;
    for (var chunk = 0u; chunk < shape.chunks; chunk++) {
        let range = chunk_range(chunk);
        let part = partials[chunk * channels + ch];
        let d = part.x - mean;
        deviations += part.y + f32(range.y - range.x) * d * d;
    }
    let variance = deviations / f32(max(rows, 1u));
    stats[ch] = mean;
    stats[channels + ch] = inverseSqrt(variance + shape.epsilon);
    let unbiased = variance * f32(rows) / f32(max(rows, 2u) - 1u);
    let m = shape.momentum;
    running[ch] = m * running[ch] + (1.0 - m) * mean;
    running[channels + ch] = m * running[channels + ch] + (1.0 - m) * unbiased;
}

@compute @workgroup_size(CHANNEL_LANES, ROW_LANES)
fn batch_norm_apply(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let channels = shape.channels;
    let ch = wid.x * CHANNEL_LANES + lid.x;
    if ch >= channels {
        return;
    }
    var mean: f32;
    var inv_std: f32;
    if EVAL {
        mean = running[ch];
        inv_std = inverseSqrt(running[channels + ch] + shape.epsilon);
    } else {
        mean = stats[ch];
        inv_std = stats[channels + ch];
    }
    let scale = affine[ch] * inv_std;
    let shift = affine[channels + ch];
    let range = apply_range(wid.y);
    for (var r = range.x + lid.y; r < range.y; r += ROW_LANES) {
        var v = (z[r * channels + ch] - mean) * scale + shift;
        if RELU {
            v = max(v, 0.0);
        }
        y[r * shape.y_stride + shape.y_offset + ch] = v;
    }
}
