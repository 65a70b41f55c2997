// sgd.wgsl's update four values at a time, for parameter tensors whose length is a
// multiple of 4 (every dense and conv weight of the model zoo). On CPU adapters each
// storage access is a per-lane loop, so 16-byte accesses do the same work in a quarter
// of the loop trips; on GPUs they are wider transactions. Same formula:
//   g' = g + wd * w;  v = momentum * v + g';  w -= lr * v.

struct SgdParams {
    len: u32, // in vec4s
    momentum: f32,
    weight_decay: f32,
    _pad: f32,
}

struct Cursor {
    step: u32,
    images_seen: u32,
    lr: f32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> params: SgdParams;
@group(0) @binding(1) var<storage, read> cursor: Cursor;
@group(0) @binding(2) var<storage, read> grad: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> weight: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> velocity: array<vec4<f32>>;

@compute @workgroup_size(256)
fn sgd_momentum_vec4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = gid.x + gid.y * groups.x * 256u;
    if i >= params.len {
        return;
    }
    let w = weight[i];
    let g = grad[i] + params.weight_decay * w;
    let v = params.momentum * velocity[i] + g;
    velocity[i] = v;
    weight[i] = w - cursor.lr * v;
}
