// Local response normalization (see _lrn.wgsl), one element per invocation: any channel
// count and radius.

@group(0) @binding(1) var<storage, read> x: array<f32>;
// Backward only: dy (the forward binds x here too).
@group(0) @binding(2) var<storage, read> dy: array<f32>;
// s, written by the forward, read by the backward.
@group(0) @binding(3) var<storage, read_write> scale: array<f32>;
// Forward: y. Backward: dx.
@group(0) @binding(4) var<storage, read_write> destination: array<f32>;

// The channels of element i's window: [first, end).
fn window(i: u32) -> vec2<u32> {
    let ch = i % shape.channels;
    let row = i - ch;
    return vec2<u32>(row + select(0u, ch - shape.radius, ch > shape.radius), row + min(ch + shape.radius + 1u, shape.channels));
}

@compute @workgroup_size(256)
fn lrn_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    shape = shape_buffer;
    let i = flat_index(gid, groups);
    if i >= shape.pixels * shape.channels {
        return;
    }
    let w = window(i);
    var sum = 0.0;
    for (var j = w.x; j < w.y; j++) {
        sum += x[j] * x[j];
    }
    let s = shape.bias + shape.alpha * sum;
    scale[i] = s;
    destination[i] = x[i] * pow(s, -shape.beta);
}

@compute @workgroup_size(256)
fn lrn_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    shape = shape_buffer;
    let i = flat_index(gid, groups);
    if i >= shape.pixels * shape.channels {
        return;
    }
    let w = window(i);
    var sum = 0.0;
    for (var j = w.x; j < w.y; j++) {
        sum += dy[j] * x[j] * pow(scale[j], -shape.beta - 1.0);
    }
    destination[i] = dy[i] * pow(scale[i], -shape.beta) - 2.0 * shape.alpha * shape.beta * x[i] * sum;
}
