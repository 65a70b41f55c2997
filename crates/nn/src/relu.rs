//! ReLU forward and backward as standalone kernels for any pair of tensors. The layers
//! fuse the forward into their products and run the backward through slice_relu.rs,
//! which reads a slice and can fill the gradient's texel mirror; these stay the plain
//! form, held to the CPU reference like the rest.

use shatter_gpu::{Binding, Dispatch, Gpu, GpuError, Kernel, Tensor, workgroups_for};

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Len {
    len: u32,
    _pad: [u32; 3],
}

fn elementwise(
    gpu: &Gpu,
    label: &str,
    entry: &'static str,
    input: &Tensor,
    aux: &Tensor,
    output: &Tensor,
) -> Result<Dispatch, GpuError> {
    assert_eq!(
        input.len(),
        output.len(),
        "{label}: input and output lengths differ"
    );
    let params = gpu.params(
        &format!("{label}.len"),
        &Len {
            len: output.len() as u32,
            _pad: [0; 3],
        },
    );
    gpu.dispatch(
        label,
        &Kernel::new("elementwise", entry),
        &[
            Binding::params(&params),
            Binding::read(&input.buffer),
            Binding::read(&aux.buffer),
            Binding::write(&output.buffer),
        ],
        workgroups_for(output.len(), 256),
    )
}

/// y = max(x, 0).
pub fn relu_forward(gpu: &Gpu, label: &str, x: &Tensor, y: &Tensor) -> Result<Dispatch, GpuError> {
    // `aux` is unused by the forward; bind x again (read-only twice is allowed).
    elementwise(gpu, label, "relu_forward", x, x, y)
}

/// dx = dy where y > 0, else 0.
pub fn relu_backward(
    gpu: &Gpu,
    label: &str,
    dy: &Tensor,
    y: &Tensor,
    dx: &Tensor,
) -> Result<Dispatch, GpuError> {
    assert_eq!(dy.len(), y.len(), "{label}: dy and y lengths differ");
    elementwise(gpu, label, "relu_backward", dy, y, dx)
}
