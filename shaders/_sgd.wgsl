// SGD with momentum and optional L2 weight decay, as TensorFlow's MomentumOptimizer
// (the paper's setting):  g' = g + wd * w;  v = momentum * v + g';  w -= lr * v.
// The learning rate is the step's, computed once by `set_learning_rate` (cursor.wgsl).
// Shared by sgd.wgsl (one value per invocation), sgd_vec4.wgsl (four) and
// sgd_vec4_mirrored.wgsl (four, also written to the weight's texel mirror), which name
// the element type `Value`.

struct SgdParams {
    len: u32, // in elements of the arrays: values, or vec4s
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

// Read-only storage rather than uniform, and copied into `params` as each kernel
// starts: see BindingKind::Params in crates/gpu/src/dispatch.rs.
@group(0) @binding(0) var<storage, read> params_buffer: SgdParams;
var<private> params: SgdParams;
@group(0) @binding(1) var<storage, read> cursor: Cursor;
@group(0) @binding(2) var<storage, read> grad: array<Value>;
@group(0) @binding(3) var<storage, read_write> weight: array<Value>;
@group(0) @binding(4) var<storage, read_write> velocity: array<Value>;

// The element an invocation updates (grids past 65,535 workgroups of 256 fold into y).
fn element(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return gid.x + gid.y * groups.x * 256u;
}

// Update element `i` of the three arrays; returns the new weight.
fn update(i: u32) -> Value {
    let w = weight[i];
    let g = grad[i] + params.weight_decay * w;
    let v = params.momentum * velocity[i] + g;
    velocity[i] = v;
    let updated = w - cursor.lr * v;
    weight[i] = updated;
    return updated;
}
