//! Softmax cross-entropy: gradient for the backward pass and per-step metrics.

use shatter_gpu::{Binding, Dispatch, Gpu, GpuError, Kernel, Tensor, U32Buffer};

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct LossShape {
    batch: u32,
    classes: u32,
    images: u32,
    _pad: u32,
}

/// Build the loss dispatch for a pass over `images` images. It writes `dlogits` and, at
/// `metrics[cursor.step]`, the vec4 [loss summed over real rows, correct, real rows, top-5
/// correct].
#[allow(clippy::too_many_arguments)]
pub fn softmax_xent(
    gpu: &Gpu,
    label: &str,
    images: usize,
    cursor: &shatter_gpu::wgpu::Buffer,
    logits: &Tensor,
    labels: &U32Buffer,
    dlogits: &Tensor,
    metrics: &Tensor,
) -> Result<Dispatch, GpuError> {
    let batch = logits.shape[0];
    let classes = logits.shape[1];
    assert_eq!(labels.len, batch, "{label}: one label per row");
    let shape = gpu.params(
        &format!("{label}.shape"),
        &LossShape {
            batch: batch as u32,
            classes: classes as u32,
            images: images as u32,
            _pad: 0,
        },
    );
    gpu.dispatch(
        label,
        &Kernel::new("softmax_xent", "softmax_xent"),
        &[
            Binding::params(&shape),
            Binding::read(cursor),
            Binding::read(&logits.buffer),
            Binding::read(&labels.buffer),
            Binding::write(&dlogits.buffer),
            Binding::write(&metrics.buffer),
        ],
        [1, 1, 1],
    )
}
