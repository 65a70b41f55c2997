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
    pub _pad: u32,
}

impl StepCursor {
    pub fn at(step: u32, images_seen: u32) -> Self {
        Self {
            step,
            images_seen,
            lr: 0.0,
            _pad: 0,
        }
    }
}
