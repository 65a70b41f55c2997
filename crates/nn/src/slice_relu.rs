//! ReLU backward read from a channel slice (shaders/channel_slice.wgsl, and
//! channel_slice_vec4.wgsl four channels at a time).

use shatter_gpu::{Binding, Dispatch, Gpu, GpuError, Kernel, Tensor, workgroups_for};

use crate::slice::ChannelSlice;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct SliceShape {
    pixels: u32,
    channels: u32,
    stride: u32,
    offset: u32,
}

/// dz = dy where y > 0, else 0; dy and y sliced alike, dz holding only the slice's channels.
pub fn relu_backward_slice(
    gpu: &Gpu,
    label: &str,
    dy: &Tensor,
    y: ChannelSlice<'_>,
    dz: &Tensor,
) -> Result<Dispatch, GpuError> {
    assert_eq!(dy.len(), y.tensor.len(), "{label}: dy is sliced as y");
    assert_eq!(dz.len(), y.pixels() * y.channels, "{label}: dz length");
    let shape = gpu.params(
        &format!("{label}.shape"),
        &SliceShape {
            pixels: y.pixels() as u32,
            channels: y.channels as u32,
            stride: y.stride() as u32,
            offset: y.offset as u32,
        },
    );
    // Four channels per invocation where every 16-byte access is whole and aligned.
    let (shader, invocations) = if y.whole_quads() {
        ("channel_slice_vec4", dz.len() / 4)
    } else {
        ("channel_slice", dz.len())
    };
    gpu.dispatch(
        label,
        &Kernel::new(shader, "relu_backward_slice"),
        &[
            Binding::params(&shape),
            Binding::read(&dy.buffer),
            Binding::read(&y.tensor.buffer),
            Binding::write(&dz.buffer),
        ],
        workgroups_for(invocations, 256),
    )
}
