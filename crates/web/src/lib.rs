//! shatter-web: the randomization tests in a browser tab, on the visitor's GPU through
//! WebGPU. The page (web/ in the repository) trains the same network on true data and on
//! randomized copies of the bundled Fashion-MNIST subset and plots every epoch.
//!
//! Everything here is shatter's native code: the bundled dataset, its subsets and the six
//! randomizations (shatter-data), the trainer and its kernels (shatter). What differs in a
//! browser is only that nothing may block: the device opens, error scopes resolve and
//! metrics come back asynchronously ([`shatter_gpu::Gpu::settle`],
//! [`shatter::Trainer::epoch_metrics_async`]). The logic lives in [`Lab`] and [`WebRun`],
//! which the native tests drive as well; `bindings` (wasm32 only) hands them to JavaScript.
//!
//! Built and served by `cargo xtask web`; docs/web.md in the repository.

mod lab;
mod web_run;

#[cfg(target_arch = "wasm32")]
mod bindings;

pub use lab::{Lab, PREVIEW_MAX_IMAGES, Preview, RunRequest, TEST_IMAGES, preview};
pub use web_run::{EpochSummary, WebRun};
