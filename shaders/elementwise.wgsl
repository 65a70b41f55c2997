// ReLU forward and backward, one invocation per element.

struct Len {
    len: u32,
}

// Read-only storage rather than uniform, and copied into `params` as each kernel
// starts: see BindingKind::Params in crates/gpu/src/dispatch.rs.
@group(0) @binding(0) var<storage, read> params_buffer: Len;
var<private> params: Len;
@group(0) @binding(1) var<storage, read> input: array<f32>;
// relu_backward also reads the forward output here (dy in `input`, y in `aux`).
@group(0) @binding(2) var<storage, read> aux: array<f32>;
@group(0) @binding(3) var<storage, read_write> output: array<f32>;

fn flat_index(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return gid.x + gid.y * groups.x * 256u;
}

// y = max(x, 0); `aux` is bound but unused so both entry points share one layout.
@compute @workgroup_size(256)
fn relu_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    params = params_buffer;
    let i = flat_index(gid, groups);
    if i < params.len {
        output[i] = max(input[i], 0.0);
    }
}

// dx = dy where the forward output was positive, else 0 (the subgradient at 0 is 0).
@compute @workgroup_size(256)
fn relu_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    params = params_buffer;
    let i = flat_index(gid, groups);
    if i < params.len {
        output[i] = select(0.0, input[i], aux[i] > 0.0);
    }
}
