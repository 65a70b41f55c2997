// ReLU backward from a channel slice, four channels per invocation (_channel_slice_vec4.wgsl).

@compute @workgroup_size(256)
fn relu_backward_slice(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    shape = shape_buffer;
    let i = gid.x + gid.y * groups.x * 256u;
    if i < dz_quads() {
        dz[i] = dz_quad(i);
    }
}
