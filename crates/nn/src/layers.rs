//! The layer vocabulary the zoo's architectures are written in: sequences of layers,
//! branches concatenated on channels, flatten and dense layers. Activations are NHWC.

use crate::geometry::{Padding, WindowGeometry};
use crate::reference::LrnParams;

/// One layer of a model description (shapes follow from the input; see [`output_shape`]).
#[derive(Clone, Debug, PartialEq)]
pub enum LayerSpec {
    /// A conv module: conv (a window of [height, width]), optional bias and batch norm,
    /// then ReLU.
    Conv {
        filters: usize,
        kernel: [usize; 2],
        stride: usize,
        padding: Padding,
        /// Whether the conv adds a trained bias. Without one (Keras's conv2d_bn, before
        /// batch norm, whose shift makes a bias redundant) a zero bias is read and nothing
        /// is trained or counted for it.
        bias: bool,
        batch_norm: bool,
    },
    /// Max pooling over a square window.
    MaxPool {
        window: usize,
        stride: usize,
        padding: Padding,
    },
    /// Average pooling over a square window: the mean of the taps inside the image
    /// (TensorFlow's avg_pool; padding is not counted).
    AvgPool {
        window: usize,
        stride: usize,
        padding: Padding,
    },
    /// Local response normalization across channels.
    Lrn(LrnParams),
    /// Mean over all pixels of each channel: [h, w, c] -> [1, 1, c].
    GlobalMeanPool,
    /// [h, w, c] -> [1, 1, h * w * c]; a view, no kernel.
    Flatten,
    /// Fully connected with bias, optionally followed by ReLU (input flattened).
    Dense { units: usize, relu: bool },
    /// The final fully connected layer to one output per class, no activation.
    Logits,
    /// Inverted dropout of `rate` of the values in training; the identity in evaluation.
    Dropout { rate: f64 },
    /// Branches that all read this layer's input, their outputs concatenated on channels
    /// in order. Each branch must end in a layer that can write a channel slice (Conv,
    /// MaxPool, AvgPool, or a Concat, whose branches then write into the outer slice) and
    /// start with one that can add to its input's gradient (the same, or a Concat).
    Concat(Vec<Vec<LayerSpec>>),
}

impl LayerSpec {
    /// A square conv with SAME padding and a bias: the paper's small models' conv module.
    pub fn conv(filters: usize, kernel: usize, stride: usize, batch_norm: bool) -> Self {
        Self::Conv {
            filters,
            kernel: [kernel, kernel],
            stride,
            padding: Padding::Same,
            bias: true,
            batch_norm,
        }
    }

    /// Keras's `conv2d_bn` (Inception V3's every convolution): a conv of `[height,
    /// width]` without bias, then batch norm and ReLU.
    pub fn conv_bn(filters: usize, kernel: [usize; 2], stride: usize, padding: Padding) -> Self {
        Self::Conv {
            filters,
            kernel,
            stride,
            padding,
            bias: false,
            batch_norm: true,
        }
    }

    /// Max pooling with SAME padding.
    pub fn max_pool(window: usize, stride: usize) -> Self {
        Self::MaxPool {
            window,
            stride,
            padding: Padding::Same,
        }
    }

    /// Whether the layer can write its output into a channel slice of a concatenation.
    pub fn writes_slices(&self) -> bool {
        matches!(
            self,
            Self::Conv { .. } | Self::MaxPool { .. } | Self::AvgPool { .. } | Self::Concat(_)
        )
    }

    /// The geometry of a Conv or MaxPool layer over `batch` inputs of `shape` [h, w, c].
    pub fn window_geometry(&self, batch: usize, shape: [usize; 3]) -> Option<WindowGeometry> {
        match *self {
            Self::Conv {
                filters,
                kernel,
                stride,
                padding,
                ..
            } => Some(WindowGeometry::rectangle(
                batch, shape, filters, kernel, stride, padding,
            )),
            Self::MaxPool {
                window,
                stride,
                padding,
            }
            | Self::AvgPool {
                window,
                stride,
                padding,
            } => Some(WindowGeometry::new(
                batch, shape, shape[2], window, stride, padding,
            )),
            _ => None,
        }
    }
}

