// ReLU backward from a channel slice, four channels per invocation (_channel_slice_vec4.wgsl),
// storing each quad of dz to dz's texel mirror as well (quad i is texel i). The products
// that read dz then need no copy of it: on lavapipe the copy cost more than this kernel
// (AlexNet's first convolution: 31 ms against 22), where the texel store adds little.

@group(0) @binding(4) var dz_texels: texture_storage_2d<rgba32float, write>;

@compute @workgroup_size(256)
fn relu_backward_slice(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    shape = shape_buffer;
    let i = gid.x + gid.y * groups.x * 256u;
    if i < dz_quads() {
        let quad = dz_quad(i);
        dz[i] = quad;
        textureStore(dz_texels, texel_coords(i), quad);
    }
}
