// The velocity of _sgd.wgsl's update kept in a buffer beside the weights, for sgd.wgsl,
// sgd_vec4.wgsl and sgd_vec4_mirrored.wgsl.

@group(0) @binding(4) var<storage, read_write> velocity: array<Value>;

// Update element `i` of the weights and the velocity; returns the new weight.
fn update(i: u32) -> Value {
    let step = momentum_step(weight[i], grad[i], velocity[i]);
    velocity[i] = step.velocity;
    weight[i] = step.weight;
    return step.weight;
}