/// The [h, w, c] a layer makes of an input of `shape`.
pub fn output_shape(spec: &LayerSpec, shape: [usize; 3], classes: usize) -> [usize; 3] {
    match spec {
        LayerSpec::Conv { .. } | LayerSpec::MaxPool { .. } | LayerSpec::AvgPool { .. } => {
            let g = spec.window_geometry(1, shape).expect("a window layer");
            [g.out_height, g.out_width, g.out_channels]
        }
        LayerSpec::Lrn(_) | LayerSpec::Dropout { .. } => shape,
        LayerSpec::GlobalMeanPool => [1, 1, shape[2]],
        LayerSpec::Flatten => [1, 1, shape.iter().product()],
        LayerSpec::Dense { units, .. } => [1, 1, *units],
        LayerSpec::Logits => [1, 1, classes],
        LayerSpec::Concat(branches) => {
            let outputs: Vec<[usize; 3]> = branches
                .iter()
                .map(|b| sequence_output_shape(b, shape, classes))
                .collect();
            let [h, w, _] = outputs[0];
            assert!(
                outputs.iter().all(|o| o[0] == h && o[1] == w),
                "concatenated branches differ in size: {outputs:?}"
            );
            [h, w, outputs.iter().map(|o| o[2]).sum()]
        }
    }
}

pub fn sequence_output_shape(specs: &[LayerSpec], shape: [usize; 3], classes: usize) -> [usize; 3] {
    specs
        .iter()
        .fold(shape, |s, spec| output_shape(spec, s, classes))
}

/// Trainable parameters, counted as the paper counts them: weights and biases of conv
/// and dense layers. Batch-norm scales and shifts are returned apart, as the second value.
pub fn parameter_counts(specs: &[LayerSpec], shape: [usize; 3], classes: usize) -> (usize, usize) {
    let mut counted = 0;
    let mut batch_norm = 0;
    let mut shape = shape;
    for spec in specs {
        match spec {
            LayerSpec::Conv {
                filters,
                kernel: [kh, kw],
                bias,
                batch_norm: bn,
                ..
            } => {
                counted += kh * kw * shape[2] * filters + if *bias { *filters } else { 0 };
                if *bn {
                    batch_norm += 2 * filters;
                }
            }
            LayerSpec::Dense { units, .. } => {
                counted += shape.iter().product::<usize>() * units + units;
            }
            LayerSpec::Logits => counted += shape.iter().product::<usize>() * classes + classes,
            LayerSpec::Concat(branches) => {
                for branch in branches {
                    let (c, b) = parameter_counts(branch, shape, classes);
                    counted += c;
                    batch_norm += b;
                }
            }
            _ => {}
        }
        shape = output_shape(spec, shape, classes);
    }
    (counted, batch_norm)
}

/// Forward FLOPs per image of the conv and dense layers (a multiply-add is two);
/// pooling, normalization and activations are not counted.
pub fn forward_flops_per_image(specs: &[LayerSpec], shape: [usize; 3], classes: usize) -> u64 {
    let mut flops = 0;
    let mut shape = shape;
    for spec in specs {
        flops += match spec {
            LayerSpec::Conv { .. } => spec.window_geometry(1, shape).expect("conv").conv_flops(),
            LayerSpec::Dense { units, .. } => 2 * (shape.iter().product::<usize>() * units) as u64,
            LayerSpec::Logits => 2 * (shape.iter().product::<usize>() * classes) as u64,
            LayerSpec::Concat(branches) => branches
                .iter()
                .map(|b| forward_flops_per_image(b, shape, classes))
                .sum(),
            _ => 0,
        };
        shape = output_shape(spec, shape, classes);
    }
    flops
}
