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
        shape: [usize; 3],
        out_channels: usize,
        window: usize,
        stride: usize,
        padding: Padding,
    ) -> Self {
        Self::rectangle(
            batch,
            shape,
            out_channels,
            [window, window],
            stride,
            padding,
        )
    }

    /// A window of [height, width] (Inception V3's 1x7, 7x1, 1x3 and 3x1) with `stride`
    /// over `batch` images of [height, width, channels]; SAME pads each axis by its own
    /// window.
    pub fn rectangle(
        batch: usize,
        [height, width, channels]: [usize; 3],
        out_channels: usize,
        [window_height, window_width]: [usize; 2],
        stride: usize,
        padding: Padding,
    ) -> Self {
        assert!(
            window_height >= 1 && window_width >= 1 && stride >= 1,
            "window and stride must be positive"
        );
        let (out_height, pad_top) = output_size(height, window_height, stride, padding);
        let (out_width, pad_left) = output_size(width, window_width, stride, padding);
        Self {
            batch,
            in_height: height,
            in_width: width,
            in_channels: channels,
            out_height,
            out_width,
            out_channels,
            window_height,
            window_width,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_pads_each_axis_by_its_own_window() {
        let wide = WindowGeometry::rectangle(1, [17, 17, 8], 8, [1, 7], 1, Padding::Same);
        assert_eq!(
            (wide.out_height, wide.out_width, wide.pad_top, wide.pad_left),
            (17, 17, 0, 3)
        );
        let tall = WindowGeometry::rectangle(1, [17, 17, 8], 8, [7, 1], 1, Padding::Same);
        assert_eq!(
            (tall.out_height, tall.out_width, tall.pad_top, tall.pad_left),
            (17, 17, 3, 0)
        );
        // Inception V3's reductions: 3x3 stride 2 VALID, 35 -> 17 and 17 -> 8.
        let reduce = WindowGeometry::new(1, [35, 35, 8], 8, 3, 2, Padding::Valid);
        assert_eq!((reduce.out_height, reduce.out_width), (17, 17));
        let reduce = WindowGeometry::new(1, [17, 17, 8], 8, 3, 2, Padding::Valid);
        assert_eq!((reduce.out_height, reduce.out_width), (8, 8));
        assert_eq!(wide.filter_len(), 7 * 8 * 8);
    }
}
