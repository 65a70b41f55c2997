//! The dispatches of a product kernel (GEMM or convolution), which share one binding
//! layout: 0 the shape uniform, 1 A, 2 B, 3 the bias, 4 C.

use shatter_gpu::{Binding, Dispatch, Gpu, GpuError, Kernel, Tensor};

/// A product kernel's operands and grid.
pub(crate) struct ProductBindings<'a> {
    pub shape: &'a shatter_gpu::wgpu::Buffer,
    pub a: &'a Tensor,
    pub b: &'a Tensor,
    /// Without a bias the kernel never reads binding 3, but the layout still has it: B is
    /// bound there again (two read-only bindings of one buffer are allowed), so no buffer
    /// is made.
    pub bias: Option<&'a Tensor>,
    pub c: &'a Tensor,
    pub workgroups: [u32; 3],
}

/// The dispatches running `kernel` on `p`, in order. With `texels`, A and B are read from
/// texel mirrors, and the copies into them come first (the caller has checked with
/// [`Gpu::fits_texel_mirror`] that they fit); the dispatches' bind groups keep the
/// mirrors alive.
pub(crate) fn product_dispatches(
    gpu: &Gpu,
    label: &str,
    kernel: &Kernel,
    p: ProductBindings<'_>,
    texels: bool,
) -> Result<Vec<Dispatch>, GpuError> {
    let bias = p.bias.map_or(&p.b.buffer, |t| &t.buffer);
    let tail = [Binding::read(bias), Binding::write(&p.c.buffer)];
    if texels {
        let (a_texels, pack_a) = gpu.texel_mirror(p.a)?;
        let (b_texels, pack_b) = gpu.texel_mirror(p.b)?;
        let head = [
            Binding::uniform(p.shape),
            Binding::texels(&a_texels),
            Binding::texels(&b_texels),
        ];
        let product = gpu.dispatch(label, kernel, &[&head[..], &tail].concat(), p.workgroups)?;
        return Ok(vec![pack_a, pack_b, product]);
    }
    let head = [
        Binding::uniform(p.shape),
        Binding::read(&p.a.buffer),
        Binding::read(&p.b.buffer),
    ];
    let product = gpu.dispatch(label, kernel, &[&head[..], &tail].concat(), p.workgroups)?;
    Ok(vec![product])
}
