//! The dispatches of a product kernel (GEMM or convolution), which share one binding
//! layout: 0 the shape (parameters), 1 A, 2 B, 3 the bias, 4 C.

use std::collections::HashMap;
use std::sync::Arc;

use shatter_gpu::{Binding, ChannelPadding, Dispatch, Gpu, GpuError, Kernel, Tensor, TexelMirror};

/// Where a product kernel reads A and B from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OperandSource {
    Buffers,
    /// Texel mirrors, filled just before the kernel; an operand with a padding has its
    /// channels padded with zeros in its mirror.
    Texels {
        a: Option<ChannelPadding>,
        b: Option<ChannelPadding>,
    },
}

impl OperandSource {
    /// Whether both mirrors would fit a texture on `gpu` (always true for buffers).
    pub fn fits(self, gpu: &Gpu, a: &Tensor, b: &Tensor) -> bool {
        let fits = |t: &Tensor, padding: Option<ChannelPadding>| {
            gpu.fits_texel_mirror(padding.map_or(t.len(), |p| p.padded_len()))
        };
        match self {
            Self::Buffers => true,
            Self::Texels { a: pa, b: pb } => fits(a, pa) && fits(b, pb),
        }
    }
}

/// Texel mirrors shared by products. The first product built with the set that reads a
/// tensor copies it into its mirror; later ones built with the set read that copy. This
/// is right only where the products run in the order they are built and nothing writes
/// the tensor between the first and the last of them: a layer's products, and every
/// forward product of a network (see `Builder::forward_mirrors` in network.rs). A
/// product run alone (a benchmark timing one layer) may read a stale copy.
#[derive(Clone, Default)]
pub struct MirrorSet {
    mirrors: HashMap<(shatter_gpu::wgpu::Buffer, Option<ChannelPadding>), Arc<TexelMirror>>,
}

impl MirrorSet {
    /// The plain (unpadded) mirror of `tensor` in this set, if a product made one.
    pub fn unpadded(&self, tensor: &Tensor) -> Option<Arc<TexelMirror>> {
        self.mirrors.get(&(tensor.buffer.clone(), None)).cloned()
    }

    /// Hands the filling of `tensor`'s plain mirror to the kernel that writes the tensor.
    /// When a product in `dispatches` made the mirror, the copy into it is removed from
    /// them and the mirror returned: the writer, which runs before them, must then store
    /// every value into it as well. Without such a mirror, or with its copy elsewhere,
    /// `dispatches` is unchanged and the writer fills only the tensor.
    pub fn take_fill(
        &self,
        tensor: &Tensor,
        dispatches: &mut Vec<Dispatch>,
    ) -> Option<Arc<TexelMirror>> {
        let mirror = self.unpadded(tensor)?;
        let before = dispatches.len();
        dispatches.retain(|d| !mirror.is_filled_by(d));
        (dispatches.len() < before).then_some(mirror)
    }

    /// The mirror of `tensor` (padded by `padding`), with the dispatch that fills it when
    /// this is the first request for it.
    fn mirror(
        &mut self,
        gpu: &Gpu,
        tensor: &Tensor,
        padding: Option<ChannelPadding>,
    ) -> Result<(Arc<TexelMirror>, Option<Dispatch>), GpuError> {
        let key = (tensor.buffer.clone(), padding);
        if let Some(mirror) = self.mirrors.get(&key) {
            return Ok((mirror.clone(), None));
        }
        let (mirror, pack) = match padding {
            Some(p) => gpu.texel_mirror_padded(tensor, p)?,
            None => gpu.texel_mirror(tensor)?,
        };
        let mirror = Arc::new(mirror);
        self.mirrors.insert(key, mirror.clone());
        Ok((mirror, Some(pack)))
    }
}

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

/// The dispatches running `kernel` on `p`, in order. From texel mirrors, the copies into
/// them that `mirrors` does not hold yet come first (the caller has checked with
/// [`OperandSource::fits`] that they fit); the dispatches' bind groups keep the mirrors
/// alive.
pub(crate) fn product_dispatches(
    gpu: &Gpu,
    label: &str,
    kernel: &Kernel,
    p: ProductBindings<'_>,
    source: OperandSource,
    mirrors: &mut MirrorSet,
) -> Result<Vec<Dispatch>, GpuError> {
    let bias = p.bias.map_or(&p.b.buffer, |t| &t.buffer);
    let tail = [Binding::read(bias), Binding::write(&p.c.buffer)];
    if let OperandSource::Texels { a, b } = source {
        let (a_texels, pack_a) = mirrors.mirror(gpu, p.a, a)?;
        let (b_texels, pack_b) = mirrors.mirror(gpu, p.b, b)?;
        let head = [
            Binding::params(p.shape),
            Binding::texels(&a_texels),
            Binding::texels(&b_texels),
        ];
        let product = gpu.dispatch(label, kernel, &[&head[..], &tail].concat(), p.workgroups)?;
        let mut dispatches: Vec<Dispatch> = pack_a.into_iter().chain(pack_b).collect();
        dispatches.push(product);
        return Ok(dispatches);
    }
    let head = [
        Binding::params(p.shape),
        Binding::read(&p.a.buffer),
        Binding::read(&p.b.buffer),
    ];
    let product = gpu.dispatch(label, kernel, &[&head[..], &tail].concat(), p.workgroups)?;
    Ok(vec![product])
}
