// The momentum-SGD update (_sgd.wgsl) for a weight with a texel mirror, four values per
// invocation, its velocity kept in a texture of the same layout: on lavapipe a texel load
// is a gather where a storage-buffer load is a loop over the SIMD lanes, so the weights
// are read from the mirror and the velocity from its texture, and only the gradient and
// the weights' own buffer (which the rest of shatter reads) stay storage accesses. Both
// textures are read and written here (read_write storage textures of rgba32float, which
// the host uses only where the adapter offers them).

alias Value = vec4<f32>;

@group(0) @binding(4) var velocity: texture_storage_2d<rgba32float, read_write>;
@group(0) @binding(5) var mirror: texture_storage_2d<rgba32float, read_write>;

@compute @workgroup_size(256)
fn sgd_momentum(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    params = params_buffer;
    let i = element(gid, groups);
    if i < params.len {
        let at = texel_coords(i);
        let step = momentum_step(textureLoad(mirror, at), grad[i], textureLoad(velocity, at));
        textureStore(velocity, at, step.velocity);
        textureStore(mirror, at, step.weight);
        weight[i] = step.weight;
    }
}
