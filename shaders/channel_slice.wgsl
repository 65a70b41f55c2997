// ReLU backward from a channel slice of a concatenation into a tensor of the slice's own
// channels: dz[p, c] = dy[p, offset + c] where y[p, offset + c] > 0, else 0. A branch's
// gradient is read where the concatenation put its output, so splitting the
// concatenation's gradient costs no copy of its own.

struct SliceShape {
    pixels: u32,
    channels: u32,
    stride: u32,
    offset: u32,
}

@group(0) @binding(0) var<uniform> shape: SliceShape;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> dz: array<f32>;

@compute @workgroup_size(256)
fn relu_backward_slice(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = gid.x + gid.y * groups.x * 256u;
    if i >= shape.pixels * shape.channels {
        return;
    }
    let at = (i / shape.channels) * shape.stride + shape.offset + i % shape.channels;
    dz[i] = select(0.0, dy[at], y[at] > 0.0);
}
