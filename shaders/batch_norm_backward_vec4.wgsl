// Batch normalization backward (_batch_norm_backward.wgsl), four channels per
// invocation: where the channels and the slice of dy are whole quads.

alias Lanes = vec4<f32>;
const LANE_WIDTH: u32 = 4u;
