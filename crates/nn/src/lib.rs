//! shatter-nn: the layers of the paper's networks on the GPU, their loss and optimizer,
//! and the plain CPU reference that specifies every kernel.
//!
//! Every GPU operation here is a set of prebuilt [`shatter_gpu::Dispatch`]es: a model is
//! built once for a batch size (parameters, activations, gradients, optimizer state and
//! bind groups allocated then), and a training step only records dispatches.
//!
//! How the crates fit together, a training step's data flow and where each kernel lives:
//! docs/architecture.md in the repository.

// Tensors are shared through Arc so that native builds can move networks between threads
// (a sweep's workers). In a browser wgpu's handles are neither Send nor Sync (WebGPU
// objects live on one JavaScript thread), and one thread is all there is.
#![cfg_attr(target_arch = "wasm32", allow(clippy::arc_with_non_send_sync))]

mod batch_norm;
mod contenders;
mod conv2d;
mod conv_plan;
mod cursor;
mod dense;
mod dropout;
mod gemm;
mod gemm_plan;
mod geometry;
mod init;
mod kernel_plan;
mod layers;
mod loss;
mod lrn;
mod model;
mod network;
mod optimizer;
mod parameter;
mod pool;
mod product;
mod reduce;
pub mod reference;
mod relu;
mod slice;
mod slice_relu;

pub use batch_norm::{
    BATCH_NORM_EPSILON, BATCH_NORM_MOMENTUM, BatchNorm, NormTensors, batch_norm_chunks,
};
pub use contenders::{PRUNE_FACTOR, contenders};
pub use conv_plan::{
    CONV_BLOCKS, ConvPlan, ConvProblem, ConvVariant, browser_cpu_fallback, time_conv_variants,
};
pub use conv2d::{
    ConvLoads, ConvPass, TILED_BLOCK, conv_gemm_shape, conv2d_backward_data,
    conv2d_backward_filter, conv2d_forward, filter_gradient_splits, gpu_k_splits,
};
pub use cursor::{CursorPass, StepCursor, cursor_dispatches};
pub use dense::Dense;
pub use dropout::{Dropout, dropout_backward, dropout_forward};
pub use gemm::{
    DEFAULT_VEC4_TILE, GemmSpec, GemmVariant, MAX_GEMM_SPLITS, SUBGROUP_TILES, SUBGROUP_WIDTH,
    VEC4_TILES, gemm, tiled_k_splits,
};
pub use gemm_plan::{GemmPlan, GemmShape, candidates as gemm_candidates, time_variants};
pub use geometry::{Padding, WindowGeometry};
pub use init::{ConvInit, conv_filter_init, glorot_uniform};
pub use kernel_plan::KernelPlan;
pub use layers::{LayerSpec, forward_flops_per_image, output_shape, parameter_counts};
pub use loss::softmax_xent;
pub use lrn::{lrn_backward, lrn_forward, lrn_vec4_fits};
pub use model::{INCEPTION_V3_DROPOUT, INCEPTION_V3_MIN_SIDE, ModelKind, inception_v3};
pub use network::{BuiltLayer, Network, NetworkShape, WeightInit};
pub use optimizer::{LrSchedule, SgdConfig, SgdState, sgd_momentum};
pub use parameter::Parameter;
pub use pool::{
    avg_pool_backward, avg_pool_forward, max_pool_backward, max_pool_forward, mean_pool_backward,
    mean_pool_forward,
};
pub use product::MirrorSet;
pub use reduce::{COLUMN_SUM_CHUNK_ROWS, column_sum, column_sum_dispatch, column_sum_lanes};
pub use relu::{relu_backward, relu_forward};
pub use slice::ChannelSlice;
pub use slice_relu::{relu_backward_slice, relu_backward_slice_mirrored};
