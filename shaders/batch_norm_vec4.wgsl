// Batch normalization forward (_batch_norm_forward.wgsl), four channels per invocation:
// where the channels, and the slice of y they are written to, are whole quads.

alias Lanes = vec4<f32>;
const LANE_WIDTH: u32 = 4u;
