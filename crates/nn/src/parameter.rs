//! A trainable tensor with its gradient and its optimizer state.

use std::sync::OnceLock;

use shatter_gpu::{Dispatch, Gpu, GpuError, StatePart, Tensor, TexelMirror};

use crate::optimizer::{SgdConfig, SgdState, sgd_momentum};

pub struct Parameter {
    pub value: Tensor,
    /// dL/dvalue, written by the layer's backward each step.
    pub grad: Tensor,
    /// The optimizer's velocity, zero until the first update, which makes it: a buffer, or
    /// a texture where the update writes a mirror on an adapter that can read and write
    /// one (see [`SgdState::Texels`]).
    velocity: OnceLock<Velocity>,
    /// Whether weight decay applies (weights and filters; not biases or batch-norm scales).
    pub weight_decay: bool,
}

/// Where a parameter's momentum lives (see [`SgdState`]).
enum Velocity {
    Buffer(Tensor),
    Texels(TexelMirror),
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
            velocity: OnceLock::new(),
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
            match (
                self.velocity(gpu, mirror.is_some() && gpu.read_write_texels())?,
                mirror,
            ) {
                (Velocity::Texels(velocity), Some(mirror)) => SgdState::Texels { velocity, mirror },
                (Velocity::Buffer(velocity), mirror) => SgdState::Buffer { velocity, mirror },
                (Velocity::Texels(_), None) => {
                    unreachable!("a texture velocity comes with a mirror")
                }
            },
        )
    }

    /// The optimizer's velocity as lasting state, once the first update has made it.
    pub fn velocity_state(&self) -> Option<StatePart<'_>> {
        self.velocity.get().map(|velocity| match velocity {
            Velocity::Buffer(t) => StatePart::Buffer(t),
            Velocity::Texels(m) => StatePart::Texels(m),
        })
    }

    /// The velocity, made on the first call (in a texture when `texels`); every update
    /// of a parameter must keep it in the same place.
    fn velocity(&self, gpu: &Gpu, texels: bool) -> Result<&Velocity, GpuError> {
        if let Some(velocity) = self.velocity.get() {
            assert_eq!(
                matches!(velocity, Velocity::Texels(_)),
                texels,
                "'{}': an update must keep the velocity where the first one did",
                self.value.name
            );
            return Ok(velocity);
        }
        let name = format!("{}.velocity", self.value.name);
        let velocity = if texels {
            Velocity::Texels(gpu.texel_state(&name, self.len())?)
        } else {
            Velocity::Buffer(gpu.zeros(&name, &self.value.shape)?)
        };
        Ok(self.velocity.get_or_init(|| velocity))
    }
}
