// The momentum-SGD update of sgd_vec4.wgsl, which also writes each new weight to the
// weight's texel mirror (_texels.wgsl: vec4 i is texel i), for weights the forward
// products read from a mirror. Without it the next step's forward would copy the whole
// weight buffer into the mirror again, a load and a texel store per four values; here
// the update holds the values already, and the store is all that is added.

alias Value = vec4<f32>;

@group(0) @binding(5) var mirror: texture_storage_2d<rgba32float, write>;

@compute @workgroup_size(256)
fn sgd_momentum(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    params = params_buffer;
    let i = element(gid, groups);
    if i < params.len {
        textureStore(mirror, texel_coords(i), update(i));
    }
}
