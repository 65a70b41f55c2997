// The momentum-SGD update (_sgd.wgsl), one value per invocation: any length.

alias Value = f32;

@compute @workgroup_size(256)
fn sgd_momentum(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    params = params_buffer;
    let i = element(gid, groups);
    if i < params.len {
        update(i);
    }
}
