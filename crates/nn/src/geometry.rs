//! Shapes of the spatial layers (convolution and pooling) on NHWC tensors, with
//! TensorFlow's padding rules, which the paper's models were defined with.

/// How a window meets the image edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    /// Output size ceil(in / stride); the padding is split with the extra row or column at
    /// the bottom or right (TensorFlow's SAME).
    Same,
    /// Only whole windows: output size floor((in - window) / stride) + 1.
    Valid,
}

/// One sliding-window layer over a batch of NHWC images: a convolution (with
/// `out_channels` filters) or a pooling (where `out_channels == in_channels`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowGeometry {
    pub batch: usize,
    pub in_height: usize,
    pub in_width: usize,
    pub in_channels: usize,
    pub out_height: usize,
    pub out_width: usize,
    pub out_channels: usize,
    pub window_height: usize,
    pub window_width: usize,
    pub stride: usize,
    /// Rows of padding above the image (the window at output row 0 starts at -pad_top).
    pub pad_top: usize,
    /// Columns of padding left of the image.
    pub pad_left: usize,
}

fn output_size(input: usize, window: usize, stride: usize, padding: Padding) -> (usize, usize) {
    match padding {
        Padding::Same => {
            let out = input.div_ceil(stride);
            let total = ((out - 1) * stride + window).saturating_sub(input);
            (out, total / 2)
        }
        Padding::Valid => {
            assert!(window <= input, "window {window} larger than input {input}");
            ((input - window) / stride + 1, 0)
        }
    }
}

impl WindowGeometry {
    /// A square `window` with `stride` over `batch` images of [height, width, channels].
    pub fn new(
        batch: usize,
        [height, width, channels]: [usize; 3],
        out_channels: usize,
        window: usize,
        stride: usize,
        padding: Padding,
    ) -> Self {
        assert!(
            window >= 1 && stride >= 1,
            "window and stride must be positive"
        );
        let (out_height, pad_top) = output_size(height, window, stride, padding);
        let (out_width, pad_left) = output_size(width, window, stride, padding);
        Self {
            batch,
            in_height: height,
            in_width: width,
            in_channels: channels,
            out_height,
            out_width,
            out_channels,
            window_height: window,
            window_width: window,
            stride,
            pad_top,
            pad_left,
        }
    }

    /// Values of the input, batch * in_height * in_width * in_channels.
    pub fn input_len(&self) -> usize {
        self.batch * self.in_height * self.in_width * self.in_channels
    }

    /// Values of the output, batch * out_height * out_width * out_channels.
    pub fn output_len(&self) -> usize {
        self.batch * self.out_height * self.out_width * self.out_channels
    }

    /// Output pixels over the batch: the M of a convolution's implicit GEMM.
    pub fn output_pixels(&self) -> usize {
        self.batch * self.out_height * self.out_width
    }

    /// Values of a convolution filter, [window_height, window_width, in_channels, out_channels].
    pub fn filter_len(&self) -> usize {
        self.window_height * self.window_width * self.in_channels * self.out_channels
    }

    /// Multiply-adds of a convolution's forward pass, counted as two FLOPs each.
    pub fn conv_flops(&self) -> u64 {
        2 * (self.output_pixels() * self.window_height * self.window_width * self.in_channels)
            as u64
            * self.out_channels as u64
    }

    /// The input row and column a window tap reads, or None in the padding.
    pub fn input_position(
        &self,
        out_row: usize,
        out_col: usize,
        tap_row: usize,
        tap_col: usize,
    ) -> Option<(usize, usize)> {
        let row = (out_row * self.stride + tap_row).checked_sub(self.pad_top)?;
        let col = (out_col * self.stride + tap_col).checked_sub(self.pad_left)?;
        (row < self.in_height && col < self.in_width).then_some((row, col))
    }
}
