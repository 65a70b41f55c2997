// Batch normalization forward (_batch_norm_forward.wgsl), one channel per invocation:
// for any channel count and slice.

alias Lanes = f32;
const LANE_WIDTH: u32 = 1u;
