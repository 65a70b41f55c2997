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
// [dgamma; dbeta]: written by batch_norm_backward_reduce, read by batch_norm_backward_apply.
@group(0) @binding(7) var<storage, read_write> affine_grad: array<f32>;
@group(0) @binding(8) var<storage, read_write> dz: array<f32>;

// The gradient at the normalized value of element i ([rows, channels] index).
fn gradient_at(i: u32) -> f32 {
    let ch = i % shape.channels;
    let at = (i / shape.channels) * shape.y_stride + shape.y_offset + ch;
    var g = dy[at];
    if RELU {
        g = select(0.0, g, y[at] > 0.0);
    }
    return g;
}

@compute @workgroup_size(THREADS)
fn batch_norm_backward_reduce(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>) {
    let ch = wid.x;
    let lid = lid3.x;
    let channels = shape.channels;
    let rows = cursor.rows * shape.pixels;
    let mean = stats[ch];
    let inv_std = stats[channels + ch];
    var sums = vec2<f32>(0.0);
    for (var r = lid; r < rows; r += THREADS) {
        let i = r * channels + ch;
        let g = gradient_at(i);
        sums += vec2<f32>(g, g * (z[i] - mean) * inv_std);
    }
    let total = workgroup_sum(lid, sums);
    if lid == 0u {
        affine_grad[ch] = total.y;
        affine_grad[channels + ch] = total.x;
    }
}

@compute @workgroup_size(256)
fn batch_norm_backward_apply(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = gid.x + gid.y * groups.x * 256u;
    let channels = shape.channels;
    if i >= shape.images * shape.pixels * channels {
        return;
    }
    let ch = i % channels;
    let rows = cursor.rows * shape.pixels;
    if i / channels >= rows {
        dz[i] = 0.0;
        return;
    }
    let inv_std = stats[channels + ch];
    let xhat = (z[i] - stats[ch]) * inv_std;
    let g = gradient_at(i);
    dz[i] = affine[ch] * inv_std * (g - (affine_grad[channels + ch] + xhat * affine_grad[ch]) / f32(rows));
}
