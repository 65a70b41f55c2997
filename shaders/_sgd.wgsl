// SGD with momentum and optional L2 weight decay, as TensorFlow's MomentumOptimizer
// (the paper's setting):  g' = g + wd * w;  v = momentum * v + g';  w -= lr * v.
// The learning rate is the step's, computed once by `set_learning_rate` (cursor.wgsl).
// Shared by sgd.wgsl (one value per invocation), sgd_vec4.wgsl (four),
// sgd_vec4_mirrored.wgsl (four, also written to the weight's texel mirror) and
// sgd_vec4_texel_state.wgsl (four, the velocity in a texture), which name the element
// type `Value`; all but the last keep the velocity in a buffer (_sgd_velocity_buffer.wgsl).

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

// The element an invocation updates (grids past 65,535 workgroups of 256 fold into y).
fn element(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return gid.x + gid.y * groups.x * 256u;
}

// One element's new velocity and weight: v = momentum v + (g + wd w); w -= lr v.
struct Step {
    velocity: Value,
    weight: Value,
}

fn momentum_step(w: Value, g: Value, v: Value) -> Step {
    let velocity = params.momentum * v + (g + params.weight_decay * w);
    return Step(velocity, w - cursor.lr * velocity);
}
