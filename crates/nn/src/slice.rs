//! A channel slice of an NHWC tensor: where one branch of a concatenation writes its
//! output (and reads its gradient), so concatenation needs no copy.

use shatter_gpu::Tensor;

#[derive(Clone, Copy)]
pub struct ChannelSlice<'a> {
    /// The whole tensor; its last dimension is every branch's channels together.
    pub tensor: &'a Tensor,
    /// The first channel of the slice.
    pub offset: usize,
    /// Channels in the slice.
    pub channels: usize,
}

impl<'a> ChannelSlice<'a> {
    /// All channels of `tensor`.
    pub fn whole(tensor: &'a Tensor) -> Self {
        Self {
            tensor,
            offset: 0,
            channels: tensor.shape.last().copied().unwrap_or(1),
        }
    }

    /// Channels of a row of the whole tensor: the distance between pixels.
    pub fn stride(&self) -> usize {
        self.tensor.shape.last().copied().unwrap_or(1)
    }

    /// Pixels (rows of the [pixels, stride] matrix the tensor is).
    pub fn pixels(&self) -> usize {
        self.tensor.len() / self.stride()
    }

    /// Whether the slice is whole groups of four channels, aligned: the kernels that move
    /// four channels per 16-byte access (pool_vec4.wgsl, channel_slice_vec4.wgsl) need it.
    pub fn whole_quads(&self) -> bool {
        [self.channels, self.stride(), self.offset]
            .iter()
            .all(|v| v.is_multiple_of(4))
    }
}
