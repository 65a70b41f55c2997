//! Local response normalization across channels (shaders/lrn.wgsl, and lrn_vec4.wgsl four
//! channels at a time), TensorFlow's definition; the forward keeps each element's
//! normalizer for the backward.

use shatter_gpu::{Binding, Dispatch, Gpu, GpuError, Kernel, Tensor, workgroups_for};

use crate::reference::LrnParams;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct LrnShape {
    pixels: u32,
    channels: u32,
    radius: u32,
    _pad: u32,
    bias: f32,
    alpha: f32,
    beta: f32,
    _pad2: f32,
}

#[allow(clippy::too_many_arguments)]
fn lrn(
    gpu: &Gpu,
    label: &str,
    entry: &'static str,
    channels: usize,
    p: LrnParams,
    x: &Tensor,
    dy: &Tensor,
    scale: &Tensor,
    destination: &Tensor,
) -> Result<Dispatch, GpuError> {
    for t in [dy, scale, destination] {
        assert_eq!(t.len(), x.len(), "{label}: {} length", t.name);
    }
    let shape = gpu.params(
        &format!("{label}.shape"),
        &LrnShape {
            pixels: (x.len() / channels) as u32,
            channels: channels as u32,
            radius: p.depth_radius as u32,
            _pad: 0,
            bias: p.bias,
            alpha: p.alpha,
            beta: p.beta,
            _pad2: 0.0,
        },
    );
    // Four channels per invocation where they are whole quads and the window reaches no
    // further than the neighbouring quads (see shaders/lrn_vec4.wgsl).
    let (shader, invocations) = if lrn_vec4_fits(channels, p) {
        ("lrn_vec4", x.len() / 4)
    } else {
        ("lrn", x.len())
    };
    gpu.dispatch(
        label,
        &Kernel::new(shader, entry),
        &[
            Binding::params(&shape),
            Binding::read(&x.buffer),
            Binding::read(&dy.buffer),
            Binding::write(&scale.buffer),
            Binding::write(&destination.buffer),
        ],
        workgroups_for(invocations, 256),
    )
}

/// Whether shaders/lrn_vec4.wgsl runs a normalization over `channels` with `p`: whole
/// quads of channels, and a radius of at most 4.
pub fn lrn_vec4_fits(channels: usize, p: LrnParams) -> bool {
    channels.is_multiple_of(4) && p.depth_radius <= 4
}

/// y = x * s^-beta with s = bias + alpha * (sum of squares over the channel window),
/// keeping s in `scale`.
pub fn lrn_forward(
    gpu: &Gpu,
    label: &str,
    channels: usize,
    p: LrnParams,
    x: &Tensor,
    scale: &Tensor,
    y: &Tensor,
) -> Result<Dispatch, GpuError> {
    // The forward reads no dy; x is bound in its place.
    lrn(gpu, label, "lrn_forward", channels, p, x, x, scale, y)
}

/// dx from x, dy and the forward's `scale`.
#[allow(clippy::too_many_arguments)]
pub fn lrn_backward(
    gpu: &Gpu,
    label: &str,
    channels: usize,
    p: LrnParams,
    x: &Tensor,
    dy: &Tensor,
    scale: &Tensor,
    dx: &Tensor,
) -> Result<Dispatch, GpuError> {
    lrn(gpu, label, "lrn_backward", channels, p, x, dy, scale, dx)
}
