// The momentum-SGD update (_sgd.wgsl) four values per invocation, for parameter tensors
// whose length is a multiple of 4 (every dense and conv weight of the model zoo). On CPU
// adapters each storage access is a loop over the SIMD lanes per component, yet one
// 16-byte access costs less than four scalar ones there; on GPUs they are wider
// transactions.

alias Value = vec4<f32>;

@compute @workgroup_size(256)
fn sgd_momentum(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    params = params_buffer;
    let i = element(gid, groups);
    if i < params.len {
        update(i);
    }
}
