//! SGD with momentum and weight decay, and the learning-rate schedule it follows.

use shatter_gpu::{Binding, Dispatch, Gpu, GpuError, Kernel, Tensor, TexelMirror, workgroups_for};

/// lr = lr0 * decay ^ (images seen / decay_images), the exponent floored when `staircase`.
/// The paper multiplies the rate by 0.95 after each CIFAR-10 epoch; shatter counts that
/// epoch as 50,000 images seen, so a smaller training set keeps the paper's budget.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LrSchedule {
    pub lr0: f64,
    pub decay: f64,
    pub decay_images: f64,
    pub staircase: bool,
}

impl LrSchedule {
    /// The rate after `images_seen` training images (the host's copy of the GPU formula).
    pub fn at(&self, images_seen: u64) -> f64 {
        let mut exponent = images_seen as f64 / self.decay_images;
        if self.staircase {
            exponent = exponent.floor();
        }
        self.lr0 * self.decay.powf(exponent)
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdConfig {
    pub schedule: LrSchedule,
    pub momentum: f64,
    /// L2 coefficient added to the gradient of weights (not biases) as `wd * w`.
    pub weight_decay: f64,
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct SgdParams {
    len: u32,
    momentum: f32,
    weight_decay: f32,
    _pad: f32,
}

/// Where an update keeps the velocity, and where it writes the new weights besides their
/// buffer.
#[derive(Clone, Copy)]
pub enum SgdState<'a> {
    /// The velocity in a buffer of the weights' length; the new weights also written to
    /// `mirror` where one is given (shaders/sgd_vec4_mirrored.wgsl; the length must be a
    /// multiple of 4).
    Buffer {
        velocity: &'a Tensor,
        mirror: Option<&'a TexelMirror>,
    },
    /// The weights read from and written to `mirror`, a filled texel mirror of them, and
    /// the velocity kept in a texture of the same layout
    /// (shaders/sgd_vec4_texel_state.wgsl), where [`Gpu::read_write_texels`] allows:
    /// texel loads are gathers on lavapipe, storage loads loops over the lanes.
    Texels {
        velocity: &'a TexelMirror,
        mirror: &'a TexelMirror,
    },
}

/// One parameter tensor's update: v = m v + (g + wd w); w -= lr v, with the step's
/// learning rate read from the cursor (see shaders/cursor.wgsl, `set_learning_rate`).
/// (A kernel builder takes each buffer it binds, hence the argument count.)
#[allow(clippy::too_many_arguments)]
pub fn sgd_momentum(
    gpu: &Gpu,
    label: &str,
    config: &SgdConfig,
    decays: bool,
    cursor: &shatter_gpu::wgpu::Buffer,
    grad: &Tensor,
    weight: &Tensor,
    state: SgdState<'_>,
) -> Result<Dispatch, GpuError> {
    assert_eq!(
        grad.len(),
        weight.len(),
        "{label}: gradient and weight lengths differ"
    );
    let holds_the_weights = |mirror: &TexelMirror, what: &str| {
        assert_eq!(
            mirror.texels * 4,
            weight.len(),
            "{label}: the {what} must hold the weights' length, four to a texel"
        );
    };
    // Four values per invocation where the length allows (shaders/sgd_vec4.wgsl).
    let (kernel, items) = match state {
        SgdState::Buffer { velocity, mirror } => {
            assert_eq!(
                velocity.len(),
                weight.len(),
                "{label}: velocity and weight lengths differ"
            );
            match mirror {
                Some(mirror) => {
                    holds_the_weights(mirror, "mirror");
                    ("sgd_vec4_mirrored", weight.len() / 4)
                }
                None if weight.len().is_multiple_of(4) => ("sgd_vec4", weight.len() / 4),
                None => ("sgd", weight.len()),
            }
        }
        SgdState::Texels { velocity, mirror } => {
            holds_the_weights(mirror, "mirror");
            holds_the_weights(velocity, "velocity's texture");
            assert!(
                gpu.read_write_texels(),
                "{label}: adapter '{}' cannot read and write texel mirrors",
                gpu.adapter().name
            );
            ("sgd_vec4_texel_state", weight.len() / 4)
        }
    };
    let params = SgdParams {
        len: items as u32,
        momentum: config.momentum as f32,
        weight_decay: if decays {
            config.weight_decay as f32
        } else {
            0.0
        },
        _pad: 0.0,
    };
    let params = gpu.params(&format!("{label}.params"), &params);
    let mut bindings = vec![
        Binding::params(&params),
        Binding::read(cursor),
        Binding::read(&grad.buffer),
        Binding::write(&weight.buffer),
    ];
    match state {
        SgdState::Buffer { velocity, mirror } => {
            bindings.push(Binding::write(&velocity.buffer));
            bindings.extend(mirror.map(Binding::write_texels));
        }
        SgdState::Texels { velocity, mirror } => {
            bindings.push(Binding::read_write_texels(velocity));
            bindings.push(Binding::read_write_texels(mirror));
        }
    }
    gpu.dispatch(
        label,
        &Kernel::new(kernel, "sgd_momentum"),
        &bindings,
        workgroups_for(items, 256),
    )
}
