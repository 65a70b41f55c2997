// Batch normalization forward (see _batch_norm.wgsl): the batch statistics, with the
// running averages updated, then the normalization (training or evaluation mode).

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

// Normalize with the running statistics instead of the batch's.
override EVAL: bool = false;

// One workgroup per channel. Two passes (mean, then squared deviations): conv outputs can
// have a mean far from zero, where E[z^2] - E[z]^2 would cancel in f32.
@compute @workgroup_size(THREADS)
fn batch_norm_statistics(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>) {
    let ch = wid.x;
    let lid = lid3.x;
    let channels = shape.channels;
    let rows = cursor.rows * shape.pixels;
    var sum = 0.0;
    for (var r = lid; r < rows; r += THREADS) {
        sum += z[r * channels + ch];
    }
    let mean = workgroup_sum(lid, vec2<f32>(sum, 0.0)).x / f32(max(rows, 1u));
    var squares = 0.0;
    for (var r = lid; r < rows; r += THREADS) {
        let d = z[r * channels + ch] - mean;
        squares += d * d;
    }
    let variance = workgroup_sum(lid, vec2<f32>(squares, 0.0)).x / f32(max(rows, 1u));
    if lid == 0u {
        stats[ch] = mean;
        stats[channels + ch] = inverseSqrt(variance + shape.epsilon);
        let unbiased = variance * f32(rows) / f32(max(rows, 2u) - 1u);
        let m = shape.momentum;
        running[ch] = m * running[ch] + (1.0 - m) * mean;
        running[channels + ch] = m * running[channels + ch] + (1.0 - m) * unbiased;
    }
}

@compute @workgroup_size(256)
fn batch_norm_apply(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = gid.x + gid.y * groups.x * 256u;
    let channels = shape.channels;
    if i >= shape.images * shape.pixels * channels {
        return;
    }
    let ch = i % channels;
    let row = i / channels;
    var mean: f32;
    var inv_std: f32;
    if EVAL {
        mean = running[ch];
        inv_std = inverseSqrt(running[channels + ch] + shape.epsilon);
    } else {
        mean = stats[ch];
        inv_std = stats[channels + ch];
    }
    var v = affine[ch] * (z[i] - mean) * inv_std + affine[channels + ch];
    if RELU {
        v = max(v, 0.0);
    }
    y[row * shape.y_stride + shape.y_offset + ch] = v;
}
