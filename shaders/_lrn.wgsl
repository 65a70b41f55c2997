// Local response normalization across channels, TensorFlow's definition:
//   s[c] = bias + alpha * sum of x[c']^2 over c' in [c - r, c + r]
//   y[c] = x[c] * s[c]^-beta
//   dx[c] = dy[c] s[c]^-beta - 2 alpha beta x[c] sum over c' in [c - r, c + r] of dy[c'] x[c'] s[c']^(-beta - 1)
// The forward keeps s, so the backward is one window sum per element. This fragment holds
// the shape; lrn.wgsl computes one element per invocation, lrn_vec4.wgsl four channels.

struct LrnShape {
    pixels: u32,
    channels: u32,
    radius: u32,
    _pad: u32,
    bias: f32,
    alpha: f32,
    beta: f32,
    _pad2: f32,
}

// Read-only storage rather than uniform, and copied into `shape` as each kernel
// starts: see BindingKind::Params in crates/gpu/src/dispatch.rs.
@group(0) @binding(0) var<storage, read> shape_buffer: LrnShape;
var<private> shape: LrnShape;

fn flat_index(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return gid.x + gid.y * groups.x * 256u;
}
