//! shatter-gpu: the thin GPU runtime under shatter's training code.
//!
//! It chooses an adapter the way every shatter command does (environment variables
//! and `--adapter`), opens a device with the limits training needs, and offers the
//! few things the layers above build on: f32/u32 tensors, a pipeline cache keyed by
//! shader, entry point, override constants and binding signature, prebuilt
//! dispatches recorded into one compute pass, and readback. It knows nothing of
//! layers or datasets.
//!
//! How the crates fit together, a training step's data flow and where each kernel lives:
//! docs/architecture.md in the repository.

mod adapter;
mod device;
mod dispatch;
mod error;
#[cfg(not(target_arch = "wasm32"))]
mod headless;
mod pipeline;
mod readback;
mod shaders;
mod state;
mod tensor;
mod texels;

pub use adapter::AdapterSummary;
#[cfg(not(target_arch = "wasm32"))]
pub use adapter::list_adapters;
pub use device::Gpu;
pub use dispatch::{Binding, BindingKind, Dispatch, workgroups_for};
pub use error::GpuError;
pub use pipeline::Kernel;
pub use readback::Readback;
pub use shaders::{SHADERS, Shader, shader};
pub use state::StatePart;
pub use tensor::{Tensor, U32Buffer};
pub use texels::{ChannelPadding, TEXELS_PER_ROW, TexelMirror};

/// Re-exported so the layers above name wgpu types through one path and one version.
pub use wgpu;
