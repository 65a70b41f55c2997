//! A trainable tensor with its gradient and its optimizer state.

use std::sync::OnceLock;

use shatter_gpu::{Dispatch, Gpu, GpuError, Tensor, TexelMirror};

use crate::optimizer::{SgdConfig, SgdState, sgd_momentum};

pub struct Parameter {
    pub value: Tensor,
    /// dL/dvalue, written by the layer's backward each step.
    pub grad: Tensor,
    velocity: Tensor,
    /// The velocity in a texture instead, made by the first update that writes a mirror
    /// on an adapter that can read and write one (see [`SgdState::Texels`]); the buffer
    /// then stays zero.
    velocity_texels: OnceLock<TexelMirror>,
    /// Whether weight decay applies (weights and filters; not biases or batch-norm scales).
    pub weight_decay: bool,
}

impl Parameter {
    /// A parameter of `shape` holding `init`.
    pub fn new(
        gpu: &Gpu,
        name: &str,
        shape: &[usize],
        init: &[f32],
        weight_decay: bool,
    ) -> Result<Self, GpuError> {
        Ok(Self {
            value: gpu.tensor(name, shape, init)?,
            grad: gpu.zeros(&format!("{name}.grad"), shape)?,
            velocity: gpu.zeros(&format!("{name}.velocity"), shape)?,
            velocity_texels: OnceLock::new(),
            weight_decay,
        })
    }

    /// A zero-initialized parameter (biases).
    pub fn zeros(
        gpu: &Gpu,
        name: &str,
        shape: &[usize],
        weight_decay: bool,
    ) -> Result<Self, GpuError> {
        Self::new(
            gpu,
            name,
            shape,
            &vec![0.0; shape.iter().product()],
            weight_decay,
        )
    }

    pub fn len(&self) -> usize {
        self.value.len()
    }

    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }

    /// The momentum-SGD step of this parameter, writing the new values to `mirror` too
    /// where one is given (a texel mirror of `value` that products read, filled before
    /// the first step: where the adapter allows, the update reads the weights from it and
    /// keeps the velocity in a texture beside it). Every update of a parameter shares its
    /// one velocity.
    pub fn update(
        &self,
        gpu: &Gpu,
        config: &SgdConfig,
        cursor: &shatter_gpu::wgpu::Buffer,
        mirror: Option<&TexelMirror>,
    ) -> Result<Dispatch, GpuError> {
        sgd_momentum(
            gpu,
            &format!("{}.update", self.value.name),
            config,
            self.weight_decay,
            cursor,
            &self.grad,
            &self.value,
            match mirror {
                Some(mirror) if gpu.read_write_texels() => SgdState::Texels {
                    velocity: self.velocity_texels(gpu)?,
                    mirror,
                },
                mirror => SgdState::Buffer {
                    velocity: &self.velocity,
                    mirror,
                },
            },
        )
    }

    fn velocity_texels(&self, gpu: &Gpu) -> Result<&TexelMirror, GpuError> {
        if let Some(texture) = self.velocity_texels.get() {
            return Ok(texture);
        }
        let texture =
            gpu.texel_state(&format!("{}.velocity_texels", self.value.name), self.len())?;
        Ok(self.velocity_texels.get_or_init(|| texture))
    }
}
