// ReLU backward from a channel slice (see _channel_slice.wgsl), one value per invocation:
// any channel count, stride and offset.

@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> dz: array<f32>;

@compute @workgroup_size(256)
fn relu_backward_slice(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    shape = shape_buffer;
    let i = gid.x + gid.y * groups.x * 256u;
    if i >= shape.pixels * shape.channels {
        return;
    }
    let at = (i / shape.channels) * shape.stride + shape.offset + i % shape.channels;
    dz[i] = select(0.0, dy[at], y[at] > 0.0);
}
