// ReLU backward from a channel slice (see _channel_slice.wgsl), four channels per
// invocation with 16-byte accesses, a quarter of the load instructions of
// channel_slice.wgsl (on CPU adapters each one is a loop over the lanes). For channel
// counts, strides and offsets that are multiples of 4.

@group(0) @binding(1) var<storage, read> dy: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> y: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> dz: array<vec4<f32>>;

@compute @workgroup_size(256)
fn relu_backward_slice(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    shape = shape_buffer;
    let i = gid.x + gid.y * groups.x * 256u;
    let quads = shape.channels / 4u;
    if i >= shape.pixels * quads {
        return;
    }
    let at = ((i / quads) * shape.stride + shape.offset) / 4u + i % quads;
    dz[i] = select(vec4<f32>(0.0), dy[at], y[at] > vec4<f32>(0.0));
}
