//! shatter-nn: the layers of the paper's networks on the GPU, their loss and optimizer,
//! and the plain CPU reference that specifies every kernel.
//!
//! Every GPU operation here is a set of prebuilt [`shatter_gpu::Dispatch`]es: a model is
//! built once for a batch size (parameters, activations, gradients, optimizer state and
//! bind groups allocated then), and a training step only records dispatches.

mod cursor;
mod dense;
mod gemm;
mod init;
mod loss;
mod model;
mod network;
mod optimizer;
pub mod reference;
mod relu;

pub use cursor::{CursorPass, StepCursor, cursor_dispatches};
pub use dense::Dense;
pub use gemm::{GemmSpec, GemmVariant, gemm};
pub use init::glorot_uniform;
pub use loss::softmax_xent;
pub use model::ModelKind;
pub use network::Network;
pub use optimizer::{LrSchedule, SgdConfig, sgd_momentum};
pub use relu::{relu_backward, relu_forward};
