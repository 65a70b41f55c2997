// SGD with momentum and optional L2 weight decay, as TensorFlow's MomentumOptimizer
// (the paper's setting):  g' = g + wd * w;  v = momentum * v + g';  w -= lr * v.
// The learning rate is the step's, computed once by `set_learning_rate` (cursor.wgsl).
// Shared by sgd.wgsl (one value per invocation) and sgd_vec4.wgsl (four), which declare
// the gradient, weight and velocity arrays (bindings 2 to 4) with their element type.

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

@group(0) @binding(0) var<uniform> params: SgdParams;
@group(0) @binding(1) var<storage, read> cursor: Cursor;

// Element `i` of the three arrays, or nothing past their end.
fn update(gid: vec3<u32>, groups: vec3<u32>) {
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
