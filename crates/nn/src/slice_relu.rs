//! ReLU backward read from a channel slice (shaders/channel_slice.wgsl, and
//! channel_slice_vec4.wgsl four channels at a time, channel_slice_vec4_mirrored.wgsl
//! filling dz's texel mirror as well).

use shatter_gpu::{Binding, Dispatch, Gpu, GpuError, Kernel, Tensor, TexelMirror, workgroups_for};

use crate::product::MirrorSet;
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
    // Four channels per invocation where every 16-byte access is whole and aligned.
    if y.whole_quads() {
        slice_dispatch(gpu, label, "channel_slice_vec4", dy, y, dz, None)
    } else {
        slice_dispatch(gpu, label, "channel_slice", dy, y, dz, None)
    }
}

/// As [`relu_backward_slice`], also storing dz into `dz_mirror`, its plain texel mirror,
/// so that the products reading the mirror need no copy of their own (see
/// `MirrorSet::take_fill`). The slice must be whole quads of channels.
pub fn relu_backward_slice_mirrored(
    gpu: &Gpu,
    label: &str,
    dy: &Tensor,
    y: ChannelSlice<'_>,
    dz: &Tensor,
    dz_mirror: &TexelMirror,
) -> Result<Dispatch, GpuError> {
    assert!(y.whole_quads(), "{label}: a mirrored slice is whole quads");
    assert_eq!(dz_mirror.texels * 4, dz.len(), "{label}: dz's mirror");
    let shader = "channel_slice_vec4_mirrored";
    slice_dispatch(gpu, label, shader, dy, y, dz, Some(dz_mirror))
}

/// The ReLU backward into dz for `products` that run after it and read dz. Where one of
/// them would copy dz into its plain mirror (found in `mirrors`) and the slice is whole
/// quads, that copy is removed from `products` and the ReLU fills the mirror instead.
pub(crate) fn relu_backward_before(
    gpu: &Gpu,
    label: &str,
    dy: &Tensor,
    y: ChannelSlice<'_>,
    dz: &Tensor,
    mirrors: &MirrorSet,
    products: &mut Vec<Dispatch>,
) -> Result<Dispatch, GpuError> {
    let dz_mirror = if y.whole_quads() {
        mirrors.take_fill(dz, products)
    } else {
        None
    };
    match dz_mirror {
        Some(mirror) => relu_backward_slice_mirrored(gpu, label, dy, y, dz, &mirror),
        None => relu_backward_slice(gpu, label, dy, y, dz),
    }
}

fn slice_dispatch(
    gpu: &Gpu,
    label: &str,
    shader: &'static str,
    dy: &Tensor,
    y: ChannelSlice<'_>,
    dz: &Tensor,
    dz_mirror: Option<&TexelMirror>,
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
    let invocations = if y.whole_quads() {
        dz.len() / 4
    } else {
        dz.len()
    };
    let mut bindings = vec![
        Binding::params(&shape),
        Binding::read(&dy.buffer),
        Binding::read(&y.tensor.buffer),
        Binding::write(&dz.buffer),
    ];
    bindings.extend(dz_mirror.map(Binding::write_texels));
    gpu.dispatch(
        label,
        &Kernel::new(shader, "relu_backward_slice"),
        &bindings,
        workgroups_for(invocations, 256),
    )
}
