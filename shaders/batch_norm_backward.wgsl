// Batch normalization backward (_batch_norm_backward.wgsl), one channel per invocation.

alias Lanes = f32;
const LANE_WIDTH: u32 = 1u;
