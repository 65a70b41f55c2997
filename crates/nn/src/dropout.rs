//! Dropout (shaders/dropout.wgsl): inverted dropout in training, the identity in
//! evaluation, with a mask drawn on the GPU from the run's seed and the step (see the
//! shader), never stored.

use shatter_gpu::{Binding, Dispatch, Gpu, GpuError, Kernel, Tensor, workgroups_for};

use crate::reference::dropout_threshold;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct DropoutShape {
    rows: u32,
    row_len: u32,
    threshold: u32,
    seed: u32,
    scale: f32,
    _pad: [u32; 3],
}

/// How a dropout dispatch behaves.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dropout {
    /// The fraction of values dropped in training, in [0, 1).
    pub rate: f64,
    /// The run's seed for this layer's masks.
    pub seed: u32,
}

impl Dropout {
    fn shape(&self, rows: usize, row_len: usize, training: bool) -> DropoutShape {
        let rate = if training { self.rate } else { 0.0 };
        DropoutShape {
            rows: rows as u32,
            row_len: row_len as u32,
            threshold: dropout_threshold(rate),
            seed: self.seed,
            scale: (1.0 / (1.0 - rate)) as f32,
            _pad: [0; 3],
        }
    }
}

fn dispatch(
    gpu: &Gpu,
    label: &str,
    entry: &'static str,
    shape: DropoutShape,
    cursor: &shatter_gpu::wgpu::Buffer,
    source: &Tensor,
    destination: &Tensor,
) -> Result<Dispatch, GpuError> {
    let len = shape.rows as usize * shape.row_len as usize;
    assert_eq!(source.len(), len, "{label}: input length");
    assert_eq!(destination.len(), len, "{label}: output length");
    let shape = gpu.params(&format!("{label}.shape"), &shape);
    gpu.dispatch(
        label,
        &Kernel::new("dropout", entry),
        &[
            Binding::params(&shape),
            Binding::read(cursor),
            Binding::read(&source.buffer),
            Binding::write(&destination.buffer),
        ],
        workgroups_for(len, 256),
    )
}

/// y = x through this step's mask (`training`), or y = x (evaluation). `x` and `y` are
/// [rows, row_len]; the mask depends on `cursor`'s images seen, so a step's forward and
/// backward share it.
#[allow(clippy::too_many_arguments)]
pub fn dropout_forward(
    gpu: &Gpu,
    label: &str,
    dropout: Dropout,
    training: bool,
    [rows, row_len]: [usize; 2],
    cursor: &shatter_gpu::wgpu::Buffer,
    x: &Tensor,
    y: &Tensor,
) -> Result<Dispatch, GpuError> {
    let shape = dropout.shape(rows, row_len, training);
    dispatch(gpu, label, "dropout_forward", shape, cursor, x, y)
}

/// dx = dy through the mask the step's forward used.
pub fn dropout_backward(
    gpu: &Gpu,
    label: &str,
    dropout: Dropout,
    [rows, row_len]: [usize; 2],
    cursor: &shatter_gpu::wgpu::Buffer,
    dy: &Tensor,
    dx: &Tensor,
) -> Result<Dispatch, GpuError> {
    let shape = dropout.shape(rows, row_len, true);
    dispatch(gpu, label, "dropout_backward", shape, cursor, dy, dx)
}
