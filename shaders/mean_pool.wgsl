// Global mean pooling: y[n, c] = mean over the pixels of x[n, p, c], and its backward.

struct MeanPoolShape {
    batch: u32,
    pixels: u32,
    channels: u32,
    _pad: u32,
}

// Read-only storage rather than uniform, and copied into `shape` as each kernel
// starts: see BindingKind::Params in crates/gpu/src/dispatch.rs.
@group(0) @binding(0) var<storage, read> shape_buffer: MeanPoolShape;
var<private> shape: MeanPoolShape;
// Forward: x [batch, pixels, channels]. Backward: dy [batch, channels].
@group(0) @binding(1) var<storage, read> source: array<f32>;
// Forward: y. Backward: dx.
@group(0) @binding(2) var<storage, read_write> destination: array<f32>;

@compute @workgroup_size(64)
fn mean_pool_forward(@builtin(global_invocation_id) gid: vec3<u32>) {
    shape = shape_buffer;
    let s = shape;
    let i = gid.x;
    if i >= s.batch * s.channels {
        return;
    }
    let image = i / s.channels;
    let ch = i % s.channels;
    var sum = 0.0;
    for (var p = 0u; p < s.pixels; p++) {
        sum += source[(image * s.pixels + p) * s.channels + ch];
    }
    destination[i] = sum / f32(s.pixels);
}

@compute @workgroup_size(256)
fn mean_pool_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    shape = shape_buffer;
    let s = shape;
    let i = gid.x + gid.y * groups.x * 256u;
    if i >= s.batch * s.pixels * s.channels {
        return;
    }
    let image = i / (s.pixels * s.channels);
    destination[i] = source[image * s.channels + i % s.channels] / f32(s.pixels);
}
