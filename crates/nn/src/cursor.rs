use shatter_gpu::{Binding, Dispatch, Gpu, GpuError, Kernel};

use crate::optimizer::LrSchedule;

/// Where a pass over the data stands, kept on the GPU (see shaders/cursor.wgsl): the
/// batch kernel, the loss and the optimizer read it; `set_learning_rate` fills in the
/// step's learning rate and `advance_cursor` moves it on at the end of each step. The
/// host writes it once per pass.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct StepCursor {
    pub step: u32,
    /// Training images seen before this step, over the whole run: drives the learning-rate schedule.
    pub images_seen: u32,
    /// This step's learning rate, written on the GPU by `set_learning_rate`.
    pub lr: f32,
    /// Rows of this step's batch that hold images, also written by `set_learning_rate`:
    /// batch normalization's statistics average over these rows only.
    pub rows: u32,
}

impl StepCursor {
    pub fn at(step: u32, images_seen: u32) -> Self {
        Self {
            step,
            images_seen,
            lr: 0.0,
            rows: 0,
        }
    }
}

/// The parameters of shaders/cursor.wgsl: a pass's size and the learning-rate schedule.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct CursorPass {
    pub images: u32,
    pub batch: u32,
    pub staircase: u32,
    pub _pad: u32,
    pub lr0: f32,
    pub decay: f32,
    pub decay_images: f32,
    pub _pad2: f32,
}

impl CursorPass {
    pub fn new(images: usize, batch: usize, schedule: &LrSchedule) -> Self {
        Self {
            images: images as u32,
            batch: batch as u32,
            staircase: u32::from(schedule.staircase),
            _pad: 0,
            lr0: schedule.lr0 as f32,
            decay: schedule.decay as f32,
            decay_images: schedule.decay_images as f32,
            _pad2: 0.0,
        }
    }
}

/// The two cursor kernels of a pass: (`set_learning_rate`, `advance_cursor`).
pub fn cursor_dispatches(
    gpu: &Gpu,
    label: &str,
    pass: &CursorPass,
    cursor: &shatter_gpu::wgpu::Buffer,
) -> Result<(Dispatch, Dispatch), GpuError> {
    let shape = gpu.params(&format!("{label}.pass"), pass);
    let kernel = |entry: &'static str| {
        gpu.dispatch(
            &format!("{label}.{entry}"),
            &Kernel::new("cursor", entry),
            &[Binding::params(&shape), Binding::write(cursor)],
            [1, 1, 1],
        )
    };
    Ok((kernel("set_learning_rate")?, kernel("advance_cursor")?))
}
