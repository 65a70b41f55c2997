//! The layer vocabulary the zoo's architectures are written in: sequences of layers,
//! branches concatenated on channels, flatten and dense layers. Activations are NHWC.

use crate::geometry::{Padding, WindowGeometry};
use crate::reference::LrnParams;

/// One layer of a model description (shapes follow from the input; see [`output_shape`]).
#[derive(Clone, Debug, PartialEq)]
pub enum LayerSpec {
    /// A conv module: conv (SAME padding) with bias, optional batch norm, then ReLU.
    Conv {
        filters: usize,
        kernel: usize,
        stride: usize,
        batch_norm: bool,
    },
    /// Max pooling, SAME padding.
    MaxPool { window: usize, stride: usize },
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
    /// Branches that all read this layer's input, their outputs concatenated on channels
    /// in order. Each branch must end in a layer that can write a channel slice (Conv, MaxPool).
    Concat(Vec<Vec<LayerSpec>>),
}

impl LayerSpec {
    pub fn conv(filters: usize, kernel: usize, stride: usize, batch_norm: bool) -> Self {
        Self::Conv {
            filters,
            kernel,
            stride,
            batch_norm,
        }
    }

    /// The geometry of a Conv or MaxPool layer over `batch` inputs of `shape` [h, w, c].
    pub fn window_geometry(&self, batch: usize, shape: [usize; 3]) -> Option<WindowGeometry> {
        match *self {
            Self::Conv {
                filters,
                kernel,
                stride,
                ..
            } => Some(WindowGeometry::new(
                batch,
                shape,
                filters,
                kernel,
                stride,
                Padding::Same,
            )),
            Self::MaxPool { window, stride } => Some(WindowGeometry::new(
                batch,
                shape,
                shape[2],
                window,
                stride,
                Padding::Same,
            )),
            _ => None,
        }
    }
}

/// The [h, w, c] a layer makes of an input of `shape`.
pub fn output_shape(spec: &LayerSpec, shape: [usize; 3], classes: usize) -> [usize; 3] {
    match spec {
        LayerSpec::Conv { .. } | LayerSpec::MaxPool { .. } => {
            let g = spec.window_geometry(1, shape).expect("a window layer");
            [g.out_height, g.out_width, g.out_channels]
        }
        LayerSpec::Lrn(_) => shape,
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
                kernel,
                batch_norm: bn,
                ..
            } => {
                counted += kernel * kernel * shape[2] * filters + filters;
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
